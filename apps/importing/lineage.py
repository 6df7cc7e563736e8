"""One CertMate certificate folder (``certificates/<domain>/``) read into its versions, oldest first.

CertMate runs certbot with the folder as its config dir: every issuance is in ``archive/<name>/`` as
certN.pem, chainN.pem, fullchainN.pem and privkeyN.pem; ``live/<name>/`` points at the newest; CertMate
copies the newest to the folder itself (cert.pem, …) with its ``metadata.json``. A folder without an
archive (an imported or a restored certificate) is one version: its flat files.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from django.core.exceptions import ValidationError

from apps.certificates.parsing import certificate_facts
from apps.certificates.pki.material import key_matches, private_key_parse
from apps.certificates.services.imports import ExistingVersion
from apps.importing.report import Outcome
from apps.importing.source import Source, SourceError

_NUMBERED = re.compile(r"(cert|chain|fullchain|privkey)(\d{1,6})\.pem")
FLAT = {"cert.pem": "cert", "chain.pem": "chain", "fullchain.pem": "fullchain", "privkey.pem": "privkey"}
# Folders certbot keeps beside the lineage, and why none of them is imported.
CERTBOT_FOLDERS = {
    "renewal": "certbot's renewal configuration: certmate places each renewal as a new order itself",
    "accounts": "certbot's ACME account: certmate registers its own with the certificate's CA account",
    "keys": "certbot's copies of private keys (each is imported from archive/)",
    "csr": "certbot's copies of CSRs (certmate makes a new CSR for each order)",
    "logs": "certbot's logs",
    "work": "certbot's working files",
    "renewal-hooks": "certbot's hooks: certmate publishes through its storage backends and events",
}


@dataclass
class FoundVersion:
    label: str  # "archive/example.com/cert2.pem" or "cert.pem"
    paths: list[str]
    version: ExistingVersion | None = None
    problem: str = ""  # why it is not imported (version None), or what it lacks (e.g. its key)


@dataclass
class Lineage:
    domain: str
    versions: list[FoundVersion] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, tuple[Outcome, str]] = field(default_factory=dict)  # path -> what became of it
    content_hash: str = ""

    @property
    def importable(self) -> list[ExistingVersion]:
        return [found.version for found in self.versions if found.version is not None]


def _text(source: Source, path: str | None) -> str:
    if path is None:
        return ""
    return source.read(path).decode("ascii", errors="replace")


def _version(source: Source, label: str, paths: dict[str, str]) -> FoundVersion:
    """A version from its files (kind -> path); the key is checked against the certificate."""
    found = FoundVersion(label=label, paths=list(paths.values()))
    cert_path = paths.get("cert")
    if cert_path is None:
        found.problem = f"{label}: no certificate file beside its other files"
        return found
    try:
        cert_pem = _text(source, cert_path)
        # Not pki's certificate_parse: it refuses expired certificates, and a lineage's past versions are.
        certificate = x509.load_pem_x509_certificate(cert_pem.encode())
        facts = certificate_facts(cert_pem)
    except (ValueError, SourceError) as exc:
        found.problem = f"{cert_path} is not a readable PEM certificate ({_first(exc)}): this version is not imported"
        return found
    key_pem = _text(source, paths.get("privkey"))
    if not key_pem:
        found.problem = "no private key in the source (a share-safe backup leaves keys out): imported without its key"
    else:
        try:
            key_matches(certificate, private_key_parse(key_pem))
        except (ValidationError, ValueError) as exc:
            found.problem = f"{paths['privkey']} does not go with {cert_path} ({_first(exc)}): imported without a key"
            key_pem = ""
    chain_pem = _text(source, paths.get("chain"))
    found.version = ExistingVersion(
        cert_pem=cert_pem,
        chain_pem=chain_pem,
        fullchain_pem=_text(source, paths.get("fullchain")) or cert_pem + chain_pem,
        key_pem=key_pem,
        facts=facts,
    )
    return found


def _first(exc: Exception) -> str:
    messages = getattr(exc, "messages", None) or [str(exc)]
    return str(messages[0])[:200]


def lineage_hash(source: Source, paths: list[str], extra: Any = None) -> str:
    digest = hashlib.sha256(json.dumps(extra, sort_keys=True, default=str).encode())
    for path in sorted(paths):
        digest.update(path.encode() + b"\0" + hashlib.sha256(source.read(path)).digest())
    return digest.hexdigest()


def lineage_read(source: Source, folder: str, domain: str, paths: list[str], *, parse: bool = True) -> Lineage:
    """The certificate folder ``folder`` (e.g. ``certificates/example.com/``) from its ``paths``. Without
    ``parse`` only its content hash is computed (enough to see that nothing changed)."""
    lineage = Lineage(domain=domain)
    lineage.content_hash = lineage_hash(source, paths)
    if not parse:
        return lineage
    archive: dict[tuple[str, int], dict[str, str]] = {}
    flat: dict[str, str] = {}
    live: list[str] = []
    for path in paths:
        parts = path[len(folder) :].split("/")
        if parts[0] == "archive" and len(parts) == 3 and (match := _NUMBERED.fullmatch(parts[2])):
            archive.setdefault((parts[1], int(match[2])), {})[match[1]] = path
        elif parts[0] == "live" and len(parts) == 3 and parts[2] in FLAT:
            live.append(path)
        elif len(parts) == 1 and parts[0] in FLAT:
            flat[FLAT[parts[0]]] = path
        elif len(parts) == 1 and parts[0] == "metadata.json":
            _metadata(source, path, lineage)
        elif parts[0] in CERTBOT_FOLDERS:
            lineage.notes[path] = (Outcome.SKIPPED, CERTBOT_FOLDERS[parts[0]])
        elif parts[0] == "live" and parts[-1] == "README":
            lineage.notes[path] = (Outcome.SKIPPED, "certbot's README about live/")
        elif parts[-1].lower().endswith((".pfx", ".p12")):
            lineage.notes[path] = (Outcome.SKIPPED, "a PKCS#12 copy: certmate builds one on download")
        else:
            lineage.notes[path] = (Outcome.SKIPPED, "not a file CertMate reads for a certificate")
    for (name, number), files in sorted(archive.items(), key=lambda item: (item[0][1], item[0][0])):
        lineage.versions.append(_version(source, f"archive/{name}/cert{number}.pem", files))
    fingerprints = {f.version.facts.fingerprint_sha256 for f in lineage.versions if f.version}
    for path in live:
        lineage.notes[path] = (Outcome.SKIPPED, "certbot's live/ copy of the newest archive/ version")
    if flat:
        newest = _version(source, "cert.pem", flat)
        if newest.version is not None and newest.version.facts.fingerprint_sha256 in fingerprints:
            for path in flat.values():
                lineage.notes[path] = (Outcome.SKIPPED, "CertMate's copy of the newest archive/ version")
        else:
            lineage.versions.append(newest)  # no archive, or newer than it (uploaded by hand)
    elif not archive and live:
        for path in live:
            lineage.notes.pop(path)
        lineage.versions.append(_version(source, "live", {FLAT[p.rsplit("/", 1)[1]]: p for p in live}))
    return lineage


def _metadata(source: Source, path: str, lineage: Lineage) -> None:
    try:
        data = json.loads(source.read(path).decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
    except (ValueError, UnicodeDecodeError) as exc:
        lineage.notes[path] = (Outcome.ATTENTION, f"unreadable ({_first(exc)}): the settings in domains are used")
        return
    lineage.metadata = data
    lineage.notes[path] = (Outcome.IMPORTED, "the certificate's settings")
