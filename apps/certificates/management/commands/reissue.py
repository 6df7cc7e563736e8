"""``manage.py reissue --tenant T`` with a selector (--ca-account, --issuer, --key-type, --names, --id;
combinable): renew every ACME certificate it matches as one bulk reissue, with --revoke-old [--reason R]
revoking each old version once its replacement is live. --preview counts, --show ID follows one asked
for before, --wait prints its progress until it has finished, --json prints it as the API answers it."""

from __future__ import annotations

import json
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._tenant import in_tenant
from apps.certificates.api.reissues import BulkReissueDetailSerializer
from apps.certificates.models import BulkReissue, KeyType, ReissueStatus
from apps.certificates.reissue_selectors import bulk_reissue_get, item_error, item_progress, reissue_items
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from apps.certificates.services.reissue import bulk_reissue_create, bulk_reissue_preview
from certmate.actors import Actor
from certmate.errors import NotFound

COMMAND = Actor.command(name="manage.py reissue")
POLL_SECONDS = 1.0


class Command(BaseCommand):
    help = (
        "Renew every ACME certificate a selector matches (after a CA distrust or a key compromise), optionally "
        "revoking each old version once its replacement is stored and published."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--ca-account", help="certificates of this CA account (or whose version it issued)")
        parser.add_argument("--issuer", help="certificates whose current version's issuer DN contains this text")
        parser.add_argument("--key-type", choices=KeyType.values, help="certificates of this key type")
        parser.add_argument("--names", help="a glob over names and SANs, e.g. '*.example.com'")
        parser.add_argument("--id", type=int, action="append", dest="ids", help="a certificate's id (repeatable)")
        parser.add_argument("--revoke-old", action="store_true", help="revoke each old version once replaced")
        parser.add_argument("--reason", choices=REVOCATION_REASONS, help="with --revoke-old (default unspecified)")
        parser.add_argument("--preview", action="store_true", help="print how many it would renew, renew nothing")
        parser.add_argument("--show", type=int, metavar="ID", help="follow the bulk reissue ID instead")
        parser.add_argument("--wait", action="store_true", help="print its progress until it has finished")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits (default 3600)")
        parser.add_argument("--json", action="store_true", help="print it (at the end, with --wait) as JSON")

    def handle(self, *args, tenant, show, preview, wait, timeout, **options):
        with in_tenant(tenant):
            try:
                bulk = self._bulk(show, preview, **options)
            except ValidationError as exc:
                raise command_error(exc) from None
            if bulk is None:
                return
            if wait:
                bulk = self._wait(bulk, timeout, quiet=options["json"])
            self._report(bulk, as_json=options["json"], detailed=wait or show is not None)

    def _bulk(self, show, preview, *, ca_account, issuer, key_type, names, ids, revoke_old, reason, **options):
        if show is not None:
            try:
                return bulk_reissue_get(bulk_id=show)
            except NotFound as exc:
                raise CommandError(str(exc)) from None
        selector = {
            key: value
            for key, value in (
                ("ca_account", ca_account),
                ("issuer", issuer),
                ("key_type", key_type),
                ("names", names),
                ("ids", ids),
            )
            if value
        }
        if preview:
            self.stdout.write(f"{bulk_reissue_preview(selector=selector)} certificates match")
            return None
        bulk = bulk_reissue_create(selector=selector, revoke_old=revoke_old, reason=reason, actor=COMMAND)
        if not options["json"]:
            revoking = f", revoking the old versions ({bulk.reason})" if bulk.revoke_old else ""
            self.stdout.write(f"bulk reissue {bulk.pk} asked for: {bulk.total} certificates{revoking}")
        return bulk_reissue_get(bulk_id=bulk.pk)

    def _wait(self, bulk: BulkReissue, timeout: float, *, quiet: bool) -> BulkReissue:
        """Poll until it has finished, printing a line whenever its progress or an item's state changes."""
        deadline = time.monotonic() + timeout
        said: dict[int, tuple] = {}
        summary = ""
        while True:
            bulk = bulk_reissue_get(bulk_id=bulk.pk)
            for item in reissue_items(bulk):
                state = (item.status, item_progress(item))
                if not quiet and said.get(item.pk) != state:
                    self.stdout.write(f"  {item.certificate.identifier}: {' - '.join(filter(None, state))}")
                said[item.pk] = state
            line = _summary(bulk)
            if not quiet and line != summary:
                self.stdout.write(line)
            summary = line
            if bulk.finished_at is not None:
                return bulk
            if time.monotonic() > deadline:
                raise CommandError(f"{line} after {timeout:.0f} s (is a worker running? `make run` starts one)")
            time.sleep(POLL_SECONDS)

    def _report(self, bulk: BulkReissue, *, as_json: bool, detailed: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(BulkReissueDetailSerializer(bulk).data, indent=2))
        elif detailed:
            for item in reissue_items(bulk):
                versions = f"v{item.old_version.number if item.old_version else '?'}"
                versions += f" -> v{item.new_version.number}" if item.new_version else ""
                why = item_error(item) or item_progress(item)
                self.stdout.write(
                    f"{item.certificate.identifier} {versions}: {item.status}" + (f": {why}" if why else "")
                )
            self.stdout.write(_summary(bulk))
        if bulk.status in (ReissueStatus.FAILED, ReissueStatus.FAILED_PARTIALLY):
            raise CommandError(f"{bulk.failed} of {bulk.total} failed", returncode=2)


def _summary(bulk: BulkReissue) -> str:
    return (
        f"bulk reissue {bulk.pk} {bulk.status}: {bulk.items_done} of {bulk.total} finished, {bulk.renewed} "
        f"renewed, {bulk.revoked} revoked, {bulk.failed} failed"
    )
