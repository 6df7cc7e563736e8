"""The rules every face of private-CA revocation shares, before anything is written: which reasons a
certificate or a CA may be revoked for, what an invalidity date may be, how a serial is read, and what
asking again for something already revoked does."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError

# RFC 5280 5.3.1 reasons, certmate's lowercase spelling. A hold (certificateHold) is the one reversible
# revocation: removeFromCRL lifts it (private_version_unhold), any other reason makes it final.
HOLD = "certificatehold"
LEAF_REASONS = ("unspecified", "keycompromise", "affiliationchanged", "superseded", "cessationofoperation", HOLD)
# A CA is revoked for good (it is retired with it): no hold. cACompromise is a CA's keyCompromise.
CA_REASONS = ("unspecified", "cacompromise", "affiliationchanged", "superseded", "cessationofoperation")
CA_REQUEST_REASONS = (*CA_REASONS, "keycompromise")  # what a request may say (recorded as cacompromise)
# Reasons that may replace another on something already revoked: a compromise learnt later matters to
# every relying party (it backdates distrust); anything else would only rewrite history.
COMPROMISES = ("keycompromise", "cacompromise")
# A client clock a little ahead of ours is not "the future".
CLOCK_SKEW = timedelta(minutes=5)
MAX_SERIAL_BITS = 160  # RFC 5280: at most 20 octets
_SERIAL_TEXT = 64
_SPELLING = re.compile(r"[\s_-]+")


def field_error(field: str, message: str, code: str = "invalid") -> ValidationError:
    """A refusal naming ``field`` whose code survives (Django drops a dict's code on its messages)."""
    return ValidationError({field: ValidationError(message, code=code)})


def reason_name(text: str) -> str:
    """RFC 5280's camelCase (keyCompromise), key_compromise and "Key Compromise" as certmate spells it."""
    return _SPELLING.sub("", text[:60]).lower()


def reason_clean(reason, *, allowed: tuple[str, ...] = LEAF_REASONS) -> str:
    """``reason`` as certmate names it; RFC 5280's camelCase (keyCompromise) and key_compromise are the
    same. Anything else is refused (code ``invalid_reason``) with the reasons that are allowed."""
    text = reason if isinstance(reason, str) else ""
    name = reason_name(text)
    if name not in allowed:
        shown = text[:40] if text else type(reason).__name__
        raise field_error(
            "reason", f"{shown!r} is not a reason to revoke this for: use one of {', '.join(allowed)}", "invalid_reason"
        )
    return name


def invalidity_date_clean(value, *, reason: str, not_before: datetime, now: datetime) -> datetime | None:
    """When the key is known or suspected to have been compromised, or the certificate otherwise became
    invalid (RFC 5280 5.3.2): not in the future (a few minutes of clock skew are taken as now), not
    before the certificate's own notBefore (an earlier date says nothing more, and is most likely a
    typo), and never on a hold (a suspension claims nothing happened yet). Whole seconds, UTC."""
    if value is None:
        return None
    if reason == HOLD:
        raise field_error("invalidity_date", "a hold (certificatehold) has no invalidity date")
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time.min, tzinfo=UTC)
    if not isinstance(value, datetime):
        raise field_error("invalidity_date", "give a date and time (ISO 8601)")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC).replace(microsecond=0)
    if value > now + CLOCK_SKEW:
        raise field_error("invalidity_date", f"{value.isoformat()} is in the future")
    earliest = not_before.astimezone(UTC).replace(microsecond=0)
    if value < earliest:
        raise field_error("invalidity_date", f"{value.isoformat()} is before the certificate's notBefore "
                          f"({earliest.isoformat()}): use that date or later")  # fmt: skip
    return min(value, now.astimezone(UTC).replace(microsecond=0))


def revocation_outcome(*, revoked: bool, current: str, reason: str, same_date: bool) -> str:
    """What revoking something for ``reason`` does, given its state: "revoke" (not revoked yet), "same"
    (asked again: nothing changes, nothing is recorded), or "amend" (a hold made final, or a compromise
    learnt later). Anything else is refused (code ``revoked``): a revocation is final."""
    if not revoked:
        return "revoke"
    if current == reason and same_date:
        return "same"
    if current == HOLD and reason != HOLD:
        return "amend"
    if reason != HOLD and (reason == current or reason in COMPROMISES):
        return "amend"
    wanted = "put on hold" if reason == HOLD else f"revoked again for {reason}"
    raise ValidationError(
        f"already revoked ({current}): a revocation is final and cannot be {wanted}; only a compromise "
        "(keycompromise, cacompromise) may replace its reason",
        code="revoked",
    )


def serial_candidates(value) -> list[str]:
    """The stored spellings (lowercase hex, no leading zeros) a serial given by a person may mean: an
    integer is the number itself; text is hex (``0x`` prefix, colons as openssl prints them, letters
    a-f) or, when it is digits only, either hex or decimal (CertMate shows serials in decimal) — the
    caller looks both up. Bounded to RFC 5280's 20 octets."""
    numbers = []
    if isinstance(value, int) and not isinstance(value, bool):
        numbers = [value]
    elif isinstance(value, str) and len(value) <= _SERIAL_TEXT:
        text = re.sub(r"[\s:]", "", value).lower()
        if re.fullmatch(r"0x[0-9a-f]+", text):
            numbers = [int(text[2:], 16)]
        elif re.fullmatch(r"[0-9a-f]+", text):
            numbers = [int(text, 16)]
            if text.isdigit():
                numbers.append(int(text))
    found = [format(n, "x") for n in numbers if 0 < n < 2**MAX_SERIAL_BITS]
    if not found:
        raise field_error(
            "serial", "give a serial number: hex (0x1a2b, 1a:2b, as openssl prints it) or decimal, at most 20 octets"
        )
    return list(dict.fromkeys(found))
