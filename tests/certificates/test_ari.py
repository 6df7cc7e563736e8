"""ARI's pure parts: the CertID, where in a window to renew, and what a CA's answers may and may not say."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apps.certificates.acme.ari import AriError, cert_id, retry_after_parse, window_parse
from apps.certificates.acme.directory import MAX_PROFILES, DirectoryError, directory_parse
from apps.certificates.acme.runner import CertbotError, _profile_args, _replaces_env
from apps.certificates.services.due import window_renew_at

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ORDERHOOKS = Path(__file__).resolve().parents[2] / "apps/certificates/acme/orderhooks.py"


def pem(**options) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(options["serial"])
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=90))
    )
    if options.get("key_identifier") is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(options["key_identifier"], None, None), False)
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.PEM).decode()


# RFC 9773 section 4.1's example: this keyIdentifier and serial 0x87654321 (DER 00 87 65 43 21).
RFC_KEY_IDENTIFIER = bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")


def test_cert_id_is_the_rfcs_example():
    assert cert_id(pem(serial=0x87654321, key_identifier=RFC_KEY_IDENTIFIER)) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


@pytest.mark.parametrize(
    ("serial", "encoded"),
    [(0x7F, "fw"), (0x80, "AIA"), (0x0102, "AQI"), (0xFFFF, "AP__")],  # a zero byte only before a set high bit
)
def test_cert_id_serial_is_the_der_integers_content(serial, encoded):
    assert cert_id(pem(serial=serial, key_identifier=b"\x01")) == f"AQ.{encoded}"


def test_a_certificate_without_a_key_identifier_has_no_cert_id():
    with pytest.raises(ValueError, match="Authority Key Identifier"):
        cert_id(pem(serial=5, key_identifier=None))


def test_renewal_point_is_now_once_the_window_began_else_a_stable_point_inside_it():
    start, end = NOW + timedelta(days=10), NOW + timedelta(days=12)
    assert window_renew_at(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1), now=NOW, seed="a") == NOW
    assert window_renew_at(start=NOW - timedelta(days=2), end=NOW - timedelta(days=1), now=NOW, seed="a") == NOW
    points = {window_renew_at(start=start, end=end, now=NOW, seed=f"cert:{n}") for n in range(50)}
    assert all(start <= point <= end for point in points)
    assert len(points) == 50, "spread over the window"
    again = window_renew_at(start=start, end=end, now=NOW + timedelta(days=1), seed="cert:7")
    assert again == window_renew_at(start=start, end=end, now=NOW, seed="cert:7"), "the same point when computed again"


def window(start: str, end: str) -> bytes:
    return json.dumps({"suggestedWindow": {"start": start, "end": end}, "explanationURL": "https://x"}).encode()


def test_a_window_in_rfc3339_is_read():
    start, end = window_parse(window("2026-03-02T00:00:00Z", "2026-03-03T00:00:00.123456789+01:00"), now=NOW)
    assert start == datetime(2026, 3, 2, tzinfo=UTC)
    assert end == datetime(2026, 3, 2, 23, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>maintenance</html>", "not JSON"),
        (b"[]", "no suggestedWindow"),
        (json.dumps({"suggestedWindow": "soon"}).encode(), "no suggestedWindow"),
        (window("2026-03-03T00:00:00Z", "2026-03-02T00:00:00Z"), "ends before it starts"),
        (window("2026-03-02T00:00:00", "2026-03-03T00:00:00"), "no time zone"),
        (window("2026-03-02", "2026-03-03T00:00:00Z"), "not an RFC 3339 time"),
        (json.dumps({"suggestedWindow": {"start": 1, "end": 2}}).encode(), "not an RFC 3339 time"),
        (window("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z" + " " * 40), "not an RFC 3339 time"),
        (window("2026-03-02T00:00:00Z", "2046-03-03T00:00:00Z"), "ten years"),
        (b"[" * 16000, "not JSON"),  # within the size bound, deeper than the parser goes
    ],
)
def test_a_window_that_is_not_one_is_refused_with_the_reason(body, why):
    with pytest.raises(AriError, match=why) as refused:
        window_parse(body, now=NOW)
    assert "maintenance" not in refused.value.message


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("", None), ("120", 120), ("99999999", 86400), ("Sun, 01 Mar 2026 13:00:00 GMT", 3600),
     ("Sun, 01 Mar 2026 11:00:00 GMT", 0), ("tomorrow", None), ("1" * 200, 86400)],
)  # fmt: skip
def test_retry_after_is_read_and_bounded(value, seconds):
    delay = retry_after_parse(value, now=NOW)
    assert (delay.total_seconds() if delay is not None else None) == seconds


DIRECTORY = {"newNonce": "https://ca.test/n", "newAccount": "https://ca.test/a", "newOrder": "https://ca.test/o"}


def directory(**extra) -> bytes:
    return json.dumps({**DIRECTORY, **extra}).encode()


def test_a_directory_offers_profiles_and_ari():
    offered = {"classic": "90 days", "shortlived": "6 days\x1b[31m"}
    found = directory_parse(directory(meta={"profiles": offered}, renewalInfo="https://ca.test/renewal-info/"))
    assert found.profiles == {"classic": "90 days", "shortlived": "6 days[31m"}
    assert found.renewal_info_url == "https://ca.test/renewal-info" and found.ignored == ()
    assert directory_parse(directory()) == directory_parse(directory(meta={"website": "x"}))


def test_what_a_directory_says_is_bounded_and_checked():
    profiles = {"bad name!": "", "": "", "a" * 65: ""} | {f"p{n}": "x" * 1000 for n in range(MAX_PROFILES + 5)}
    found = directory_parse(directory(meta={"profiles": profiles}, renewalInfo="http://ca.test/ari"))
    assert len(found.profiles) == MAX_PROFILES and all(len(text) <= 200 for text in found.profiles.values())
    assert found.profiles.keys() == {f"p{n}" for n in range(MAX_PROFILES)} and found.renewal_info_url == ""
    assert any("renewalInfo" in reason for reason in found.ignored)
    for renewal_info in (
        "https://ca.test/ari?x=",
        "https://ca.test/ari#x",
        ["https://ca.test"],
        "https://" + "a" * 600,
    ):
        assert directory_parse(directory(renewalInfo=renewal_info)).renewal_info_url == ""
    assert directory_parse(directory(meta={"profiles": ["classic"]})).profiles == {}


@pytest.mark.parametrize("body", [b"not json", b"[]", json.dumps({"newNonce": "x"}).encode(), b'{"a":' * 12000])
def test_a_body_that_is_no_directory_is_refused(body):
    with pytest.raises(DirectoryError) as refused:
        directory_parse(body)
    assert refused.value.code == "ca_unreachable"


def test_the_profile_and_replaces_reach_certbot_only_when_well_formed():
    assert _profile_args("shortlived") == ["--required-profile=shortlived"] and _profile_args("") == []
    assert _replaces_env("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE") == {
        "CERTMATE_ACME_REPLACES": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
    }
    for bad_profile in ("--server=https://evil", "a b", "x" * 65):
        with pytest.raises(CertbotError):
            _profile_args(bad_profile)
    for bad_id in ("no-dot", "a.b\nc", "a.b.c"):
        with pytest.raises(CertbotError):
            _replaces_env(bad_id)


CHILD = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("orderhooks", sys.argv[1])
hooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hooks)
installed = hooks.install_from_environment()
from acme import messages
order = messages.NewOrder(identifiers=(messages.Identifier(typ=messages.IDENTIFIER_FQDN, value="a.test"),))
print(json.dumps({"installed": installed, "left": "CERTMATE_ACME_REPLACES" in os.environ,
                  "order": json.loads(order.json_dumps())}))
"""


@pytest.mark.parametrize(("value", "sent"), [("AQ.AIdlQyE", True), ("not a cert id", False), ("", False)])
def test_the_order_hook_adds_replaces_to_the_new_order(value, sent):
    env = {"PATH": "/usr/bin:/bin", "CERTMATE_ACME_REPLACES": value}
    run = subprocess.run([sys.executable, "-c", CHILD, str(ORDERHOOKS)], env=env, capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    result = json.loads(run.stdout)
    assert result["installed"] is sent and result["left"] is False
    assert result["order"].get("replaces") == (value if sent else None)
