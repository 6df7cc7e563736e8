"""From a request to a signed certificate: the request cleaned and held to its profile, a key made (or
a CSR's public key taken), the leaf signed. Shared by the first issuance (issuing.py) and by renewals
(the engine), so both obey the same rules."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from apps.certificates.issued import Issued
from apps.certificates.models import CaKeyType, Certificate, CertificateProfile
from apps.certificates.pki.csr import CsrRequest, csr_parse
from apps.certificates.pki.keys import PrivateKey, key_generate, key_pem
from apps.certificates.pki.leaf import leaf_build, pem
from apps.certificates.pki.names import AltName, alt_names_clean, subject_clean
from apps.certificates.pki.profiles import Approved, profile_enforce


@dataclass(frozen=True)
class Prepared:
    """A request that passed its profile: what to sign, and with which key."""

    profile: CertificateProfile
    kind: str
    subject: dict[str, str]
    alt_names: list[AltName]
    key_type: str
    csr: CsrRequest | None
    approved: Approved


def request_prepare(
    *,
    profile: CertificateProfile,
    kind: str,
    subject=None,
    alt_names=None,
    key_type: str | None = None,
    csr_pem: str | None = None,
    days: int | None = None,
) -> Prepared:
    """Clean every value and hold the request to ``profile``; raises ValidationError (a ProfileRefused
    for the profile's rules) before anything is generated or signed. With a CSR, its subject and SANs
    are used where the request gives none."""
    subject = subject_clean(subject)
    names = alt_names_clean(alt_names)
    csr = csr_parse(csr_pem) if csr_pem else None
    if csr is not None:
        subject = subject or subject_clean(csr.subject)
        names = names or alt_names_clean(csr.alt_names)
        key_type = ""
    else:
        key_type = key_type or profile.default_key_type
        if key_type not in CaKeyType.values:
            raise ValidationError(
                f"key type {str(key_type)[:20]!r} is unknown: use one of {', '.join(CaKeyType.values)}",
                code="invalid_key_type",
            )
    approved = profile_enforce(
        profile,
        kind=kind,
        subject=subject,
        alt_names=names,
        public_key=csr.public_key if csr else None,
        key_type=key_type or None,
        days=days,
        from_csr=csr is not None,
    )
    return Prepared(profile, kind, approved.subject, approved.alt_names, key_type, csr, approved)


def prepared_sign(prepared: Prepared, *, signer: PrivateKey | None = None) -> Issued:
    """Make the key (unless a CSR brought one) and sign. ``signer``: the CA key, already loaded."""
    authority = prepared.profile.authority
    key = None if prepared.csr else key_generate(prepared.key_type)
    public_key = prepared.csr.public_key if prepared.csr else key.public_key()
    certificate = pem(leaf_build(authority=authority, approved=prepared.approved, public_key=public_key, signer=signer))
    chain = authority.certificate_pem + authority.chain_pem
    return Issued(
        cert_pem=certificate,
        chain_pem=chain,
        fullchain_pem=certificate + chain,
        key_pem=key_pem(key) if key is not None else "",
        output="",
    )


def certificate_prepare(certificate: Certificate, *, csr_pem: str | None = None) -> Prepared:
    """The certificate's stored request, held to its profile as it stands today (for a renewal)."""
    return request_prepare(
        profile=certificate.profile,
        kind=certificate.kind,
        subject=certificate.subject_fields,
        alt_names=list(certificate.alt_names),
        key_type=certificate.key_type,
        csr_pem=csr_pem if csr_pem is not None else certificate.csr_pem or None,
        days=certificate.validity_days,
    )
