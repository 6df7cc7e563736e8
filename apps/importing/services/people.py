"""CertMate's users, its API bearer token and its API keys. The tokens are imported by their hashes,
so existing scripts keep working with only the new host; CertMate's HMAC hashes need the secret key
it ran with (kept encrypted, used only to check those tokens)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection

from apps.accounts.models import ApiToken, CertmateTokenKey, Role, TokenHash, User
from apps.accounts.models.tokens import token_hash_of
from apps.accounts.services.tokens import certmate_token_key_set, token_import
from apps.accounts.services.users import user_create
from apps.importing.certmate_settings import MASK, certmate_time
from apps.importing.context import ImportRun, content_hash
from apps.importing.report import Outcome

API_USER_LOCAL = "certmate-api"
_ROLES = {"user": Role.OPERATOR, **{role.value: role for role in Role}}
MAX_SCOPE = 100


def users_import(run: ImportRun) -> None:
    users = run.settings.get("users")
    if not isinstance(users, dict):
        return
    for username, entry in users.items():
        if isinstance(entry, dict):
            run.each(f"settings.json: users.{str(username)[:100]}", lambda u=username, e=entry: _user(run, u, e))
            if entry.get("password_hash") and f"user:{username}" in run.known:
                run.report.add(
                    f"settings.json: users.{str(username)[:100]}.password_hash",
                    Outcome.ATTENTION,
                    "CertMate's password hashes cannot be carried over: the user sets a password here "
                    "(manage.py user set-password, or an admin) or signs in through single sign-on",
                )


def _user(run: ImportRun, username: str, entry: dict[str, Any]) -> tuple[Outcome, str]:
    email = str(entry.get("email") or (username if "@" in str(username) else "")).strip().lower()
    made_up = ""
    if not email and run.users_domain:
        email, made_up = f"{username}@{run.users_domain}".lower(), " (its e-mail made from its CertMate name)"
    if not email:
        return Outcome.ATTENTION, (
            "no e-mail address in CertMate (certmate users sign in by e-mail): add the user here, or import again "
            "with --users-domain to give each such user <name>@<domain>"
        )
    role = _ROLES.get(str(entry.get("role") or "viewer"), Role.VIEWER)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        run.users[str(username)] = existing
        return Outcome.UNCHANGED, f"already a user here ({existing.email}, {existing.role}): kept as is"
    user = user_create(email=email, role=role, actor=run.actor)
    if entry.get("enabled") is False or entry.get("disabled") is True:
        User.objects.filter(pk=user.pk).update(is_active=False)
    run.users[str(username)] = user
    run.remember(f"user:{username}", "user", content_hash([email, role]), user)
    return Outcome.IMPORTED, f"user {email} ({role}){made_up}"


def _api_user(run: ImportRun) -> User:
    """The user CertMate's tokens act as here: an admin that cannot sign in (no password)."""
    tenant = getattr(connection, "tenant", None)
    primary = tenant.get_primary_domain() if hasattr(tenant, "get_primary_domain") else None
    domain = primary.domain if primary is not None else "certmate.invalid"
    email = f"{API_USER_LOCAL}@{domain}"
    user = User.objects.filter(email__iexact=email).first()
    return user or user_create(email=email, role=Role.ADMIN, full_name="CertMate API tokens", actor=run.actor)


def _hash_of(stored: Any) -> tuple[TokenHash, str] | None:
    text = str(stored or "")
    if text.startswith("hmac-sha256:"):
        return TokenHash.CERTMATE_HMAC, text.split(":", 1)[1]
    if text.startswith("sha256:"):
        return TokenHash.SHA256, text.split(":", 1)[1]
    return None


def _expiry(value: Any) -> datetime | None:
    when = certmate_time(value)
    if value and when is None:
        raise ValidationError(f"expires_at {str(value)[:40]!r} is not a date")
    return when


