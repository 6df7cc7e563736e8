"""What an engine hands back for an order, whatever the engine: a new version's material and the
engine's log of the run (untrusted text, cleaned before it is kept)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issued:
    cert_pem: str
    chain_pem: str
    fullchain_pem: str
    key_pem: str
    output: str
    # ACME: the CA account whose order issued it (after a fallback, not the certificate's own).
    ca_account_id: int | None = None
    ca_account_name: str = ""
