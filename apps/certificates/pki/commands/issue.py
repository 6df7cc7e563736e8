"""``manage.py pki issue`` (a certificate from a private CA, signed at once) and ``manage.py pki renew``
(its next version now, or from the holder's new CSR). Each prints the identifier, serial and expiry."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from apps.certificates.models import (
    CaKeyType,
    Certificate,
    CertificateAuthority,
    CertificateKind,
    CertificateProfile,
    CertificateVersion,
)
from apps.certificates.pki.commands.ca import authority_resolve
from apps.certificates.pki.csr import MAX_CSR_BYTES
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.renewal import private_certificate_csr_renew, private_certificate_renew_now
from certmate.actors import Actor

KINDS = [CertificateKind.CLIENT.value, CertificateKind.SERVER.value]


def register(subparsers) -> None:
    issue = subparsers.add_parser("issue", help="issue a certificate from one of the tenant's CAs now")
    issue.add_argument("--tenant", required=True, help="the tenant's slug")
    issue.add_argument("--ca", required=True, help="the issuing CA's name")
    issue.add_argument("--profile", help="the CA's profile to issue under (default: client or server, as --kind)")
    issue.add_argument("--kind", choices=KINDS, default=CertificateKind.CLIENT.value)
    issue.add_argument("--name", help="the certificate's name (default: from its common name or first DNS name)")
    issue.add_argument("--cn", help="subject common name")
    issue.add_argument("--org", help="subject organization")
    issue.add_argument("--ou", help="subject organizational unit")
    issue.add_argument("--email", help="subject e-mail address")
    issue.add_argument("--san", action="append", help="a SAN: DNS:x, IP:x, email:x, URI:x (repeat)")
    issue.add_argument("--key-type", choices=CaKeyType.values, help="server-side key (default: the profile's)")
    issue.add_argument("--csr", metavar="FILE", help="sign this CSR (PEM) instead: the key stays with its holder")
    issue.add_argument("--days", type=int, help="validity in days (default: the profile's)")
    issue.add_argument("--usage", default="", help="what it is for, as CertMate's cert_usage (vpn, api-mtls, ...)")
    issue.set_defaults(handler=issue_run)

    renew = subparsers.add_parser("renew", help="sign a private certificate's next version now")
    renew.add_argument("--tenant", required=True, help="the tenant's slug")
    renew.add_argument("name", help="the certificate's identifier")
    renew.add_argument("--kind", choices=KINDS, help="client or server, when both have this name")
    renew.add_argument("--csr", metavar="FILE", help="the holder's new CSR (PEM): re-issue for its key")
    renew.set_defaults(handler=renew_run)


def csr_read(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_CSR_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"cannot read the CSR {path}: {exc.strerror}") from None
    return data.decode("utf-8", "replace")


def profile_named(authority: CertificateAuthority, name: str) -> CertificateProfile:
    found = CertificateProfile.objects.select_related("authority").filter(authority=authority, name=name).first()
    if found is None:
        names = ", ".join(authority.profiles.order_by("name").values_list("name", flat=True)) or "none"
        raise CommandError(f"CA {authority.name!r} has no profile {name!r} (it has: {names})")
    return found


def printed(command, verb: str, certificate: Certificate, version: CertificateVersion) -> None:
    command.stdout.write(f"{verb} {certificate.kind} certificate {certificate.identifier} (version {version.number})")
    command.stdout.write(f"  identifier: {certificate.identifier}")
    command.stdout.write(f"  serial:     {version.serial}")
    command.stdout.write(f"  not_after:  {version.not_after.isoformat()}")


def issue_run(command, *, actor: Actor, ca, profile, kind, name, cn, org, ou, email, san, key_type, csr, days,
              usage, **options) -> None:  # fmt: skip
    authority = authority_resolve(ca)
    request = PrivateRequest(
        profile=profile_named(authority, profile or kind),
        kind=kind,
        name=name,
        subject={"common_name": cn, "organization": org, "organizational_unit": ou, "email": email},
        alt_names=san,
        key_type=key_type,
        csr_pem=csr_read(csr),
        days=days,
        usage=usage,
    )
    certificate = private_certificate_issue(request, actor=actor)
    printed(command, "issued", certificate, certificate.current_version)


def renew_run(command, *, actor: Actor, name, kind, csr, **options) -> None:
    rows = Certificate.objects.filter(identifier=name, authority__isnull=False)
    if kind:
        rows = rows.filter(kind=kind)
    found = list(rows[:2])
    if not found:
        raise CommandError(f"no private certificate named {name!r} in this tenant")
    if len(found) > 1:
        raise CommandError(f"a client and a server certificate are named {name!r}: say which with --kind")
    certificate = found[0]
    new_csr = csr_read(csr)
    if new_csr is not None:
        version = private_certificate_csr_renew(certificate=certificate, csr_pem=new_csr, actor=actor)
    else:
        version = private_certificate_renew_now(certificate=certificate, actor=actor)
    printed(command, "renewed", certificate, version)
