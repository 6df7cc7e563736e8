"""``manage.py pki crl refresh|publish|show|validity``: a tenant's CRLs from the host's shell. ``refresh``
is beat's pass for one tenant (a new CRL where half-life passed), ``publish`` signs one for a CA now,
``show`` tells the current one and its public URL, ``validity`` sets how long a CA's CRLs are valid."""

from __future__ import annotations

from apps.certificates.pki.commands.ca import authority_resolve
from apps.certificates.pki.crl_refresh import ca_crl_validity_set, crl_always, crl_latest, crl_refresh, crls_refresh
from apps.certificates.pki.public_urls import crl_url


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def refresh(command, *, actor, **options):
    sweep = crls_refresh(actor=actor)
    for name in sweep.published:
        authority = authority_resolve(name)
        command.stdout.write(f"{name}: CRL #{authority.crl_number} signed")
    for name in sweep.failed:
        command.stderr.write(f"{name}: failed (see the log)")
    command.stdout.write(f"{sweep.checked} CAs checked, {len(sweep.published)} new CRLs")


def publish(command, *, actor, name, **options):
    crl = crl_refresh(authority=authority_resolve(name), actor=actor, due=crl_always)
    command.stdout.write(f"{name}: CRL #{crl.number} signed, {crl.entries} revoked, next update "
                         f"{_when(crl.next_update)}")  # fmt: skip


def show(command, *, actor, name, **options):
    authority = authority_resolve(name)
    crl = crl_latest(authority)
    if crl is None:
        command.stdout.write(f"{name}: no CRL yet (beat or the first request at {crl_url(authority)} signs one)")
        return
    command.stdout.write(f"{name}: CRL #{crl.number}, {crl.entries} revoked, this update {_when(crl.this_update)}, "
                         f"next update {_when(crl.next_update)}, valid {authority.crl_validity_hours} hours; "
                         f"{crl_url(authority)}")  # fmt: skip


def validity(command, *, actor, name, hours, **options):
    authority = ca_crl_validity_set(authority=authority_resolve(name), hours=hours, actor=actor)
    command.stdout.write(f"{name}: CRLs valid {authority.crl_validity_hours} hours (a new one at half of it)")


def register(subparsers) -> None:
    area = subparsers.add_parser("crl", help="the CAs' certificate revocation lists")
    actions = area.add_subparsers(dest="action", required=True)
    for action, handler, text in (
        ("refresh", refresh, "sign a new CRL for every CA at half-life or without one (beat's pass)"),
        ("publish", publish, "sign a new CRL for a CA now"),
        ("show", show, "a CA's current CRL and its public URL"),
        ("validity", validity, "how long a CA's CRLs are valid (hours, 1 to 8760)"),
    ):
        parser = actions.add_parser(action, help=text)
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        if action != "refresh":
            parser.add_argument("name", help="the CA's name")
        if action == "validity":
            parser.add_argument("hours", type=int)
        parser.set_defaults(handler=handler)
