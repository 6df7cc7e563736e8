"""Keys of the private CA engine: made, stored (PKCS#8 PEM, encrypted by the model's field) and read back."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from apps.certificates.pki.models import CaKeyType

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_CURVES = {CaKeyType.EC256: ec.SECP256R1, CaKeyType.EC384: ec.SECP384R1}
_RSA_SIZES = {CaKeyType.RSA2048: 2048, CaKeyType.RSA3072: 3072, CaKeyType.RSA4096: 4096}


def key_generate(key_type: str) -> PrivateKey:
    key_type = CaKeyType(key_type)
    if key_type in _RSA_SIZES:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_SIZES[key_type])
    if key_type in _CURVES:
        return ec.generate_private_key(_CURVES[key_type]())
    return ed25519.Ed25519PrivateKey.generate()


def key_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def key_load(pem: str) -> PrivateKey:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def signing_hash(key: PrivateKey) -> hashes.HashAlgorithm | None:
    """The digest a key signs with: none for Ed25519 (it hashes itself), SHA-384 for P-384, else SHA-256."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()
