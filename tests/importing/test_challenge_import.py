"""CertMate's challenge comes over: a certificate CertMate orders with http-01 (its metadata.json, else
its domains entry, else the top-level challenge_type) orders with http-01 here, except a wildcard; the
report accounts for the setting and for every value that could not be kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import Certificate, CertificateKind
from apps.importing.models import ImportedObject
from apps.importing.report import Outcome, Report
from certmate.audit.models import AuditEvent
from tests.importing.conftest import run_import

pytestmark = pytest.mark.django_db
DOMAINS = ("alpha.test", "shop.beta.test", "legacy.beta.test", "eab.alpha.test", "*.wild.alpha.test")


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def _metadata(root: Path, domain: str, value: str | None) -> None:
    """Set (or with None drop) the challenge_type CertMate wrote into the certificate's metadata.json."""
    _edit(root / "certificates" / domain / "metadata.json",
          lambda d: d.update(challenge_type=value) if value else d.pop("challenge_type"))  # fmt: skip


def _settings(root: Path, change) -> None:
    _edit(root / "data" / "settings.json", change)


def _entry(data: dict, domain: str) -> dict:
    return next(e for e in data["domains"] if isinstance(e, dict) and e["domain"] == domain)


def _challenges(tenant) -> dict[str, str]:
    with tenant_context(tenant):
        servers = Certificate.objects.filter(kind=CertificateKind.SERVER)
        return dict(servers.values_list("identifier", "challenge"))


def _entries(report: Report, outcome: Outcome) -> dict[str, str]:
    return {e.item: e.reason for e in report.entries if e.outcome == outcome}


def _about(report: Report, domain: str) -> list:
    return [e for e in report.entries if f"certificates/{domain}/" in e.item]


def test_http01_from_the_certificates_metadata(tenant_a, data_copy):
    _metadata(data_copy, "shop.beta.test", "http-01")
    report = run_import(tenant_a, path=data_copy)
    challenges = _challenges(tenant_a)
    assert challenges["shop.beta.test"] == "http-01"
    assert {challenges[d] for d in DOMAINS if d != "shop.beta.test"} == {"dns-01"}
    reason = _entries(report, Outcome.IMPORTED)["certificates/shop.beta.test/ (certificate shop.beta.test)"]
    assert "ordered with http-01 as in CertMate" in reason


def test_http01_from_the_domains_entry_needs_no_dns_account(tenant_a, data_copy):
    _metadata(data_copy, "legacy.beta.test", None)  # what CertMate wrote before it kept the challenge

    def http01_without_dns(data):
        entry = _entry(data, "legacy.beta.test")
        entry.update(challenge_type="http-01", dns_provider="", dns_account_id="gone")

    _settings(data_copy, http01_without_dns)
    report = run_import(tenant_a, path=data_copy)
    assert _challenges(tenant_a)["legacy.beta.test"] == "http-01"
    about = _about(report, "legacy.beta.test")
    assert [e for e in about if e.outcome == Outcome.ATTENTION] == []
    folder = next(e for e in about if e.item.endswith("(certificate legacy.beta.test)"))
    assert folder.outcome == Outcome.IMPORTED and "DNS" not in folder.reason


def test_http01_from_the_top_level_setting_except_wildcards(tenant_a, data_copy):
    for domain in DOMAINS:
        _metadata(data_copy, domain, None)
    _settings(data_copy, lambda d: d.update(challenge_type="http-01"))
    report = run_import(tenant_a, path=data_copy)
    assert _challenges(tenant_a) == {
        "shop.beta.test": "http-01",
        "legacy.beta.test": "http-01",
        "eab.alpha.test": "http-01",
        "alpha.test": "dns-01",  # its SAN *.alpha.test
        "*.wild.alpha.test": "dns-01",
    }
    imported = _entries(report, Outcome.IMPORTED)
    assert imported["settings.json: challenge_type"] == "http-01: applied to each certificate without its own"
    attention = _entries(report, Outcome.ATTENTION)
    assert (
        "*.alpha.test is a wildcard name" in attention["certificates/alpha.test/ (certificate alpha.test): challenge"]
    )
    wild = attention["certificates/*.wild.alpha.test/ (certificate *.wild.alpha.test): challenge"]
    assert "from the top-level challenge_type" in wild and "dns-01" in wild
    assert not [item for item in attention if "shop.beta.test" in item or "eab.alpha.test" in item]


def test_a_wildcard_in_http01_metadata_stays_dns01_with_attention(tenant_a, data_copy):
    _metadata(data_copy, "*.wild.alpha.test", "http-01")
    report = run_import(tenant_a, path=data_copy)
    assert _challenges(tenant_a)["*.wild.alpha.test"] == "dns-01"
    reason = _entries(report, Outcome.ATTENTION)[
        "certificates/*.wild.alpha.test/ (certificate *.wild.alpha.test): challenge"
    ]
    assert "from its metadata.json" in reason and "*.wild.alpha.test is a wildcard name" in reason
    # The certificate itself and its versions still come over.
    assert _entries(report, Outcome.IMPORTED)["certificates/*.wild.alpha.test/ (certificate *.wild.alpha.test)"]


def test_unknown_values_are_named_for_attention(tenant_a, data_copy):
    _metadata(data_copy, "shop.beta.test", "tls-alpn-01")
    _settings(data_copy, lambda d: d.update(challenge_type="HTTP01"))
    report = run_import(tenant_a, path=data_copy)
    assert set(_challenges(tenant_a).values()) == {"dns-01"}
    attention = _entries(report, Outcome.ATTENTION)
    assert "'HTTP01' is neither dns-01 nor http-01" in attention["settings.json: challenge_type"]
    shop = attention["certificates/shop.beta.test/ (certificate shop.beta.test): challenge"]
    assert "'tls-alpn-01' (from its metadata.json) is neither" in shop


def test_a_second_run_with_http01_changes_nothing(tenant_a, data_copy):
    _metadata(data_copy, "shop.beta.test", "http-01")
    _settings(data_copy, lambda d: d.update(challenge_type="http-01"))
    first = run_import(tenant_a, path=data_copy)
    assert first.changed
    with tenant_context(tenant_a):
        before = (AuditEvent.objects.count(), ImportedObject.objects.count())
    challenges = _challenges(tenant_a)
    second = run_import(tenant_a, path=data_copy)
    assert not second.changed
    assert not [e for e in second.by_outcome(Outcome.ATTENTION) if "challenge" in e.item]
    assert _entries(second, Outcome.UNCHANGED)["settings.json: challenge_type"].startswith("http-01: applied")
    with tenant_context(tenant_a):
        assert (AuditEvent.objects.count(), ImportedObject.objects.count()) == before
    assert _challenges(tenant_a) == challenges


def test_a_certificate_imported_before_keeps_its_challenge_and_says_so(tenant_a, data_copy):
    run_import(tenant_a, path=data_copy)
    _metadata(data_copy, "shop.beta.test", "http-01")  # CertMate changed it after the first import
    report = run_import(tenant_a, path=data_copy)
    assert _challenges(tenant_a)["shop.beta.test"] == "dns-01"
    reason = _entries(report, Outcome.ATTENTION)["certificates/shop.beta.test/ (certificate shop.beta.test): challenge"]
    assert "CertMate orders it with http-01 (from its metadata.json)" in reason
