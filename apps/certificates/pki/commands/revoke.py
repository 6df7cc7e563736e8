"""``manage.py pki revoke`` (a private certificate's version, by name or by serial, or its hold lifted
with --unhold), ``pki revoke-ca`` (an intermediate, into its root's CRL) and ``pki revoke-bulk`` (every
certificate of a subject, a profile or signed before a date, as one job; --wait prints each result).
Each revocation is signed into the CA's CRL at once and audited as done by the command."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.dateparse import parse_date, parse_datetime

from apps.certificates.models import BulkRevocation, Certificate, CertificateVersion
from apps.certificates.pki.bulk_revocation import bulk_revoke_preview, bulk_revoke_submit
from apps.certificates.pki.commands.batch import finished_wait
from apps.certificates.pki.commands.ca import authority_resolve
from apps.certificates.pki.crl import crl_current
from apps.certificates.pki.revocation_rules import CA_REQUEST_REASONS, LEAF_REASONS
from apps.certificates.pki.revoking import (
    ca_revoke,
    private_version_by_serial,
    private_version_revoke,
    private_version_unhold,
)
from apps.certificates.selectors import certificate_version
from certmate.actors import Actor
from certmate.errors import NotFound

KINDS = ("client", "server")


def register(subparsers) -> None:
    revoke = subparsers.add_parser("revoke", help="revoke a private certificate (by name, or --serial with --ca)")
    revoke.add_argument("--tenant", required=True, help="the tenant's slug")
    revoke.add_argument("name", nargs="?", help="the certificate's identifier")
    revoke.add_argument("--kind", choices=KINDS, help="client or server, when both have this name")
    revoke.add_argument("--version", type=int, help="an earlier version's number (default: the current one)")
    revoke.add_argument("--serial", help="instead of a name: the serial (hex as openssl prints it, or decimal)")
    revoke.add_argument("--ca", help="with --serial: the CA that signed it")
    _reason_arguments(revoke, LEAF_REASONS)
    revoke.add_argument("--unhold", action="store_true", help="lift a hold (removeFromCRL) instead of revoking")
    revoke.set_defaults(handler=revoke_command)

    authority = subparsers.add_parser("revoke-ca", help="revoke an intermediate CA: listed in its root's CRL")
    authority.add_argument("--tenant", required=True, help="the tenant's slug")
    authority.add_argument("ca", help="the intermediate's name")
    authority.add_argument("--reason", default="unspecified", help=f"one of {', '.join(CA_REQUEST_REASONS)}")
    authority.set_defaults(handler=revoke_ca_command)

    bulk = subparsers.add_parser("revoke-bulk", help="revoke every certificate of a subject, profile or date")
    bulk.add_argument("--tenant", required=True, help="the tenant's slug")
    bulk.add_argument("--ca", required=True, help="the CA whose certificates to revoke")
    bulk.add_argument("--subject", help="every certificate of this common name (any case)")
    bulk.add_argument("--profile", help="every certificate issued under this profile of the CA")
    bulk.add_argument("--issued-before", help="every certificate signed before this ISO date or date-time")
    _reason_arguments(bulk, LEAF_REASONS)
    bulk.add_argument("--preview", action="store_true", help="print how many it would revoke, and revoke nothing")
    bulk.add_argument("--wait", action="store_true", help="wait for the job and print each result")
    bulk.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits (default 3600)")
    bulk.set_defaults(handler=revoke_bulk_command)


def _reason_arguments(parser, reasons) -> None:
    parser.add_argument("--reason", default="unspecified", help=f"one of {', '.join(reasons)} (default unspecified)")
    parser.add_argument("--invalidity-date", help="keycompromise: since when (ISO date or date-time, UTC)")


def _moment(text: str | None):
    if text is None:
        return None
    try:
        moment = parse_datetime(text) or parse_date(text)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--invalidity-date {text!r}: give an ISO 8601 date or date-time")
    return moment


def _version(*, name, kind, version, serial, ca) -> CertificateVersion:
    if serial is not None or ca is not None:
        if serial is None or ca is None or name is not None:
            raise CommandError("give a certificate's name, or --serial with --ca (not both)")
        return private_version_by_serial(authority=authority_resolve(ca), serial=serial)
    if name is None:
        raise CommandError("give a certificate's name, or --serial with --ca")
    rows = Certificate.objects.filter(identifier=name, authority__isnull=False)
    found = list((rows.filter(kind=kind) if kind else rows)[:2])
    if not found:
        raise CommandError(f"no private certificate named {name!r} in this tenant")
    if len(found) > 1:
        raise CommandError(f"a client and a server certificate are named {name!r}: say which with --kind")
    return certificate_version(certificate=found[0], number=version)


def revoke_command(command, *, actor: Actor, name, kind, version, serial, ca, reason, invalidity_date, unhold,
                   **options) -> None:  # fmt: skip
    try:
        found = _version(name=name, kind=kind, version=version, serial=serial, ca=ca)
    except NotFound as exc:
        raise CommandError(str(exc)) from None
    if unhold:
        found = private_version_unhold(version=found, actor=actor)
    else:
        found = private_version_revoke(version=found, reason=reason, actor=actor,
                                       invalidity_date=_moment(invalidity_date))  # fmt: skip
    what = f"{found.certificate.kind} certificate {found.certificate.identifier} version {found.number}"
    if found.revoked_at is None:
        command.stdout.write(f"{what} (serial {found.serial}) is not revoked")
    else:
        since = f", invalid since {found.invalidity_date.isoformat()}" if found.invalidity_date else ""
        command.stdout.write(f"{what} (serial {found.serial}) revoked: {found.revocation_reason}, "
                             f"{found.revoked_at.isoformat()}{since}")  # fmt: skip
    _crl_said(command, found.authority)


def _crl_said(command, authority) -> None:
    crl = crl_current(authority)
    if crl is not None:
        command.stdout.write(f"CRL #{crl.number} of CA {authority.name!r}: {crl.entries} revoked, next update "
                             f"{crl.next_update.isoformat()}")  # fmt: skip


def revoke_ca_command(command, *, actor: Actor, ca, reason, **options) -> None:
    authority = ca_revoke(authority=authority_resolve(ca), reason=reason, actor=actor)
    command.stdout.write(f"CA {authority.name!r} revoked: {authority.revocation_reason}, "
                         f"{authority.revoked_at.isoformat()}; it is {authority.state}")  # fmt: skip
    _crl_said(command, authority.parent)


def revoke_bulk_command(command, *, actor: Actor, ca, subject, profile, issued_before, reason, invalidity_date,
                        preview, wait, timeout, **options) -> None:  # fmt: skip
    authority = authority_resolve(ca)
    selector = {key: value for key, value in
                (("subject", subject), ("profile", profile), ("issued_before", issued_before)) if value}  # fmt: skip
    if preview:
        count = bulk_revoke_preview(authority=authority, selector=selector, reason=reason)
        command.stdout.write(f"{count} certificate versions of CA {authority.name!r} match")
        return
    bulk = bulk_revoke_submit(authority=authority, selector=selector, reason=reason, actor=actor,
                              invalidity_date=_moment(invalidity_date))  # fmt: skip
    command.stdout.write(f"bulk revocation {bulk.pk} submitted: {bulk.total} certificate versions match")
    if not wait:
        return
    bulk = finished_wait(BulkRevocation, bulk.pk, timeout=timeout, what=f"bulk revocation {bulk.pk}")
    for result in bulk.results:
        line = f"{result['identifier']} version {result['version']} (serial {result['serial']}): {result['status']}"
        command.stdout.write(line + (f": {result['error']}" if result.get("error") else ""))
    command.stdout.write(f"bulk revocation {bulk.pk} {bulk.status}: {bulk.revoked} revoked, {bulk.failed} failed")
    if bulk.failed:
        raise CommandError(f"{bulk.failed} of {bulk.total} failed", returncode=2)
