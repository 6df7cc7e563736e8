"""What a CA account's ACME directory advertises beyond RFC 8555: its profiles (``meta.profiles``, names a
certificate may choose) and its ARI base URL (``renewalInfo``, RFC 9773). Read through the egress rule,
bounded, and validated: the directory is remote JSON, and only names and an https URL of its are kept.

Read when the account first orders, when a tenant asks (the admin's and the API's "refresh"), by the
CA provider test (which stores nothing), and by the ARI refresh once the last read is a day old."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.certificates import untrusted
from apps.certificates.acme.fetch import FetchError, ca_get
from apps.certificates.acme.models import CaAccount
from apps.certificates.acme.runner import PROFILE_NAME
from certmate import egress
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record

logger = logging.getLogger(__name__)

MAX_DIRECTORY_BYTES = 64 * 1024
MAX_PROFILES = 32
MAX_DESCRIPTION_CHARS = 200
MAX_URL_CHARS = 500  # CaAccount.renewal_info_url
DIRECTORY_KEYS = ("newNonce", "newAccount", "newOrder")
# How old a reading may be before the ARI refresh reads the directory again (a CA may add ARI or profiles).
MAX_AGE = timedelta(days=1)
UNTRUSTED_HINT = "add its CA certificate to the CA account's trust bundle"


class DirectoryError(ValidationError):
    """The directory could not be read or is not an ACME directory; the message says which and why.
    Code ``ca_unreachable`` (the CA failed) or ``egress_refused`` (the platform does not connect there)."""


@dataclass(frozen=True)
class Directory:
    profiles: dict[str, str]
    renewal_info_url: str  # "" when the CA offers no ARI
    ignored: tuple[str, ...] = ()  # what the directory said that was left out, and why


def directory_fetch(url: str, *, trust_bundle: str = "", untrusted_hint: str = UNTRUSTED_HINT) -> Directory:
    try:
        answer = ca_get(url, trust_bundle=trust_bundle, max_bytes=MAX_DIRECTORY_BYTES, untrusted_hint=untrusted_hint)
    except FetchError as exc:
        raise DirectoryError(exc.message, code="egress_refused" if exc.refused else "ca_unreachable") from None
    if answer.status != 200:
        raise DirectoryError(f"ACME endpoint returned HTTP {answer.status}", code="ca_unreachable")
    if answer.body is None:
        raise DirectoryError(
            f"Endpoint answered more than {MAX_DIRECTORY_BYTES // 1024} KiB: not a directory", code="ca_unreachable"
        )
    return directory_parse(answer.body)


def directory_parse(body: bytes) -> Directory:
    try:
        directory = json.loads(body)
    except (ValueError, RecursionError):  # nested too deep for the parser: no directory either
        raise DirectoryError("Endpoint is accessible but returned invalid JSON", code="ca_unreachable") from None
    if not isinstance(directory, dict) or not all(isinstance(directory.get(key), str) for key in DIRECTORY_KEYS):
        raise DirectoryError("Endpoint does not appear to be a valid ACME directory", code="ca_unreachable")
    ignored: list[str] = []
    meta = directory.get("meta")
    profiles = _profiles((meta or {}).get("profiles") if isinstance(meta, dict) else None, ignored)
    return Directory(profiles, _renewal_info_url(directory.get("renewalInfo"), ignored), tuple(ignored))


def _profiles(offered, ignored: list[str]) -> dict[str, str]:
    if offered is None:
        return {}
    if not isinstance(offered, dict):
        ignored.append("meta.profiles is not an object")
        return {}
    profiles: dict[str, str] = {}
    for name, description in offered.items():
        if len(profiles) == MAX_PROFILES:
            ignored.append(f"profiles beyond the first {MAX_PROFILES}")
            break
        if not PROFILE_NAME.fullmatch(name):
            ignored.append("a profile whose name is not letters, digits, '.', '-', '_' (at most 64)")
            continue
        text = untrusted.one_line(description) if isinstance(description, str) else ""
        profiles[name] = text[:MAX_DESCRIPTION_CHARS]
    return profiles


def _renewal_info_url(value, ignored: list[str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_URL_CHARS:
        ignored.append(f"renewalInfo is not a URL of at most {MAX_URL_CHARS} characters")
        return ""
    try:
        # The certificate's CertID is appended as a path segment: a query or fragment would swallow it.
        egress.check_url(value, schemes=("https",), query=False)
    except egress.EgressRefused as exc:
        ignored.append(f"renewalInfo: {exc}")
        return ""
    return value.rstrip("/")


def ca_account_directory_read(*, account: CaAccount, actor: Actor) -> CaAccount:
    """Read the account's directory now and keep what it offers (profiles, ARI URL, when read), recorded
    as ``ca_account.directory_read``. A directory that cannot be read raises DirectoryError and changes
    nothing: the last reading stands. No row lock is held while the CA answers."""
    try:
        found = directory_fetch(account.directory_url, trust_bundle=account.trust_bundle)
    except DirectoryError as exc:
        raise DirectoryError(
            f"CA account {account.name!r}: reading its directory {account.directory_url} failed: {exc.message} "
            "(the profiles and ARI it offered before are kept; refresh again once the CA answers)",
            code=exc.code,
        ) from None
    with transaction.atomic():
        account = CaAccount.objects.select_for_update().get(pk=account.pk)
        before = {"profiles": account.profiles, "renewal_info_url": account.renewal_info_url}
        account.profiles, account.renewal_info_url = found.profiles, found.renewal_info_url
        account.directory_read_at = timezone.now()
        account.save(update_fields=["profiles", "renewal_info_url", "directory_read_at"])
        changes = audit_changes(before, {"profiles": found.profiles, "renewal_info_url": found.renewal_info_url})
        if found.ignored:
            changes["ignored"] = list(found.ignored)
        audit_record(
            actor=actor,
            action="ca_account.directory_read",
            object_type="ca_account",
            object_id=account.pk,
            object_name=account.name,
            changes=changes,
        )
    return account


def ca_account_directory_ensure(*, account: CaAccount, actor: Actor, max_age: timedelta | None = None) -> CaAccount:
    """The account with its directory read at least once (or within ``max_age``). A failed read is logged
    and the account answered as it was: the order or refresh that asked goes on without it."""
    fresh = account.directory_read_at is not None and (
        max_age is None or account.directory_read_at > timezone.now() - max_age
    )
    if fresh:
        return account
    try:
        return ca_account_directory_read(account=account, actor=actor)
    except DirectoryError as exc:
        logger.warning("%s", exc.message)
        return account
