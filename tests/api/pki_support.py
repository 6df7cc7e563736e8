"""What the private CA API tests share: the hierarchies of tests/pki, a CSR, the checks every answer
must pass (never a private key), openssl verification of what the API issued."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.pki.conftest import hierarchy_a, hierarchy_b, openssl

__all__ = [
    "assert_no_private_key", "field_named", "hierarchy_a", "hierarchy_b", "make_csr", "openssl",
    "verify_chain",
]  # fmt: skip

# ca-lifecycle's services are not merged yet: the tests that need them skip until they are.


def assert_no_private_key(response) -> None:
    """No private key in the body: neither PEM material nor a field that could carry one."""
    text = response.content.decode()
    assert "PRIVATE KEY" not in text and "private_key" not in text, text[:500]


def field_named(response, field: str) -> bool:
    """Whether the error answer names ``field`` (or a part of it: ``subject.country``)."""
    fields = response.json().get("fields", {})
    return any(name == field or name.startswith(f"{field}.") for name in fields)


def make_csr(common_name: str, names: list[x509.GeneralName] = (), key=None) -> tuple[str, object]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def verify_chain(tmp_path, client, leaf_pem: str, *, ca: str, purpose: str) -> str:
    """openssl verify of ``leaf_pem`` against the root of ``ca``, both read through the API."""
    root = client.get(f"/api/cas/{ca}-root/certificate").content.decode()
    chain = client.get(f"/api/cas/{ca}/certificate").content.decode()
    (tmp_path / "root.pem").write_text(root)
    (tmp_path / "chain.pem").write_text(chain)
    (tmp_path / "leaf.pem").write_text(leaf_pem)
    done = openssl("verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "chain.pem"),
                   "-purpose", purpose, str(tmp_path / "leaf.pem"))  # fmt: skip
    return done.stdout.strip()
