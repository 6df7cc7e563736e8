"""A person signing in: certmate through a Django test client on the tenant's host, the identity
provider through ``requests`` (its sign-in form, its redirects), the way a browser goes back and forth.
One Browser per tenant host: a real browser keeps each host's cookies apart, the test client does not."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import requests
from django.test import Client

from tests.accounts.conftest import IDP_PASSWORD

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    def __init__(self, host: str, ca_bundle) -> None:
        self.client = Client()
        self.host = host
        self.idp = requests.Session()
        self.idp.verify = str(ca_bundle)
        self.idp.trust_env = False

    def certmate(self, url: str):
        """GET a certmate URL (absolute or a path) on the tenant's host."""
        parts = urlsplit(url)
        assert parts.hostname in (None, self.host), f"certmate sent the browser to {url}"
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        return self.client.get(path, headers={"host": self.host})

    def start(self, next_url: str = "/admin/") -> str:
        """Click "Sign in with …": the provider's authorization URL certmate sends the browser to."""
        response = self.client.get("/sso/login/", {"next": next_url}, headers={"host": self.host})
        assert response.status_code == 302, response.content[:500]
        return response["Location"]

    def at_provider(self, url: str, username: str, password: str = IDP_PASSWORD) -> str:
        """Follow the provider's pages from ``url``, signing in on its form: the URL it finally sends
        the browser to (certmate's callback with a code, or with an error)."""
        for _hop in range(10):
            response = self.idp.get(url, allow_redirects=False, timeout=30)
            if response.status_code in (301, 302, 303):
                url = urljoin(url, response.headers["Location"])
                if urlsplit(url).hostname == self.host:
                    return url
                continue
            assert response.status_code == 200, f"{url}: {response.status_code}"
            token = CSRF_FIELD.search(response.text)
            assert token, "the provider's sign-in form"
            posted = self.idp.post(
                url,
                data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
                headers={"Referer": url},
                allow_redirects=False,
                timeout=30,
            )
            assert posted.status_code == 302, "signed in at the provider"
            url = urljoin(url, posted.headers["Location"])
        raise AssertionError("the provider never sent the browser back")

    def sign_in(self, username: str, next_url: str = "/admin/"):
        """The whole round: certmate's answer to the provider's redirect back."""
        return self.certmate(self.at_provider(self.start(next_url), username))

    def signed_in_email(self) -> str | None:
        """Who the tenant's admin sees signed in, if anyone."""
        response = self.client.get("/admin/", headers={"host": self.host})
        return response.wsgi_request.user.email if response.status_code == 200 else None
