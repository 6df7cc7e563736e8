"""Error pages and error e-mails never show a secret: not what was posted (under any field name), not
secret-looking values in the query, cookies, headers or local variables, not certmate's keys, and not
the password inside a database, broker or cache URL — with debug pages on, where one was shown."""

from __future__ import annotations

import sys

import pytest
from django.test import RequestFactory, override_settings
from django.views.debug import ExceptionReporter, get_exception_reporter_class, technical_500_response

from certmate.error_reports import SecretHidingReporter

HMAC = "eab-hmac-Zx81kq0PzP2nN5tUvW7y"
FREE_TEXT = "typed-into-a-plain-field-5c1f"  # a secret in a field whose name says nothing
TWO_LINES = "first-line-of-a-pem-71c2\nsecond-line-of-it"  # repr() writes the newline as \n
PASSWORD = "hunter2-but-longer-0d9e"
QUERY_TOKEN = "query-token-77aa1c"
SESSION = "sessionkey-abcdef0123456789"
BEARER = "cm_bearer-secret-9f8e7d"
TSIG = "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cw=="
DB_PASSWORD = "db-pass-4417"
BROKER_PASSWORD = "broker-pass-8812"
FERNET = "jpGquv5-D3mfBt9XQscyaiQcL6B0waXPV98JkF8-cIM="
SECRETS = [
    HMAC,
    FREE_TEXT,
    "first-line-of-a-pem-71c2",
    PASSWORD,
    QUERY_TOKEN,
    SESSION,
    BEARER,
    TSIG,
    DB_PASSWORD,
    BROKER_PASSWORD,
    FERNET,
]


def failing_save(request):
    """Stands for an admin save that breaks with the form's values in its local variables."""
    value = request.POST["notes"]
    bundle = request.POST["trust_bundle"]
    credentials = {"tsig_secret": TSIG, "nameserver": "192.0.2.1"}
    eab_hmac_key = request.POST["eab_hmac_key"]
    database = f"postgres://certmate:{DB_PASSWORD}@db.internal:5432/certmate"
    raise ValueError(
        f"could not save {value!r} for {credentials['nameserver']} at {database} ({len(eab_hmac_key)}, {bundle!r})"
    )


@pytest.fixture
def error_report():
    request = RequestFactory().post(
        f"/admin/certificates/caaccount/add/?token={QUERY_TOKEN}&page=2",
        {"name": "digicert", "eab_hmac_key": HMAC, "notes": FREE_TEXT, "password": PASSWORD, "trust_bundle": TWO_LINES},
        headers={"authorization": f"Bearer {BEARER}", "cookie": f"sessionid={SESSION}"},
        # runserver copies the process environment into every request's META
        DATABASE_URL=f"postgres://certmate:{DB_PASSWORD}@db.internal:5432/certmate",
    )
    try:
        failing_save(request)
    except ValueError:
        exc_info = sys.exc_info()
    return request, exc_info


SETTINGS = {
    "DEBUG": True,
    "CERTMATE_ENCRYPTION_KEYS": [FERNET],
    "CELERY_BROKER_URL": f"redis://:{BROKER_PASSWORD}@redis.internal:6379/0",
}


@override_settings(**SETTINGS)
def test_the_debug_page_shows_no_secret_but_still_the_error(error_report):
    request, exc_info = error_report
    page = technical_500_response(request, *exc_info).content.decode()
    assert [secret for secret in SECRETS if secret in page] == []
    # Still a useful page: the error, where it happened, and which fields were posted.
    assert "ValueError" in page and "failing_save" in page
    assert "eab_hmac_key" in page and "notes" in page and "page" in page
    assert "db.internal" in page  # a URL keeps its host, loses its password


@override_settings(**SETTINGS)
@pytest.mark.parametrize("debug", [True, False])
def test_error_emails_show_no_secret(error_report, debug):
    request, exc_info = error_report
    with override_settings(DEBUG=debug):
        text = SecretHidingReporter(request, *exc_info, is_email=True).get_traceback_text()
    assert [secret for secret in SECRETS if secret in text] == []
    assert "ValueError" in text


def test_it_is_the_reporter_django_uses(error_report):
    request, exc_info = error_report
    assert get_exception_reporter_class(request) is SecretHidingReporter
    assert isinstance(SecretHidingReporter(request, *exc_info), ExceptionReporter)
