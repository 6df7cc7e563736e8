"""What `make run` does on first start: the platform, an operator and the demo tenant, once."""

import re
from io import StringIO

from django.core.management import call_command
from django.test import Client

from apps.accounts.models import Tenant


def bootstrap() -> str:
    out = StringIO()
    call_command("bootstrap", "--port", "8000", stdout=out)
    return out.getvalue()


def test_bootstrap_prints_logins_once_and_they_work(db):
    first = bootstrap()
    logins = re.findall(r"New (.+?) login \(shown once\): (\S+)  e-mail (\S+)  password (\S+)", first)
    assert [(where, url) for where, url, _, _ in logins] == [
        ("platform", "http://localhost:8000/admin/"),
        ("tenant demo", "http://demo.localhost:8000/login/"),  # the tenant's portal
    ]
    assert Tenant.objects.get(schema_name="demo").get_primary_domain().domain == "demo.localhost"
    for where, url, email, password in logins:
        host = url.split("/")[2].split(":")[0]
        sign_in, home = ("/admin/login/", "/admin/") if where == "platform" else ("/login/", "/")
        assert url.endswith(sign_in if where != "platform" else "/admin/")
        client = Client()
        response = client.post(sign_in, {"username": email, "password": password}, headers={"host": host})
        assert response.status_code == 302, f"cannot log in at {url}"
        assert client.get(home, headers={"host": host}).status_code == 200

    second = bootstrap()
    assert "password" not in second
    assert Tenant.objects.filter(schema_name="demo").count() == 1