def tokens_import(run: ImportRun) -> None:
    settings = run.settings
    wanted = []  # (item, key, name, role, hashed, prefix, scope, expiry)
    bearer_hash = _hash_of(settings.get("api_bearer_token_hash"))
    plain = settings.get("api_bearer_token")
    if bearer_hash is None and isinstance(plain, str) and plain and plain != MASK:
        bearer_hash = (TokenHash.SHA256, token_hash_of(plain))
    item = "settings.json: api_bearer_token" + ("_hash" if settings.get("api_bearer_token_hash") else "")
    if bearer_hash is not None:
        wanted.append((item, "token:bearer", "CertMate API bearer token", Role.ADMIN, bearer_hash, "", None, None))
    elif "api_bearer_token" in settings or "api_bearer_token_hash" in settings:
        run.report.add(item, Outcome.ATTENTION, "masked or unreadable in this source: issue a new token here")
    keys = settings.get("api_keys") if isinstance(settings.get("api_keys"), dict) else {}
    for key_id, entry in keys.items():
        if not isinstance(entry, dict):
            run.report.add(f"settings.json: api_keys.{str(key_id)[:64]}", Outcome.ATTENTION, "not an API key entry")
            continue
        key_item = f"settings.json: api_keys.{str(key_id)[:64]} ({str(entry.get('name', ''))[:64]})"
        if entry.get("revoked"):
            run.report.add(key_item, Outcome.SKIPPED, "revoked in CertMate")
            continue
        hashed = _hash_of(entry.get("token_hash"))
        if hashed is None:
            run.report.add(key_item, Outcome.ATTENTION, "no token hash CertMate wrote: issue a new token here")
            continue
        role = _ROLES.get(str(entry.get("role") or "viewer"), Role.VIEWER)
        scope = entry.get("allowed_domains")
        name = f"CertMate: {entry.get('name') or key_id}"
        wanted.append((key_item, f"token:{key_id}", name, role, hashed, str(entry.get("token_prefix") or ""), scope,
                       entry.get("expires_at")))  # fmt: skip
    if not wanted:
        return
    needs_key = any(w[4][0] == TokenHash.CERTMATE_HMAC for w in wanted)
    key_ready = _token_key(run) if needs_key else False
    for item, key, name, role, hashed, prefix, scope, expiry in wanted:
        run.each(item, lambda k=key, n=name, r=role, h=hashed, p=prefix, s=scope, e=expiry:
                 _token(run, k, n, r, h, p, s, e, key_ready))  # fmt: skip


def _token_key(run: ImportRun) -> bool:
    """CertMate's secret key kept for its HMAC token hashes; False (reported) when it is not available."""
    item = f"{run.layout.data}.secret_key"
    if run.secret_key is None:
        run.report.add(
            "CertMate's secret key",
            Outcome.ATTENTION,
            "not in this source (a backup leaves data/.secret_key out): give it (--secret-key-file) to keep "
            "CertMate's API tokens working, or issue new ones",
        )
        return False
    stored = CertmateTokenKey.objects.values_list("key", flat=True).first()
    if stored is not None and stored != run.secret_key:
        run.report.add(item, Outcome.ATTENTION, "another CertMate secret key is already kept for this tenant")
        return False
    changed = certmate_token_key_set(key=run.secret_key, actor=run.actor)
    outcome = Outcome.IMPORTED if changed else Outcome.UNCHANGED
    if run.source.exists(item):
        run.report.add(item, outcome, "kept encrypted, only to check the API tokens imported from CertMate")
    return True


def _token(run, key, name, role, hashed, prefix, scope, expiry, key_ready) -> tuple[Outcome, str]:
    scheme, digest = hashed
    if run.target_of(key, ApiToken) is not None:
        return Outcome.UNCHANGED, f"token {name!r} (imported before)"
    if scheme == TokenHash.CERTMATE_HMAC and not key_ready:
        return Outcome.ATTENTION, f"{name!r} is hashed with CertMate's secret key, which is not available: re-issue it"
    if isinstance(scope, list) and not scope:
        return Outcome.SKIPPED, "its CertMate scope allows no certificate at all (a locked-out key)"
    if scope is not None and not isinstance(scope, list):
        raise ValidationError("its allowed_domains is not a list of domains: re-issue it with its scope here")
    if isinstance(scope, list) and len(scope) > MAX_SCOPE:
        raise ValidationError(f"its scope lists {len(scope)} domains, more than the {MAX_SCOPE} certmate keeps")
    expires_at = _expiry(expiry)
    if expires_at is not None and expires_at <= datetime.now(UTC):
        return Outcome.SKIPPED, f"expired in CertMate ({expires_at:%Y-%m-%d})"
    token = token_import(
        user=_api_user(run),
        role=role,
        name=name[:100],
        token_hash=digest,
        hash_scheme=scheme,
        prefix=prefix,
        allowed_domains=[str(d).lower()[:253] for d in scope] if isinstance(scope, list) else [],
        expires_at=expires_at,
        actor=run.actor,
    )
    run.remember(key, "api_token", content_hash(hashed), token)
    scoped = f", scoped to {len(token.allowed_domains)} domain pattern(s)" if token.allowed_domains else ""
    return Outcome.IMPORTED, f"token {name!r} ({role}{scoped}) works here with its CertMate value"
