"""CA material a tenant brings in (a certificate, its key, its chain): bounded, parsed and checked
before anything is stored. Refusals are ValidationErrors with a code and never echo key material.
Also what certmate stores of any CA certificate (``certificate_fields``), made here or brought in."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.core.exceptions import ValidationError

from apps.certificates.pki.build import NameConstraints
from apps.certificates.pki.models import CaKeyType

MAX_CERTIFICATE_BYTES = 16 * 1024
MAX_CHAIN_BYTES = 64 * 1024
MAX_CHAIN_LENGTH = 8
MAX_KEY_BYTES = 8 * 1024  # an encrypted RSA 4096 key is about 3.4 KB
MAX_PASSPHRASE_BYTES = 1024
MAX_SERIAL_HEX = 64
MAX_PATH_LENGTH = 1000
_RSA_TYPES = {2048: CaKeyType.RSA2048, 3072: CaKeyType.RSA3072, 4096: CaKeyType.RSA4096}
_CURVE_TYPES = {"secp256r1": CaKeyType.EC256, "secp384r1": CaKeyType.EC384}
IP_NETWORKS = (ipaddress.IPv4Network, ipaddress.IPv6Network)
_BROKEN = (ValueError, TypeError, UnsupportedAlgorithm)


def _text(value, what: str, limit: int, code: str) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8", "replace")
    if not isinstance(value, bytes) or not value.strip():
        raise ValidationError(f"the {what} is empty: send it in PEM form", code=code)
    if len(value) > limit:
        raise ValidationError(f"the {what} is larger than {limit} bytes", code=code)
    return value.strip()


def _certificates(data: bytes, what: str, code: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except _BROKEN:
        raise ValidationError(
            f"the {what} cannot be read: send PEM blocks, -----BEGIN CERTIFICATE-----", code=code
        ) from None


def certificate_parse(text) -> x509.Certificate:
    """One PEM certificate, not expired, with a serial and public key certmate can store."""
    certificates = _certificates(_text(text, "certificate", MAX_CERTIFICATE_BYTES, "invalid_certificate"),
                                 "certificate", "invalid_certificate")  # fmt: skip
    if len(certificates) != 1:
        raise ValidationError("give exactly one certificate: put its issuers in the chain", code="invalid_certificate")
    certificate = certificates[0]
    try:
        certificate.public_key()
    except _BROKEN:
        raise ValidationError("the certificate's public key is of a kind certmate cannot use",
                              code="invalid_certificate") from None  # fmt: skip
    if len(format(certificate.serial_number, "x")) > MAX_SERIAL_HEX or certificate.serial_number < 0:
        raise ValidationError("the certificate's serial number is out of range", code="invalid_certificate")
    if certificate.not_valid_after_utc <= datetime.now(UTC):
        raise ValidationError("the certificate has expired", code="invalid_certificate")
    return certificate


def ca_check(certificate: x509.Certificate, what: str = "certificate", *, strict: bool = True) -> None:
    """Refuse (``not_a_ca``) a certificate that may not sign certificates: basicConstraints CA:TRUE, and
    keyUsage with keyCertSign (``strict``: keyUsage required; an old root above may lack it)."""
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    except _BROKEN:
        raise ValidationError(f"the {what}'s extensions cannot be read", code="invalid_certificate") from None
    if constraints is None or not constraints.ca:
        raise ValidationError(f"the {what} is not a CA certificate (basicConstraints CA:TRUE)", code="not_a_ca")
    if constraints.path_length is not None and constraints.path_length > MAX_PATH_LENGTH:
        raise ValidationError(f"the {what}'s path length is out of range", code="invalid_certificate")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if (usage is None and strict) or (usage is not None and not usage.key_cert_sign):
        raise ValidationError(f"the {what} may not sign certificates (keyUsage keyCertSign)", code="not_a_ca")


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(certificate: x509.Certificate, key) -> None:
    if _spki(certificate.public_key()) != _spki(key.public_key()):
        raise ValidationError("the private key does not belong to the certificate", code="key_mismatch")


def private_key_parse(text, passphrase=None):
    """A PEM private key, decrypted with ``passphrase`` when it is encrypted."""
    data = _text(text, "private key", MAX_KEY_BYTES, "invalid_key")
    # "BEGIN ENCRYPTED PRIVATE KEY" (PKCS#8) or "Proc-Type: 4,ENCRYPTED" (traditional) near the top.
    encrypted = b"ENCRYPTED" in data[:200]
    if passphrase in ("", b""):
        passphrase = None
    if passphrase is not None:
        if isinstance(passphrase, str):
            passphrase = passphrase.encode()
        if not isinstance(passphrase, bytes) or len(passphrase) > MAX_PASSPHRASE_BYTES:
            raise ValidationError(f"the passphrase must be at most {MAX_PASSPHRASE_BYTES} bytes", code="bad_passphrase")
    if encrypted and passphrase is None:
        raise ValidationError("the private key is encrypted: give its passphrase", code="bad_passphrase")
    try:
        return serialization.load_pem_private_key(data, password=passphrase if encrypted else None)
    except _BROKEN:
        if encrypted:
            raise ValidationError("the passphrase does not open the private key", code="bad_passphrase") from None
        raise ValidationError(
            "the private key cannot be read: send one PEM block, -----BEGIN PRIVATE KEY-----", code="invalid_key"
        ) from None


def key_type_of(key) -> str:
    """The CaKeyType of a key certmate can sign with; others (RSA below 2048, other curves) refused."""
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size in _RSA_TYPES:
        return _RSA_TYPES[key.key_size]
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVE_TYPES:
        return _CURVE_TYPES[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return CaKeyType.ED25519
    raise ValidationError(
        "the key is of a type certmate does not sign with: use RSA 2048/3072/4096, ECDSA P-256/P-384 or Ed25519",
        code="invalid_key",
    )


def chain_parse(text, certificate: x509.Certificate) -> str:
    """The issuers above ``certificate``, nearest first, as PEM: each a CA and each the signer of the
    one before it. Empty text: no chain."""
    if not text or (isinstance(text, str | bytes) and not text.strip()):
        return ""
    chain = _certificates(_text(text, "chain", MAX_CHAIN_BYTES, "invalid_chain"), "chain", "invalid_chain")
    if len(chain) > MAX_CHAIN_LENGTH:
        raise ValidationError(f"the chain holds more than {MAX_CHAIN_LENGTH} certificates", code="invalid_chain")
    below = certificate
    for position, issuer in enumerate(chain, start=1):
        what = f"chain certificate {position}"
        try:
            ca_check(issuer, what, strict=False)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="invalid_chain") from None
        try:
            below.verify_directly_issued_by(issuer)
        except (*_BROKEN, InvalidSignature):
            signed = "the CA" if position == 1 else f"chain certificate {position - 1}"
            raise ValidationError(f"{what} did not sign {signed}: give the issuers nearest first",
                                  code="invalid_chain") from None  # fmt: skip
        below = issuer
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)


def constraints_of(certificate: x509.Certificate) -> NameConstraints | None:
    """The name constraints a CA certificate carries (DNS, IP, e-mail; other kinds are not recorded)."""
    try:
        value = certificate.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return None

    def split(subtrees):
        kinds = {"dns": [], "ip": [], "email": []}
        for general in subtrees or ():
            if isinstance(general, x509.DNSName):
                kinds["dns"].append(general.value)
            elif isinstance(general, x509.IPAddress) and isinstance(general.value, IP_NETWORKS):
                kinds["ip"].append(str(general.value))
            elif isinstance(general, x509.RFC822Name):
                kinds["email"].append(general.value)
        return kinds

    permitted, excluded = split(value.permitted_subtrees), split(value.excluded_subtrees)
    return NameConstraints(
        **{f"permitted_{k}": tuple(v) for k, v in permitted.items()},
        **{f"excluded_{k}": tuple(v) for k, v in excluded.items()},
    )


def certificate_fields(certificate: x509.Certificate) -> dict:
    """What a CertificateAuthority row holds of its certificate."""
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    return {
        "certificate_pem": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "subject": certificate.subject.rfc4514_string(),
        "serial": format(certificate.serial_number, "x"),
        "not_before": certificate.not_valid_before_utc,
        "not_after": certificate.not_valid_after_utc,
        "path_length": constraints.path_length,
        "fingerprint_sha256": certificate.fingerprint(hashes.SHA256()).hex(),
    }
