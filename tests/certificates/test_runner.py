"""The parts of the certbot runner that need no CA: reading failures, redaction, confinement."""

import pytest

from apps.certificates.acme.runner import CertbotError, _write_tree, failure_reason, redact

CA_FAILURE = """Saving debug log to /tmp/x/letsencrypt.log
Requesting a certificate for example.test
Certbot failed to authenticate some domains (authenticator: dns-rfc2136). \
The Certificate Authority reported these problems:
  Domain: example.test
  Type:   dns
  Detail: DNS problem: NXDOMAIN looking up TXT for _acme-challenge.example.test - check that a DNS record exists

Hint: The Certificate Authority failed to verify the DNS TXT records created by --dns-rfc2136.
Some challenges have failed.
Ask for help or search for solutions at https://community.letsencrypt.org. See the logfile for details.
"""

UNEXPECTED = """Saving debug log to /tmp/x/letsencrypt.log
An unexpected error occurred:
externalAccountRequired :: The server requires external account binding
Ask for help or search for solutions at https://community.letsencrypt.org. See the logfile for details.
"""


def test_reason_is_the_cas_own_words_in_one_line():
    assert failure_reason(CA_FAILURE) == (
        "example.test: DNS problem: NXDOMAIN looking up TXT for _acme-challenge.example.test - "
        "check that a DNS record exists"
    )
    assert failure_reason(UNEXPECTED) == "externalAccountRequired :: The server requires external account binding"
    assert failure_reason("") == "certbot failed without saying why"


def test_secrets_are_redacted_longest_first():
    text = "token=abcd1234 key=abcd1234efgh short=ab"
    assert redact(text, ["abcd1234", "abcd1234efgh", "ab"]) == "token=[redacted] key=[redacted] short=ab"


def test_bad_nonce_is_recognised():
    assert CertbotError("x", "JWS has an invalid anti-replay nonce").bad_nonce
    assert CertbotError("urn:ietf:params:acme:error:badNonce").bad_nonce
    assert not CertbotError("DNS problem").bad_nonce


def test_account_files_cannot_escape_the_config_folder(tmp_path):
    _write_tree(tmp_path, {"accounts/ca/dir/1/regr.json": "{}"})
    assert (tmp_path / "accounts/ca/dir/1/regr.json").stat().st_mode & 0o777 == 0o600
    with pytest.raises(CertbotError, match="leaves the config folder"):
        _write_tree(tmp_path, {"../evil": "x"})
