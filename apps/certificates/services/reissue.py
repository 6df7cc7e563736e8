"""Bulk reissue: after a CA distrust or a key compromise, renew every ACME certificate a selector matches
(by CA account, issuer, key type, names or ids; combinable), optionally revoking each old version once
its replacement is live, as one job with its progress and a result per certificate.

Asking records the bulk reissue and an item per matching certificate (with the version it replaces)
and sends its task; the task advances the items (services/reissue_advance.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, Func, Q, QuerySet, Value

from apps.certificates.models import (
    BulkReissue,
    CaAccount,
    Certificate,
    CertificateKind,
    KeyType,
    ReissueItem,
    ReissueStatus,
)
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from certmate.actors import Actor, Channel
from certmate.audit.services import audit_record
from certmate.dispatch import dispatch_on_commit
from certmate.locks import REISSUE, xact_lock_try

REISSUE_TASK = "apps.certificates.tasks.bulk_reissue_task"
SELECTOR_KEYS = ("ca_account", "issuer", "key_type", "names", "ids")
# One bulk reissue renews at most this many certificates (a tenant's whole estate in a few; each is an
# order at its CA, paced by the CA account's order limit).
MAX_CERTIFICATES = 5000
MAX_IDS = 1000
# Bulk reissues open at once per tenant: each one's task passes every few seconds while it moves, so a
# tenant cannot keep the shared workers busy with dozens; one selector can cover 5,000 certificates.
MAX_OPEN = 3
_GLOB = re.compile(r"[a-z0-9.*?_-]{1,253}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
AUDIT_TYPE = "bulk_reissue"


def _refused(key: str, message: str, code: str = "invalid") -> ValidationError:
    """A refusal naming the selector's key, in the message too (a command prints messages alone)."""
    field = f"selector.{key}" if key in SELECTOR_KEYS else key
    return ValidationError({field: ValidationError(f"{field}: {message}", code=code)})


def _text(selector: Mapping, key: str, limit: int) -> str | None:
    value = selector.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit or _CONTROL.search(value):
        raise _refused(key, f"give text of at most {limit} printable characters")
    return value.strip()


def _ids(value: Any) -> list[int] | None:
    if value in (None, []):
        return None
    if not isinstance(value, list) or len(value) > MAX_IDS:
        raise _refused("ids", f"give a list of at most {MAX_IDS} certificate ids")
    if any(type(pk) is not int or not 0 < pk < 2**63 for pk in value):
        raise _refused("ids", "each id is a positive whole number (a certificate's id)")
    return sorted(set(value))


def selector_clean(selector: Any) -> dict[str, Any]:
    """The selector as stored: ``ca_account`` (a CA account's name), ``issuer`` (text in the current
    version's issuer DN, any case), ``key_type``, ``names`` (a glob over the identifier and SANs, e.g.
    ``*.example.com``), ``ids`` (certificate ids); at least one, all of them applying together."""
    if not isinstance(selector, Mapping):
        raise _refused("selector", f"give an object with {', '.join(SELECTOR_KEYS)} (combinable)")
    unknown = sorted(str(key)[:40] for key in selector if key not in SELECTOR_KEYS)
    if unknown:
        raise _refused("selector", f"unknown key {unknown[0]!r}: use {', '.join(SELECTOR_KEYS)} (combinable)")
    cleaned: dict[str, Any] = {}
    account = _text(selector, "ca_account", 100)
    if account is not None:
        if not CaAccount.objects.filter(name=account).exists():
            raise _refused("ca_account", f"no CA account named {account!r} here (see /api/ca-accounts)")
        cleaned["ca_account"] = account
    issuer = _text(selector, "issuer", 200)
    if issuer is not None:
        cleaned["issuer"] = issuer
    key_type = _text(selector, "key_type", 20)
    if key_type is not None:
        if key_type not in KeyType.values:
            raise _refused("key_type", f"{key_type!r} is unknown: use one of {', '.join(KeyType.values)}")
        cleaned["key_type"] = key_type
    names = _text(selector, "names", 253)
    if names is not None:
        names = names.lower()
        if not _GLOB.fullmatch(names):
            raise _refused(
                "names",
                f"{names!r} is not a name glob: ASCII letters, digits, '.', '-', '*' (any "
                "characters) and '?' (one), e.g. *.example.com; internationalized names as xn--",
            )
        cleaned["names"] = names
    ids = _ids(selector.get("ids"))
    if ids is not None:
        cleaned["ids"] = ids
    if not cleaned:
        raise _refused("selector", f"say which certificates: {', '.join(SELECTOR_KEYS)} (combinable)")
    return cleaned


def _glob_regex(glob: str) -> str:
    """A PostgreSQL regular expression matching ``glob`` as one whole name in a space-separated list."""
    body = "".join("[^ ]*" if ch == "*" else "[^ ]" if ch == "?" else re.escape(ch) for ch in glob)
    return f"(^| ){body}( |$)"


def reissue_candidates() -> QuerySet[Certificate]:
    """What a bulk reissue may renew: ACME server certificates with a current version."""
    return Certificate.objects.filter(
        kind=CertificateKind.SERVER, authority__isnull=True, current_version__isnull=False
    )


