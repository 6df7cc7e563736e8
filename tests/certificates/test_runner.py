"""The parts of the certbot runner that need no CA: reading failures, redaction, confinement."""

import json
import sys
import time
from pathlib import Path

import pytest

from apps.certificates.acme.runner import CertbotError, _write_tree, failure_reason
from apps.certificates.untrusted import redact

ROOT = Path(__file__).resolve().parents[2]

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


@pytest.fixture(params=["fork", "spawn"])
def launch_mode(request, settings, monkeypatch):
    """Run the test with both launchers; the certbot entry point is swapped for a probe."""
    from apps.certificates.acme import launch

    settings.CERTMATE_CERTBOT_LAUNCH = request.param
    probe = {"entry": "print_env"}
    real_fork, real_spawn = launch.fork, launch.spawn

    def fork(args, **kwargs):
        return real_fork(args, entry=f"tests.certificates.probes:{probe['entry']}", path=[str(ROOT)], **kwargs)

    def spawn(args, **kwargs):
        code = (
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            f"from tests.certificates.probes import {probe['entry']} as f; sys.exit(f([]))"
        )
        monkeypatch.setattr(launch, "SPAWN_COMMAND", [sys.executable, "-c", code])
        return real_spawn(args, **kwargs)

    monkeypatch.setattr(launch, "fork", fork)
    monkeypatch.setattr(launch, "spawn", spawn)
    return probe


def test_certbot_gets_a_clean_environment_without_the_workers_secrets(tmp_path, monkeypatch, launch_mode):
    from apps.certificates.acme.runner import AcmeAccount, _run

    monkeypatch.setenv("CERTMATE_ENCRYPTION_KEYS", "worker-secret-key")
    monkeypatch.setenv("DATABASE_URL", "postgresql://secret@db/certmate")
    account = AcmeAccount(directory_url="https://ca.test/dir", email="a@b.test", trust_bundle="PEM")
    output = _run([], tmp_path, account, env={"EXTRA": "from-the-provider"}, timeout=30, secrets=())
    env = json.loads(output.strip().splitlines()[-1])
    assert "CERTMATE_ENCRYPTION_KEYS" not in env and "DATABASE_URL" not in env
    assert env["EXTRA"] == "from-the-provider"
    assert env["HOME"] == str(tmp_path)
    assert env["REQUESTS_CA_BUNDLE"] == str(tmp_path / "trust.pem")
    assert (tmp_path / "trust.pem").read_text().endswith("PEM"), "the private roots come on top of certifi's"


def test_a_run_past_its_timeout_is_killed_with_a_clear_reason(tmp_path, launch_mode):
    from apps.certificates.acme.runner import AcmeAccount, _run

    launch_mode["entry"] = "sleep_long"
    account = AcmeAccount(directory_url="https://ca.test/dir", email="a@b.test")
    started = time.monotonic()
    with pytest.raises(CertbotError) as exc:
        _run([], tmp_path, account, env={}, timeout=2, secrets=())
    assert time.monotonic() - started < 15
    assert exc.value.timed_out
    assert exc.value.reason == "certbot did not finish within 2 s and was stopped"
    assert "started" in exc.value.output


def test_the_kept_output_names_no_log_file_that_is_gone(tmp_path, launch_mode):
    """certbot names its log file in the run's folder, removed with it: the kept output says so instead."""
    from apps.certificates.acme.runner import LOG_NOT_KEPT, AcmeAccount, _run

    launch_mode["entry"] = "fail_like_certbot"
    account = AcmeAccount(directory_url="https://ca.test/dir", email="a@b.test")
    with pytest.raises(CertbotError) as exc:
        _run([], tmp_path, account, env={}, timeout=30, secrets=())
    output = exc.value.output
    assert "letsencrypt.log" not in output and "Saving debug log" not in output and str(tmp_path) not in output
    assert output.splitlines()[-1] == (
        f"Ask for help or search for solutions at https://community.letsencrypt.org. {LOG_NOT_KEPT}"
    )
    assert "Encountered error adding TXT record: The peer didn't like the signature we sent" in output
    assert exc.value.reason == "adding TXT record: The peer didn't like the signature we sent"
