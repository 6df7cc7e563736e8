"""What every storage backend must do, run against each one's real (or wire-level) server.

    check_contract(lambda tenant: VaultBackend(tenant=tenant, settings=..., credentials=...))

``make`` builds the backend for a tenant slug; the checks use two tenants and a wildcard identifier.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from apps.storage.backends.base import Bundle, StorageBackend, StoredItem

PEM = "-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"


def sample_bundle(identifier: str, version: int = 1, *, kind: str = "server", tag: str = "") -> Bundle:
    """A bundle whose every file differs by identifier, version and tag, so a mix-up shows."""
    body = f"{kind}:{identifier}:v{version}:{tag}"
    cert = PEM.format(body=f"leaf {body}")
    chain = PEM.format(body=f"intermediate {body}")
    return Bundle(
        kind=kind,
        identifier=identifier,
        version=version,
        cert_pem=cert,
        chain_pem=chain,
        fullchain_pem=cert + chain,
        privkey_pem=KEY.format(body=f"key {body}"),
        metadata={"domain": identifier, "version": version, "serial": f"{version:x}", "tag": tag},
    )


def check_contract(make: Callable[[str], StorageBackend], *, tenants: tuple[str, str] | None = None) -> None:
    first, second = tenants or (f"ta{uuid.uuid4().hex[:8]}", f"tb{uuid.uuid4().hex[:8]}")
    alpha, beta = make(first), make(second)
    alpha.test_connection()
    wildcard = f"*.{uuid.uuid4().hex[:8]}.example.com"
    plain = f"www.{uuid.uuid4().hex[:8]}.example.com"

    # Store and read back byte-identical; a missing one reads as None.
    v1 = sample_bundle(wildcard, 1)
    alpha.store(v1)
    assert alpha.read("server", wildcard) == v1
    assert alpha.read("server", plain) is None
    assert alpha.read("client", wildcard) is None

    # A second version becomes current; the first is still there where the backend keeps versions.
    v2 = sample_bundle(wildcard, 2)
    alpha.store(v2)
    assert alpha.read("server", wildcard) == v2
    if alpha.keeps_versions:
        assert alpha.read("server", wildcard, version=1) == v1
        assert alpha.read("server", wildcard, version=2) == v2
    # Storing the same version again changes nothing a reader sees.
    alpha.store(v2)
    assert alpha.read("server", wildcard) == v2

    # Client certificates live apart from server certificates of the same identifier.
    client = sample_bundle(wildcard, 1, kind="client")
    alpha.store(client)
    alpha.store(sample_bundle(plain, 1))
    assert alpha.read("server", wildcard) == v2
    assert alpha.read("client", wildcard) == client
    assert sorted(alpha.list(), key=repr) == sorted(
        [StoredItem("server", wildcard, 2), StoredItem("client", wildcard, 1), StoredItem("server", plain, 1)],
        key=repr,
    )

    # Another tenant with the same identifier neither sees nor overwrites the first tenant's material.
    assert beta.read("server", wildcard) is None
    assert beta.list() == []
    theirs = sample_bundle(wildcard, 1, tag="beta")
    beta.store(theirs)
    assert beta.read("server", wildcard) == theirs
    assert alpha.read("server", wildcard) == v2
    beta.delete("server", wildcard)
    assert alpha.read("server", wildcard) == v2

    # Delete removes the certificate (and its earlier versions) and is safe to repeat.
    alpha.delete("server", wildcard)
    alpha.delete("server", wildcard)
    assert alpha.read("server", wildcard) is None
    if alpha.keeps_versions:
        assert alpha.read("server", wildcard, version=1) is None
    assert alpha.read("client", wildcard) == client
    assert sorted(alpha.list(), key=repr) == sorted(
        [StoredItem("client", wildcard, 1), StoredItem("server", plain, 1)], key=repr
    )
    alpha.delete("client", wildcard)
    alpha.delete("server", plain)
    assert alpha.list() == []
