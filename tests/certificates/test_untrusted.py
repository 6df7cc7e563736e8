"""certbot's and its plugins' output is untrusted text: what a tenant sees cannot carry a host file's
content or a secret of the platform, and the line every user sees is one bounded line."""

from __future__ import annotations

import pytest

from apps.certificates import untrusted
from apps.certificates.acme.runner import failure_reason

FILE_LINE = "Zq8vN3xT0pLmR7wKc2YhJ5sD9fGbA1eU4iOyW6nM"

LEGO = f"""Saving debug log to /tmp/certmate-certbot-x/logs/letsencrypt.log
Requesting a certificate for www.alpha.test
Error while running dns-multi: edgedns: unable to load config from environment or .edgerc file: \
loading config file: key-value delimiter not found: {FILE_LINE}
Ask for help or search for solutions at https://community.letsencrypt.org.
"""
CONFIGPARSER = f"""An unexpected error occurred:
File contains no section headers.
file: '/srv/certmate/var/secret_key', line: 1
'{FILE_LINE}\\n'
"""


@pytest.mark.parametrize("output", [LEGO, CONFIGPARSER], ids=["lego", "configparser"])
def test_what_a_parser_quotes_from_a_file_is_withheld(output):
    reason = untrusted.one_line(failure_reason(untrusted.clean_output(output)))
    kept = untrusted.clean_output(output)
    assert FILE_LINE not in reason and FILE_LINE not in kept
    assert "[withheld]" in kept
    assert kept.splitlines()[:2] == output.splitlines()[:2]  # the rest stays readable


def test_the_lego_reason_still_says_what_went_wrong():
    reason = untrusted.one_line(failure_reason(untrusted.clean_output(LEGO)))
    assert reason == "dns-multi: edgedns: unable to load config from environment or .edgerc file: [withheld]"


def test_the_platforms_secrets_are_redacted(settings):
    settings.SECRET_KEY = "django-secret-key-of-the-platform-0123456789"
    settings.CERTMATE_ENCRYPTION_KEYS = ["fernet-key-one-AAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "fernet-key-two-BBBBBBBBBB="]
    settings.CELERY_BROKER_URL = "redis://:broker-password-99@redis:6379/0"
    settings.DATABASES = {**settings.DATABASES, "default": {**settings.DATABASES["default"], "PASSWORD": "db-pass-42"}}
    leaked = " ".join(
        ("Detail: key", settings.SECRET_KEY, *settings.CERTMATE_ENCRYPTION_KEYS, "broker-password-99", "db-pass-42")
    )
    for text in (untrusted.clean_output(leaked), untrusted.one_line(leaked)):
        for secret in ("django-secret-key", "fernet-key-one", "fernet-key-two", "broker-password-99", "db-pass-42"):
            assert secret not in text


def test_the_tenants_own_secrets_are_redacted():
    text = "Error: token tenant-token-1234 refused"
    assert untrusted.one_line(text, secrets=["tenant-token-1234"]) == "Error: token [redacted] refused"


def test_the_reason_is_one_bounded_line_without_control_characters():
    noisy = "Detail: \x1b[31mred\x1b[0m\r\nsecond line\x00 " + "x" * 1000
    reason = untrusted.one_line(noisy)
    assert len(reason) <= untrusted.MAX_REASON_CHARS and reason.endswith("…")
    assert "\n" not in reason and "\r" not in reason and "\x1b" not in reason and "\x00" not in reason


def test_the_output_is_bounded_and_keeps_its_end():
    output = "line\n" * 50_000 + "the end: why it failed"
    kept = untrusted.clean_output(output)
    assert len(kept) <= untrusted.MAX_OUTPUT_CHARS + 100
    assert kept.endswith("the end: why it failed") and "characters left out" in kept
