"""What a private certificate names: subject fields and typed subject alternative names, checked and
bounded as a tenant gives them (an API body, a CSV row, a CSR), before any profile is consulted.

SANs are written as openssl writes them: ``DNS:db.internal.example``, ``IP:10.0.0.5``,
``email:alice@example.com``, ``URI:spiffe://example.org/ns/prod/sa/api``."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError

from apps.certificates.domains import domain_clean
from apps.certificates.models import SanType

MAX_ALT_NAMES = 100
MAX_FIELD = 64  # RFC 5280's upper bound for CN, O, OU, L, ST
MAX_EMAIL = 254
MAX_URI = 255
# A private certificate's name (its identifier): also a path segment in URLs and storage, so no '/'.
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+:-]{0,127}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
_URI = re.compile(r"[a-z][a-z0-9+.-]{0,30}:[\x21-\x7e]+")
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")

# Subject fields a private certificate may carry: the name used in requests -> the X.509 attribute.
SUBJECT_FIELDS = {
    "common_name": NameOID.COMMON_NAME,
    "organization": NameOID.ORGANIZATION_NAME,
    "organizational_unit": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "country": NameOID.COUNTRY_NAME,
    "state": NameOID.STATE_OR_PROVINCE_NAME,
    "locality": NameOID.LOCALITY_NAME,
    "email": NameOID.EMAIL_ADDRESS,
}
_PREFIXES = {"dns": SanType.DNS, "ip": SanType.IP, "email": SanType.EMAIL, "uri": SanType.URI}
_WRITTEN = {SanType.DNS: "DNS", SanType.IP: "IP", SanType.EMAIL: "email", SanType.URI: "URI"}


@dataclass(frozen=True, order=True)
class AltName:
    type: str  # a SanType
    value: str

    def __str__(self) -> str:
        return f"{_WRITTEN[self.type]}:{self.value}"

    def general_name(self) -> x509.GeneralName:
        if self.type == SanType.DNS:
            return x509.DNSName(self.value)
        if self.type == SanType.IP:
            return x509.IPAddress(ipaddress.ip_address(self.value))
        if self.type == SanType.EMAIL:
            return x509.RFC822Name(self.value)
        return x509.UniformResourceIdentifier(self.value)


def _shown(value) -> str:
    return repr(str(value)[:80])


def san_value_clean(san_type: str, value: str) -> str:
    """One SAN value in its canonical form, or a ValidationError naming it."""
    if not isinstance(value, str) or not value.strip() or _CONTROL.search(value):
        raise ValidationError(f"{_shown(value)} is not a valid {san_type} name", code="invalid_name")
    value = value.strip()
    if san_type == SanType.DNS:
        # A private CA also names internal hosts by one label ("localhost", "db"): the two-label rule
        # is a public (ACME) CA's, not X.509's.
        host = value.rstrip(".").lower()
        if _HOST.fullmatch(host) and not host.isdigit():
            return host
        return domain_clean(value)
    if san_type == SanType.IP:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValidationError(f"{_shown(value)} is not an IP address", code="invalid_name") from None
    if san_type == SanType.EMAIL:
        local, _, domain = value.rpartition("@")
        value = f"{local}@{domain.lower()}"
        if len(value) > MAX_EMAIL or not _EMAIL.fullmatch(value):
            raise ValidationError(f"{_shown(value)} is not an e-mail address", code="invalid_name")
        return value
    if len(value) > MAX_URI or not _URI.fullmatch(value):
        raise ValidationError(f"{_shown(value)} is not a URI (scheme:rest, printable ASCII)", code="invalid_name")
    return value


def alt_name_parse(text: str) -> AltName:
    """``DNS:x``, ``IP:x``, ``email:x``, ``URI:x`` (the prefix in any case); a bare value is a DNS name,
    or an IP address when it is one."""
    if not isinstance(text, str):
        raise ValidationError(f"{_shown(text)} is not a name", code="invalid_name")
    prefix, sep, rest = text.partition(":")
    san_type = _PREFIXES.get(prefix.strip().lower()) if sep else None
    if san_type is None:
        rest = text
        try:
            ipaddress.ip_address(text.strip())
            san_type = SanType.IP
        except ValueError:
            san_type = SanType.DNS
    return AltName(san_type, san_value_clean(san_type, rest))


def subject_alt_name(value: str) -> AltName | None:
    """What a subject's common name or e-mail names, when it reads as an IP address, an e-mail address or
    a host name with a dot (as relying parties may read it); None for other text ("Alice Smith")."""
    for san_type in (SanType.IP, SanType.EMAIL, SanType.DNS):
        if (san_type == SanType.EMAIL and "@" not in value) or (san_type == SanType.DNS and "." not in value):
            continue
        try:
            return AltName(san_type, san_value_clean(san_type, value))
        except ValidationError:
            continue
    return None


def alt_names_clean(values) -> list[AltName]:
    if values is None:
        return []
    if isinstance(values, str | bytes) or not isinstance(values, list | tuple):
        raise ValidationError("give the subject alternative names as a list", code="invalid_name")
    if len(values) > MAX_ALT_NAMES:
        raise ValidationError(f"at most {MAX_ALT_NAMES} subject alternative names", code="invalid_name")
    seen: dict[AltName, None] = {}
    for value in values:
        seen.setdefault(alt_name_parse(value), None)
    return list(seen)


def subject_clean(fields) -> dict[str, str]:
    """Subject fields by their request names, trimmed, bounded; unknown names refused."""
    if fields is None:
        return {}
    if not isinstance(fields, dict):
        raise ValidationError("give the subject as an object of fields", code="invalid_subject")
    unknown = set(fields) - set(SUBJECT_FIELDS)
    if unknown:
        names = ", ".join(sorted(str(n)[:30] for n in unknown))
        raise ValidationError(
            f"unknown subject fields: {names} (use {', '.join(SUBJECT_FIELDS)})", code="invalid_subject"
        )
    cleaned = {}
    for name, value in fields.items():
        if value in (None, ""):
            continue
        if not isinstance(value, str) or _CONTROL.search(value) or not value.strip():
            raise ValidationError(f"subject {name} must be printable text", code="invalid_subject")
        value = value.strip()
        limit = 2 if name == "country" else MAX_EMAIL if name == "email" else MAX_FIELD
        if len(value) > limit or (name == "country" and not re.fullmatch(r"[A-Za-z]{2}", value)):
            raise ValidationError(
                f"subject {name} {_shown(value)} is too long or malformed (at most {limit} characters)",
                code="invalid_subject",
            )
        if name == "email":
            value = san_value_clean(SanType.EMAIL, value)
        cleaned[name] = value.upper() if name == "country" else value
    return cleaned


def subject_x509(fields: dict[str, str]) -> x509.Name:
    order = ("country", "state", "locality", "organization", "organizational_unit", "common_name", "email")
    return x509.Name([x509.NameAttribute(SUBJECT_FIELDS[name], fields[name]) for name in order if name in fields])


def subject_from_x509(name: x509.Name) -> dict[str, str]:
    """The fields of a CSR's subject that certmate knows (others are not copied)."""
    by_oid = {oid: field for field, oid in SUBJECT_FIELDS.items()}
    found = {}
    for attribute in name:
        field = by_oid.get(attribute.oid)
        if field and field not in found and isinstance(attribute.value, str):
            found[field] = attribute.value
    return found


def alt_names_from_csr(csr: x509.CertificateSigningRequest) -> list[str]:
    try:
        extension = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = [f"DNS:{n}" for n in extension.get_values_for_type(x509.DNSName)]
    names += [f"IP:{n}" for n in extension.get_values_for_type(x509.IPAddress)]
    names += [f"email:{n}" for n in extension.get_values_for_type(x509.RFC822Name)]
    names += [f"URI:{n}" for n in extension.get_values_for_type(x509.UniformResourceIdentifier)]
    if len(extension) != len(names):
        raise ValidationError("the CSR asks for a kind of subject alternative name certmate does not issue",
                              code="invalid_csr")  # fmt: skip
    return names
