"""Which ACME challenge CertMate would order a certificate with, so the import keeps it: the first value
set among the certificate's metadata.json, its ``domains`` entry and the top-level ``challenge_type``
(CertMate's own order on reissue), dns-01 when none is. CertMate orders anything but ``http-01``
through DNS, so an unknown value stays dns-01 and is reported; a wildcard stays dns-01 too (CAs refuse
http-01 for wildcard names, and certmate refuses to store that choice)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.certificates.models import Challenge
from apps.importing.context import ImportRun, content_hash
from apps.importing.report import Outcome

TOP_LEVEL = "settings.json: challenge_type"
_KEY = "setting:challenge_type"


@dataclass(frozen=True)
class CertificateChallenge:
    challenge: str  # what the certificate is stored with
    source: str  # where CertMate's value came from ("" when none was set)
    problem: str = ""  # why CertMate's value was not kept (the report asks for attention)

    @property
    def http01(self) -> bool:
        return self.challenge == Challenge.HTTP_01


def _shown(value: Any) -> str:
    return repr(str(value)[:40])


def challenge_resolve(
    *, metadata: dict[str, Any], entry_value: Any, top_level: Any, names: list[str]
) -> CertificateChallenge:
    """The challenge for a certificate named ``names`` (its own values first, as CertMate reads them)."""
    found = [
        (value, where)
        for value, where in ((metadata.get("challenge_type"), "its metadata.json"),
                             (entry_value, "its domains entry"), (top_level, "the top-level challenge_type"))
        if value not in (None, "")
    ]  # fmt: skip
    if not found:
        return CertificateChallenge(Challenge.DNS_01, "")
    value, where = found[0]
    if value not in Challenge.values:
        # The top-level value is reported once, on its own entry (``challenge_top_level_report``).
        problem = "" if where.startswith("the top-level") else (
            f"challenge_type {_shown(value)} (from {where}) is neither dns-01 nor http-01: CertMate ordered it "
            "through DNS, so it orders with dns-01 here; choose its challenge in the admin if that is wrong"
        )  # fmt: skip
        return CertificateChallenge(Challenge.DNS_01, where, problem)
    wildcard = next((name for name in names if name.startswith("*.")), None)
    if value == Challenge.HTTP_01 and wildcard:
        problem = (
            f"CertMate orders it with http-01 (from {where}), but {wildcard} is a wildcard name, which only "
            "dns-01 can validate: it orders with dns-01 here; check it has a DNS account (or drop the wildcard "
            "and choose http-01)"
        )
        return CertificateChallenge(Challenge.DNS_01, where, problem)
    return CertificateChallenge(value, where)


def challenge_digest_part(run: ImportRun) -> list[Any]:
    """What a certificate's import digest adds for the top-level setting (metadata.json and the domains
    entry are in it already): nothing for the default, so imports made before it counted keep their digest."""
    value = run.settings.get("challenge_type")
    return [] if value in (None, "", Challenge.DNS_01) else [["challenge_type", value]]


def challenge_top_level_report(run: ImportRun) -> None:
    """Account for the top-level ``challenge_type``: applied to each certificate without its own."""
    if "challenge_type" not in run.settings:
        return
    value = run.settings["challenge_type"]
    if value in (None, ""):
        run.report.add(TOP_LEVEL, Outcome.SKIPPED, "empty in CertMate: certificates without their own use dns-01")
        return
    if value not in Challenge.values:
        run.report.add(
            TOP_LEVEL,
            Outcome.ATTENTION,
            f"{_shown(value)} is neither dns-01 nor http-01: CertMate ordered through DNS, so certificates "
            "without their own challenge_type order with dns-01 here; choose http-01 in the admin where needed",
        )
        return
    digest = content_hash(value)
    if run.same_as_before(_KEY, digest):
        run.report.add(TOP_LEVEL, Outcome.UNCHANGED, f"{value}: applied to each certificate without its own")
        return
    run.remember(_KEY, "setting", digest, None)
    run.report.add(TOP_LEVEL, Outcome.IMPORTED, f"{value}: applied to each certificate without its own")
