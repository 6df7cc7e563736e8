"""API tokens of the current tenant's users. The token text is shown once; only its hash is kept.

Writes record ``token.created`` (its name, role, prefix, expiry and user; never the token) and
``token.revoked``.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import ApiToken, CertmateTokenKey, Role, TokenHash, User
from apps.accounts.models.tokens import SHOWN_PREFIX_LENGTH, TOKEN_PREFIX, certmate_hmac_of, token_hash_of
from apps.accounts.scopes import CertificateScope, allowed_domains_clean
from apps.accounts.services.audit_tenant import audit_in_tenant
from apps.accounts.services.users import role_clean
from certmate.actors import Actor

# A token lives ten years at most, however its expiry is given (days or a date).
MAX_TOKEN_DAYS = 3650
# last_used_at is written at most this often per token, so busy clients do not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def token_create(
    *,
    user: User,
    role: Role | str,
    name: str = "",
    expires_at: datetime | None = None,
    allowed_domains: list[str] | None = None,
    within: CertificateScope | None = None,
    actor: Actor,
) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its text, which is never available again. The actor's user (none:
    the platform's command line) is kept as its creator, and may only make tokens acting as someone
    else where the platform allows it. ``allowed_domains`` limits it to those certificates (names and
    ``*.`` patterns); ``within`` is the scope of the token the request came with, if it has one: the new
    token then needs a scope inside it (a scoped token never makes a wider one)."""
    role = role_clean(role)
    allowed_domains = _scope_clean(allowed_domains, role)
    if within is not None and not within.covers_all(allowed_domains):
        raise ValidationError(
            f"this token is limited to the certificates {within}: a token it makes must be limited to names "
            f"and patterns inside that (allowed_domains), and {', '.join(allowed_domains) or 'no limit'} is not",
            code="scope_wider",
        )
    created_by = actor.user
    if created_by is not None and created_by.pk != user.pk and not settings.CERTMATE_API_TOKEN_DELEGATION:
        raise ValidationError(
            f"a token acts for whoever creates it: {created_by.email} cannot make one acting as {user.email} "
            "(this platform does not allow delegation, CERTMATE_API_TOKEN_DELEGATION)",
            code="delegation_refused",
        )
    if not user.is_active:
        raise ValidationError(f"user {user.email} is inactive", code="user_inactive")
    if role.rank > Role(user.role).rank:
        raise ValidationError(
            f"a token cannot have the {role} role: its user {user.email} is only {user.role}", code="role_above_user"
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError("the expiry date is in the past", code="expired")
    if expires_at is not None and expires_at > timezone.now() + timedelta(days=MAX_TOKEN_DAYS):
        raise ValidationError(f"a token expires within {MAX_TOKEN_DAYS} days at most", code="expires_too_late")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip(),
        role=role,
        token_hash=token_hash_of(raw),
        prefix=raw[:SHOWN_PREFIX_LENGTH],
        expires_at=expires_at,
        created_by=created_by,
        allowed_domains=allowed_domains,
    )
    token.full_clean()
    token.save()
    # Every field, even an empty one: "expires_at": [null, null] says that it never expires.
    _record("token.created", token=token, actor=actor, changes={k: [None, v] for k, v in _state(token).items()})
    return token, raw


_HEX_HASH = re.compile(r"[0-9a-f]{64}")


def _scope_clean(allowed_domains: list[str] | None, role: Role) -> list[str]:
    allowed_domains = allowed_domains_clean(allowed_domains)
    if allowed_domains and role == Role.ADMIN:
        # As CertMate: an admin token could change settings, users and tokens, which no scope limits.
        raise ValidationError(
            "an admin token cannot be limited to certificates: give it the operator or viewer role",
            code="scoped_admin",
        )
    return allowed_domains


