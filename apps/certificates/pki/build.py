"""CA certificates, built with PyCA ``cryptography``: what RFC 5280 asks of a CA (basicConstraints
critical with CA:TRUE, keyUsage critical with keyCertSign and cRLSign, subject and authority key ids),
random serials, and name constraints on intermediates."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.x509.oid import NameOID

from apps.certificates.pki.keys import PrivateKey, signing_hash

# A certificate made now is valid from a little earlier, so clocks slightly behind still accept it.
BACKDATE = timedelta(minutes=5)


CONSTRAINT_FIELDS = (
    "permitted_dns", "excluded_dns", "permitted_ip", "excluded_ip", "permitted_email", "excluded_email",
)  # fmt: skip


@dataclass(frozen=True)
class NameConstraints:
    """What an intermediate may issue for: permitted and excluded DNS names, IP ranges, e-mail domains."""

    permitted_dns: tuple[str, ...] = ()
    excluded_dns: tuple[str, ...] = ()
    permitted_ip: tuple[str, ...] = ()
    excluded_ip: tuple[str, ...] = ()
    permitted_email: tuple[str, ...] = ()
    excluded_email: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in CONSTRAINT_FIELDS)

    def as_dict(self) -> dict[str, list[str]]:
        return {name: list(getattr(self, name)) for name in CONSTRAINT_FIELDS if getattr(self, name)}

    def extension(self) -> x509.NameConstraints:
        def names(dns, ips, emails):
            general = [x509.DNSName(d) for d in dns]
            general += [x509.IPAddress(ipaddress.ip_network(i, strict=False)) for i in ips]
            general += [x509.RFC822Name(e) for e in emails]
            return general or None

        return x509.NameConstraints(
            permitted_subtrees=names(self.permitted_dns, self.permitted_ip, self.permitted_email),
            excluded_subtrees=names(self.excluded_dns, self.excluded_ip, self.excluded_email),
        )


def subject_name(common_name: str, organization: str = "") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def ca_certificate_build(
    *,
    subject: x509.Name,
    key: PrivateKey,
    days: int,
    path_length: int | None,
    issuer: x509.Certificate | None = None,
    issuer_key: PrivateKey | None = None,
    constraints: NameConstraints | None = None,
    extensions: list[x509.ExtensionType] = (),
    now: datetime | None = None,
) -> x509.Certificate:
    """A CA certificate for ``key``: self-signed without an issuer (a root), else signed by ``issuer_key``
    and never valid past ``issuer``'s own end."""
    now = now or datetime.now(UTC)
    not_after = now + timedelta(days=days)
    if issuer is not None:
        not_after = min(not_after, issuer.not_valid_after_utc)
    signer = issuer_key or key
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer is not None else subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())  # 159 random bits, positive
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    authority = issuer.public_key() if issuer is not None else public
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority), critical=False)
    if constraints:
        builder = builder.add_extension(constraints.extension(), critical=True)
    for extension in extensions:  # an intermediate's CRL Distribution Points and caIssuers
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signer, signing_hash(signer))
