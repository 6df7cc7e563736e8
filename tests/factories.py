"""Certificates with real versions for tests: certificates signed by a test CA (trustme: a root and
an intermediate), parsed with the same certificate_facts as issuance, stored the way issuance stores
them. Call these inside the tenant's schema (tenant_context)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import trustme
from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.utils import timezone

from apps.certificates.acme.accounts import ca_account_create
from apps.certificates.acme.dns_accounts import dns_account_create
from apps.certificates.issued import Issued
from apps.certificates.models import (
    CaAccount,
    Certificate,
    CertificateVersion,
    DnsAccount,
    Job,
    JobOperation,
    JobStatus,
)
from apps.certificates.services.issuance import version_make_current
from certmate.actors import Actor

ROOT = trustme.CA()
INTERMEDIATE = ROOT.create_child_ca()
TEST_ACTOR = Actor.command(name="tests")  # who acts when a test calls a service directly
RFC2136 = {"nameserver": "127.0.0.1", "tsig_key": "k", "tsig_secret": "c2VjcmV0"}


@dataclass(frozen=True)
class Material:
    cert_pem: str
    chain_pem: str
    fullchain_pem: str
    key_pem: str


def material(names: list[str], *, rsa: bool = False, days: int = 90, not_before: datetime | None = None) -> Material:
    """A leaf for ``names`` from the intermediate; the key as PKCS#8, as certbot writes it."""
    start = not_before or timezone.now() - timedelta(days=1)
    leaf = INTERMEDIATE.issue_cert(
        *names,
        not_before=start,
        not_after=start + timedelta(days=days),
        key_type=trustme.KeyType.RSA if rsa else trustme.KeyType.ECDSA,
    )
    cert_pem, chain_pem = (blob.bytes().decode() for blob in leaf.cert_chain_pems)
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return Material(cert_pem, chain_pem, cert_pem + chain_pem, key_pem)


def accounts(prefix: str = "") -> tuple[CaAccount, DnsAccount]:
    """A Let's Encrypt CA account and a default rfc2136 DNS account (created once per prefix)."""
    ca = CaAccount.objects.filter(name=f"{prefix}le").first() or ca_account_create(
        actor=TEST_ACTOR, name=f"{prefix}le", directory="letsencrypt", email="ops@example.com", is_default=not prefix
    )
    dns = DnsAccount.objects.filter(name=f"{prefix}bind").first() or dns_account_create(
        actor=TEST_ACTOR, name=f"{prefix}bind", provider="rfc2136", credentials=RFC2136, is_default=not prefix
    )
    return ca, dns


def version_add(certificate: Certificate, *, rsa: bool = False, days: int = 90, **options) -> CertificateVersion:
    """A new current version, stored as issuance stores one."""
    made = material(certificate.names, rsa=rsa, days=days, **options)
    issued = Issued(made.cert_pem, made.chain_pem, made.fullchain_pem, made.key_pem, output="")
    with transaction.atomic():
        version = version_make_current(certificate=certificate, issued=issued, actor=Actor.system("worker"))
    certificate.refresh_from_db()
    certificate.current_version = version  # cached: tests read it outside the tenant's schema
    Job.objects.create(
        certificate=certificate,
        operation=JobOperation.ISSUE if version.number == 1 else JobOperation.RENEW,
        status=JobStatus.SUCCEEDED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        output="certbot: Successfully received certificate.",
        version=version,
    )
    return version


def certificate_make(
    identifier: str,
    *,
    san_domains: tuple[str, ...] = (),
    versions: int = 1,
    rsa: bool = False,
    with_accounts: bool = True,
    **fields,
) -> Certificate:
    """A certificate with ``versions`` issued versions (0: asked for, pending)."""
    ca, dns = accounts() if with_accounts else (None, None)
    certificate = Certificate.objects.create(
        identifier=identifier, san_domains=list(san_domains), ca_account=ca, dns_account=dns, **fields
    )
    for _ in range(versions):
        version_add(certificate, rsa=rsa)
    return certificate


def issued_version(
    identifier: str,
    *,
    san: list[str] | None = None,
    kind: str = "server",
    ca_account: CaAccount | None = None,
    dns_account: DnsAccount | None = None,
) -> CertificateVersion:
    """A new current version of the certificate ``identifier`` (created with these accounts if missing)."""
    certificate, _ = Certificate.objects.get_or_create(
        kind=kind,
        identifier=identifier,
        defaults={"san_domains": san or [], "ca_account": ca_account, "dns_account": dns_account},
    )
    return version_add(certificate)
