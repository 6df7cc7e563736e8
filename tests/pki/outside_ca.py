"""CAs made outside certmate with the openssl command line, as a tenant's own PKI team would: a root,
a CA to import (its key optionally passphrase-protected), a CSR signed by the root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from tests.pki.conftest import openssl

CA_EXTENSIONS = ("basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign")
LEAF_EXTENSIONS = ("basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature")


@dataclass(frozen=True)
class OutsideCa:
    certificate: Path
    key: Path

    @property
    def certificate_pem(self) -> str:
        return self.certificate.read_text()

    @property
    def key_pem(self) -> str:
        return self.key.read_text()


def key_make(path: Path, algorithm: str = "EC", *options: str, passphrase: str | None = None) -> Path:
    """A private key made by ``openssl genpkey`` (AES-256 encrypted when a passphrase is given)."""
    args = ["genpkey", "-algorithm", algorithm, *options, "-out", str(path)]
    if passphrase is not None:
        args += ["-aes256", "-pass", f"pass:{passphrase}"]
    openssl(*args)
    return path


def outside_root(directory: Path, name: str = "Outside Root", *, extensions=CA_EXTENSIONS,
                 key_options=("-pkeyopt", "ec_paramgen_curve:P-256"), algorithm: str = "EC",
                 passphrase: str | None = None) -> OutsideCa:  # fmt: skip
    """A self-signed certificate (a CA's unless ``extensions`` say otherwise) and its key."""
    stem = name.lower().replace(" ", "-")
    key = key_make(directory / f"{stem}.key", algorithm, *key_options, passphrase=passphrase)
    certificate = directory / f"{stem}.pem"
    args = ["req", "-x509", "-key", str(key), "-out", str(certificate), "-subj", f"/CN={name}", "-days", "30"]
    if passphrase is not None:
        args += ["-passin", f"pass:{passphrase}"]
    for extension in extensions:
        args += ["-addext", extension]
    openssl(*args)
    return OutsideCa(certificate, key)


def outside_sign(directory: Path, csr_pem: str, issuer: OutsideCa, *, ca: bool = True, days: int = 20) -> str:
    """``openssl x509 -req``: the issuer signs the CSR, with CA:TRUE (path length 0) or as a leaf."""
    (directory / "request.csr").write_text(csr_pem)
    lines = (
        ["basicConstraints=critical,CA:TRUE,pathlen:0", "keyUsage=critical,keyCertSign,cRLSign"]
        if ca
        else list(LEAF_EXTENSIONS)
    )
    (directory / "extensions.cnf").write_text("\n".join(["subjectKeyIdentifier=hash", *lines]) + "\n")
    done = openssl("x509", "-req", "-in", str(directory / "request.csr"), "-CA", str(issuer.certificate),
                   "-CAkey", str(issuer.key), "-CAcreateserial", "-days", str(days),
                   "-extfile", str(directory / "extensions.cnf"))  # fmt: skip
    return done.stdout


def outside_intermediate(directory: Path, root: OutsideCa, name: str = "Outside Intermediate") -> OutsideCa:
    """A CA signed by ``root`` (key and certificate made with openssl)."""
    stem = name.lower().replace(" ", "-")
    key = key_make(directory / f"{stem}.key", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    csr = openssl("req", "-new", "-key", str(key), "-subj", f"/CN={name}").stdout
    certificate = directory / f"{stem}.pem"
    certificate.write_text(outside_sign(directory, csr, root))
    return OutsideCa(certificate, key)


def verify(directory: Path, leaf_pem: str, root: OutsideCa | str, untrusted_pem: str = "") -> str:
    """``openssl verify`` of a leaf against a root (the CAs between as untrusted): its output."""
    (directory / "leaf.pem").write_text(leaf_pem)
    root_path = root.certificate if isinstance(root, OutsideCa) else directory / "root-anchor.pem"
    if isinstance(root, str):
        root_path.write_text(root)
    args = ["verify", "-CAfile", str(root_path)]
    if untrusted_pem:
        (directory / "untrusted.pem").write_text(untrusted_pem)
        args += ["-untrusted", str(directory / "untrusted.pem")]
    return openssl(*args, str(directory / "leaf.pem"), check=False).stdout


def refused(function, **kwargs) -> set[str]:
    """The codes of the ValidationError ``function(**kwargs)`` raises (it must raise one, nothing else)."""
    with pytest.raises(ValidationError) as caught:
        function(**kwargs)
    error = caught.value
    errors = error.error_list if hasattr(error, "error_list") else [e for es in error.error_dict.values() for e in es]
    return {e.code for e in errors}
