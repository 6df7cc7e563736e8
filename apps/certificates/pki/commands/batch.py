"""``manage.py pki batch --tenant T --ca NAME FILE``: issue the rows of a CSV (header row) or JSON file
(a list of rows, or {"rows": [...]}) from a CA as one job, and print a result per row with --wait.
Without --idempotency-key the file's content is the key: the same file sent twice is issued once."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from django.core.management.base import CommandError

from apps.certificates.models import CertificateAuthority, IssuanceBatch
from apps.certificates.pki.batch_rows import MAX_CSV_BYTES, batch_rows_from_csv
from apps.certificates.pki.batching import batch_submit

POLL_SECONDS = 0.5


def register(subparsers) -> None:
    parser = subparsers.add_parser("batch", help="issue the rows of a CSV or JSON file as one job")
    parser.add_argument("--tenant", required=True, help="the tenant's slug")
    parser.add_argument("--ca", required=True, help="the issuing CA's name")
    parser.add_argument("--profile", help="the profile of rows that name none (default: the CA's 'client')")
    parser.add_argument("--idempotency-key", help="default: derived from the file's content")
    parser.add_argument("--wait", action="store_true", help="wait for the job and print each row's result")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits (default 3600)")
    parser.add_argument("file", help="a .csv (with a header row) or .json file")
    parser.set_defaults(handler=batch_command)


def _rows(path: Path):
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    if path.suffix.lower() == ".csv":
        return batch_rows_from_csv(content), content
    if len(content) > MAX_CSV_BYTES:
        raise CommandError(f"{path} is larger than {MAX_CSV_BYTES // 1024 // 1024} MiB")
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"{path} is not JSON: {exc}") from None
    return (data.get("rows") if isinstance(data, dict) else data), content


def finished_wait(model, pk: int, *, timeout: float, what: str):
    """The job's row (a batch, a bulk revocation) once its job has finished; a CommandError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while (row := model.objects.get(pk=pk)).finished_at is None:
        if time.monotonic() > deadline:
            raise CommandError(f"{what}: {row.done} of {row.total} done after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
    return row


def batch_command(command, *, actor, ca, file, profile=None, idempotency_key=None, wait=False, timeout=3600, **_):
    authority = CertificateAuthority.objects.filter(name=ca).first()
    if authority is None:
        raise CommandError(f"no CA named {ca!r} in this tenant (see `manage.py pki ca list`)")
    rows, content = _rows(Path(file))
    key = idempotency_key or f"file-{hashlib.sha256(content).hexdigest()[:40]}"
    batch, created = batch_submit(authority=authority, rows=rows, idempotency_key=key, actor=actor, profile=profile)
    said = "submitted" if created else "was submitted before (same key and rows)"
    command.stdout.write(f"batch {batch.pk} ({key}) {said}: {batch.total} rows")
    if not wait:
        return
    batch = finished_wait(IssuanceBatch, batch.pk, timeout=timeout, what=f"batch {batch.pk}")
    for result in batch.results:
        if result["status"] == "issued":
            command.stdout.write(f"row {result['row']}: issued {result['identifier']}")
        else:
            command.stdout.write(f"row {result['row']}: failed: {result['error']}")
    command.stdout.write(f"batch {batch.pk} {batch.status}: {batch.succeeded} issued, {batch.failed} failed")
    if batch.failed:
        raise CommandError(f"{batch.failed} of {batch.total} rows failed", returncode=2)