def reissue_matches(selector: dict[str, Any]) -> QuerySet[Certificate]:
    """The candidates a (cleaned) selector matches, in a stable order."""
    rows = reissue_candidates()
    if "ca_account" in selector:
        # Its CA account's, or issued by that account (a fallback CA's version records which one).
        name = selector["ca_account"]
        rows = rows.filter(Q(ca_account__name=name) | Q(current_version__ca_account_name=name))
    if "issuer" in selector:
        rows = rows.filter(current_version__issuer__icontains=selector["issuer"])
    if "key_type" in selector:
        rows = rows.filter(key_type=selector["key_type"])
    if "names" in selector:
        names = Func(F("identifier"), F("san_domains"), function="array_prepend", output_field=ArrayField(CharField()))
        text = Func(names, Value(" "), function="array_to_string", output_field=CharField())
        rows = rows.alias(names_text=text).filter(names_text__regex=_glob_regex(selector["names"]))
    if "ids" in selector:
        rows = rows.filter(pk__in=selector["ids"])
    return rows.order_by("identifier", "pk")


def _ids_check(ids: list[int], matched: set[int]) -> None:
    """Explicit ids that match nothing are named (an admin's selection of a private or unissued one)."""
    missing = [pk for pk in ids if pk not in matched]
    if not missing:
        return
    known = dict(Certificate.objects.filter(pk__in=missing[:20]).values_list("pk", "identifier"))
    said = ", ".join(f"{known[pk]} (id {pk})" if pk in known else f"id {pk} (none here)" for pk in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    raise _refused(
        "ids",
        f"{said}{more}: not an ACME server certificate with an issued version matching the "
        "other criteria; leave them out",
        code="no_match",
    )


def _reason_clean(revoke_old: bool, reason: str | None) -> str:
    if not revoke_old:
        if reason:
            raise _refused("reason", "a reason without revoke_old revokes nothing: add revoke_old, or leave it out")
        return ""
    reason = reason or "unspecified"
    if reason not in REVOCATION_REASONS:
        raise _refused("reason", f"{str(reason)[:40]!r} is unknown: use one of {', '.join(REVOCATION_REASONS)}")
    return reason


def bulk_reissue_preview(*, selector: Any) -> int:
    """How many certificates a bulk reissue with this selector would renew now."""
    return reissue_matches(selector_clean(selector)).count()


def bulk_reissue_create(
    *, selector: Any, revoke_old: bool = False, reason: str | None = None, actor: Actor
) -> BulkReissue:
    """Record a bulk reissue of what ``selector`` matches now (an item per certificate, with the version
    it replaces) and send its task once this commits. ``revoke_old``: each old version is revoked, for
    ``reason`` (RFC 5280), once its replacement is stored and published. Refused (400) when it matches
    nothing or more than MAX_CERTIFICATES."""
    cleaned = selector_clean(selector)
    reason = _reason_clean(bool(revoke_old), reason)
    with transaction.atomic():
        _room_check()
        matched = list(reissue_matches(cleaned).values_list("pk", "current_version_id")[: MAX_CERTIFICATES + 1])
        if "ids" in cleaned:
            _ids_check(cleaned["ids"], {pk for pk, _ in matched})
        if not matched:
            raise _refused("selector", "it matches no ACME server certificate with an issued version", "no_match")
        if len(matched) > MAX_CERTIFICATES:
            raise _refused(
                "selector",
                f"it matches more than {MAX_CERTIFICATES} certificates: narrow it (by "
                "names or key type) and ask in parts",
                code="too_many",
            )
        bulk = BulkReissue.objects.create(
            selector=cleaned,
            revoke_old=bool(revoke_old),
            reason=reason,
            total=len(matched),
            requested_by=actor.user if actor.user_id else None,
            requested_by_name=actor.name[:254],
        )
        ReissueItem.objects.bulk_create(
            ReissueItem(bulk=bulk, certificate_id=pk, old_version_id=version) for pk, version in matched
        )
        changes = {"selector": cleaned, "revoke_old": bulk.revoke_old, "reason": reason, "matching": len(matched)}
        reissue_audit(bulk, actor, "bulk_reissue.requested", changes)
        dispatch_on_commit(REISSUE_TASK, (bulk.pk,))
    return bulk


def _room_check() -> None:
    """At most MAX_OPEN bulk reissues open (queued or running) in the tenant, counted one creation at a
    time (a transaction lock; a creation meanwhile is told to ask again)."""
    if not xact_lock_try(REISSUE, "create"):
        raise ValidationError("another bulk reissue is being started right now: ask again", code="conflict")
    open_ids = list(
        BulkReissue.objects.filter(status__in=(ReissueStatus.QUEUED, ReissueStatus.RUNNING)).values_list(
            "pk", flat=True
        )
    )
    if len(open_ids) >= MAX_OPEN:
        shown = ", ".join(str(pk) for pk in sorted(open_ids))
        raise ValidationError(
            f"{len(open_ids)} bulk reissues are still open ({shown}): at most {MAX_OPEN} run at once; wait for one "
            "to finish (GET /api/reissues/{id}) or widen a selector",
            code="conflict",
        )


def reissue_audit(bulk: BulkReissue, actor: Actor, action: str, changes: dict) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=AUDIT_TYPE,
        object_id=bulk.pk,
        object_name=f"bulk reissue {bulk.pk}",
        changes=changes,
    )


def requester(bulk: BulkReissue) -> Actor:
    """Who the renewals and revocations are asked for, as their audit records say: whoever asked."""
    return Actor(channel=Channel.SYSTEM, user=bulk.requested_by, name=bulk.requested_by_name or "bulk reissue")
