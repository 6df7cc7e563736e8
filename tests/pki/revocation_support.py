"""What the private-CA revocation tests share: issuing a client certificate, the CA's current CRL as
openssl reads it (entries by serial, with their reason and invalidity date), and openssl verify with CRL
checking. Call the tenant-bound helpers inside the tenant's schema."""

from __future__ import annotations

import re
from pathlib import Path

from apps.certificates.models import CertificateAuthority, CertificateProfile
from apps.certificates.pki.crl import crl_current
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from tests.factories import TEST_ACTOR
from tests.pki.conftest import openssl

# How `openssl crl -text` names each reason.
OPENSSL_REASONS = {
    "keycompromise": "Key Compromise",
    "cacompromise": "CA Compromise",
    "affiliationchanged": "Affiliation Changed",
    "superseded": "Superseded",
    "cessationofoperation": "Cessation Of Operation",
    "certificatehold": "Certificate Hold",
}


def issue(name: str, *, ca: str = "alpha", profile: str = "client", common_name: str | None = None):
    """A client certificate ``name`` from CA ``ca`` (server-side key): its current version."""
    found = CertificateProfile.objects.get(authority__name=ca, name=profile)
    request = PrivateRequest(profile=found, subject={"common_name": common_name or name}, name=name)
    return private_certificate_issue(request, actor=TEST_ACTOR).current_version


def crl_pem(authority: CertificateAuthority, folder: Path) -> Path:
    """The CA's current CRL, written as PEM (openssl converts the DER certmate serves)."""
    der = folder / f"{authority.name}.crl.der"
    der.write_bytes(bytes(crl_current(authority).der))
    pem = folder / f"{authority.name}.crl.pem"
    openssl("crl", "-inform", "DER", "-in", str(der), "-outform", "PEM", "-out", str(pem))
    return pem


def crl_text(authority: CertificateAuthority, folder: Path) -> str:
    """``openssl crl -text`` of the CA's current CRL, its signature checked against the CA."""
    ca = folder / f"{authority.name}.pem"
    ca.write_text(authority.certificate_pem)
    done = openssl("crl", "-in", str(crl_pem(authority, folder)), "-noout", "-text", "-CAfile", str(ca))
    assert "verify OK" in done.stderr + done.stdout
    return done.stdout


def crl_entries(text: str) -> dict[int, str]:
    """The CRL's entries: serial (as a number) -> the text of its entry (reason, invalidity date)."""
    listed = text.split("Revoked Certificates:", 1)[1] if "Revoked Certificates:" in text else ""
    listed = listed.split("Signature Algorithm:", 1)[0]
    parts = re.split(r"Serial Number: ([0-9A-Fa-f]+)", listed)
    return {int(serial, 16): body for serial, body in zip(parts[1::2], parts[2::2], strict=True)}


def crl_number(text: str) -> int:
    return int(re.search(r"X509v3 CRL Number:\s*\n\s*(\d+)", text).group(1))


def verify(folder: Path, leaf_pem: str, *, root: CertificateAuthority, intermediate: CertificateAuthority,
           crls: list[CertificateAuthority], check: str = "-crl_check") -> str:  # fmt: skip
    """``openssl verify`` of a leaf against root and intermediate with the CAs' current CRLs: what it says."""
    (folder / "root.pem").write_text(root.certificate_pem)
    (folder / "intermediate.pem").write_text(intermediate.certificate_pem)
    (folder / "leaf.pem").write_text(leaf_pem)
    files = [arg for ca in crls for arg in ("-CRLfile", str(crl_pem(ca, folder)))]
    done = openssl("verify", check, *files, "-CAfile", str(folder / "root.pem"), "-untrusted",
                   str(folder / "intermediate.pem"), str(folder / "leaf.pem"), check=False)  # fmt: skip
    return done.stdout + done.stderr