@transaction.atomic
def token_import(
    *,
    user: User,
    role: Role | str,
    name: str,
    token_hash: str,
    hash_scheme: TokenHash | str,
    prefix: str = "",
    allowed_domains: list[str] | None = None,
    expires_at: datetime | None = None,
    actor: Actor,
) -> ApiToken:
    """A token brought over from CertMate by its hash alone (the text stays with its holders): it keeps
    its role (never above its user's), its certificate scope and its expiry. An HMAC hash needs the key
    (``certmate_token_key_set``) to be checked. Recorded as ``token.imported``."""
    role = role_clean(role)
    hash_scheme = TokenHash(hash_scheme)
    token_hash = (token_hash or "").strip().lower()
    if not _HEX_HASH.fullmatch(token_hash):
        raise ValidationError("the token hash is not 64 hexadecimal characters", code="invalid_hash")
    if hash_scheme == TokenHash.CERTMATE_HMAC and not CertmateTokenKey.objects.exists():
        raise ValidationError("an HMAC token hash needs CertMate's secret key first", code="key_missing")
    if role.rank > Role(user.role).rank:
        raise ValidationError(
            f"a token cannot have the {role} role: its user {user.email} is only {user.role}", code="role_above_user"
        )
    if ApiToken.objects.filter(token_hash=token_hash).exists():
        raise ValidationError("this token is already here", code="token_exists")
    token = ApiToken(
        user=user,
        name=name.strip()[:100],
        role=role,
        token_hash=token_hash,
        hash_scheme=hash_scheme,
        prefix=prefix[:SHOWN_PREFIX_LENGTH],
        allowed_domains=_scope_clean(allowed_domains, role),
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    state = {**_state(token), "hash_scheme": token.hash_scheme, "allowed_domains": token.allowed_domains}
    _record("token.imported", token=token, actor=actor, changes={k: [None, v] for k, v in state.items()})
    return token


@transaction.atomic
def certmate_token_key_set(*, key: str, actor: Actor) -> bool:
    """Keep CertMate's secret key (encrypted) to check its imported tokens; True when it changed. Recorded
    as ``certmate_token_key.set`` (never the key)."""
    key = (key or "").strip()
    if not key or len(key) > 4096:
        raise ValidationError("CertMate's secret key must be 1 to 4096 characters", code="invalid_key")
    current = CertmateTokenKey.objects.select_for_update().first()
    if current is not None and current.key == key:
        return False
    if current is None:
        current = CertmateTokenKey(key=key)
    current.key = key
    current.save()
    audit_in_tenant(
        actor=actor, action="certmate_token_key.set", object_type="certmate_token_key", object_id=current.pk,
        object_name=str(current), changes={"key": ["", "(set)"]},
    )  # fmt: skip
    return True


def _state(token: ApiToken) -> dict:
    return {
        "name": token.name,
        "role": token.role,
        "prefix": token.prefix,
        "expires_at": token.expires_at,
        "user": token.user.email,
        "allowed_domains": list(token.allowed_domains),
    }


def _record(action: str, *, token: ApiToken, actor: Actor, changes: dict) -> None:
    audit_in_tenant(
        actor=actor, action=action, object_type="api_token", object_id=token.pk, object_name=str(token), changes=changes
    )


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    """Revoke the token now; revoking it again keeps the first date (and records nothing)."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])
    if revoked:
        _record("token.revoked", token=token, actor=actor, changes={"revoked_at": [None, token.revoked_at]})
    return token


# Longer than any token certmate or CertMate made: a bound on what is hashed for a stranger.
MAX_TOKEN_LENGTH = 512


def token_lookup(*, raw: str) -> ApiToken | None:
    """The token with this text in the current schema, whatever its state, or None. Tokens imported from
    CertMate may lack the cm_ prefix and may be kept as CertMate's HMAC: both hashes of the text are
    looked up, each an indexed equality (nothing compares secrets character by character); the SHA-256
    one first, so certmate's own tokens cost one query."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    tokens = ApiToken.objects.select_related("user")
    token = tokens.filter(token_hash=token_hash_of(raw), hash_scheme=TokenHash.SHA256).first()
    if token is not None:
        return token
    certmate_key = CertmateTokenKey.objects.values_list("key", flat=True).first()
    if not certmate_key:
        return None
    return tokens.filter(token_hash=certmate_hmac_of(raw, certmate_key), hash_scheme=TokenHash.CERTMATE_HMAC).first()


def token_unusable_reason(token: ApiToken) -> str | None:
    """Why the token cannot be used now (revoked, expired, its user inactive), or None."""
    if token.is_revoked:
        return "the token was revoked"
    if token.is_expired:
        return "the token has expired"
    if not token.user.is_active:
        return "the token's user is inactive"
    return None


UNKNOWN_TOKEN = "unknown token: it may belong to another tenant or be mistyped"  # noqa: S105 - a message


def token_use(*, raw: str) -> tuple[ApiToken | None, str]:
    """(the usable token with this text, its use recorded; "") or (None, why it cannot be used)."""
    token = token_lookup(raw=raw)
    if token is None:
        return None, UNKNOWN_TOKEN
    reason = token_unusable_reason(token)
    if reason:
        return None, reason
    token_touch(token=token)
    return token, ""


def token_authenticate(*, raw: str) -> ApiToken | None:
    """The usable token with this text, its use recorded, or None."""
    return token_use(raw=raw)[0]


def token_touch(*, token: ApiToken) -> None:
    """Record the use, at most once per LAST_USED_RESOLUTION (a conditional UPDATE, no read first)."""
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    if ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now):
        token.last_used_at = now
