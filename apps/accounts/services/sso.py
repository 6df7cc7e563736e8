"""A tenant's single sign-on: its settings, and the users its identity provider signs in.

Every value comes from a tenant admin, who the platform does not trust: each is checked to its format
and bounded, and the issuer must pass the platform's egress rule before it is stored. Changes record
``sso_settings.updated`` (the client secret only as "changed"); users signed in through the provider
record ``user.created`` / ``user.updated`` with the provider as the actor (portal channel).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, TypedDict
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import Role, SsoSettings, User
from apps.accounts.models.sso import empty_role_values
from apps.accounts.services.audit_tenant import audit_in_tenant
from apps.accounts.services.users import CONTROL, user_sign_in_provision
from certmate import egress
from certmate.actors import Actor, Channel, request_actor
from certmate.audit.services import audit_changes, audit_snapshot

# RFC 6749: scope tokens are printable ASCII without space, '"' or '\'; client ids and secrets VSCHARs.
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,100}")
VSCHARS = re.compile(r"[\x20-\x7e]+")
CLAIM_NAME = re.compile(r"[\x21-\x7e]{1,200}")
MAX_SCOPES = 20
MAX_VALUES_PER_ROLE = 100
MAX_VALUE_LENGTH = 200
MAX_SECRET_LENGTH = 1000


class SsoRefused(Exception):
    """A sign-in through the tenant's identity provider is refused; the message is safe to show the
    person signing in (it never carries a remote answer or a secret). ``email`` when it is known."""

    def __init__(self, message: str, *, email: str = ""):
        super().__init__(message)
        self.email = email


def _invalid(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _text(value: Any, field: str, *, max_length: int, pattern: re.Pattern | None = None, blank: bool = True) -> str:
    if not isinstance(value, str):
        raise _invalid(field, "must be text", "invalid")
    value = value.strip()
    if not value:
        if blank:
            return ""
        raise _invalid(field, "is required", "required")
    if len(value) > max_length:
        raise _invalid(field, f"is longer than {max_length} characters", "invalid")
    if CONTROL.search(value) or (pattern is not None and not pattern.fullmatch(value)):
        raise _invalid(field, "contains characters that are not allowed here", "invalid")
    return value


def _issuer(value: Any) -> str:
    issuer = _text(value, "issuer", max_length=500)
    if not issuer:
        return ""
    try:
        parts = urlsplit(issuer)
        _ = parts.port  # parsed here, so that a bad host or port is this field's error, never a 500
    except ValueError:
        raise _invalid("issuer", "is not a valid URL (bad host or port)", "invalid") from None
    if parts.scheme != "https" or not parts.hostname:
        raise _invalid("issuer", "must be an https:// URL", "invalid")
    if parts.username or parts.password or parts.query or parts.fragment or "#" in issuer or "?" in issuer:
        raise _invalid("issuer", "must not carry credentials, a query or a fragment", "invalid")
    try:
        egress.check_url(issuer, schemes=("https",))
    except egress.EgressRefused as exc:
        raise _invalid("issuer", str(exc), "egress_refused") from None
    return issuer


def _scopes(value: Any) -> str:
    tokens = _text(value, "scopes", max_length=300, blank=False).split()
    if len(tokens) > MAX_SCOPES or not all(SCOPE_TOKEN.fullmatch(token) for token in tokens):
        raise _invalid("scopes", f"must be at most {MAX_SCOPES} space-separated scope names", "invalid")
    if "openid" not in tokens:
        raise _invalid("scopes", "must include openid", "invalid")
    return " ".join(dict.fromkeys(tokens))


def _role_values(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict) or not set(value) <= set(Role.values):
        raise _invalid("role_values", f"must be an object with lists under {', '.join(Role.values)}", "invalid")
    cleaned = empty_role_values()
    for role, values in value.items():
        if not isinstance(values, list) or len(values) > MAX_VALUES_PER_ROLE:
            raise _invalid(
                "role_values", f"{role}: must be a list of at most {MAX_VALUES_PER_ROLE} claim values", "invalid"
            )
        for item in values:
            text = _text(item, f"role_values.{role}", max_length=MAX_VALUE_LENGTH, blank=False)
            if text not in cleaned[role]:
                cleaned[role].append(text)
    return cleaned


class SsoSettingsValues(TypedDict):
    """Everything an admin sets (the API's PUT body, the admin's form)."""

    enabled: bool
    name: str
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    role_claim: str
    role_values: dict
    sso_only: bool


def sso_settings_validate(*, current: SsoSettings, values: SsoSettingsValues) -> dict[str, Any]:
    """The settings as they would be stored, or a ValidationError per field. ``client_secret`` None (or
    empty) keeps the stored secret, unless the issuer or the client id changes: a stored secret is never
    sent anywhere it was not given for."""
    enabled, sso_only = values["enabled"], values["sso_only"]
    if not isinstance(enabled, bool) or not isinstance(sso_only, bool):
        raise _invalid("enabled", "enabled and sso_only must be true or false")
    cleaned = {
        "enabled": enabled,
        "name": _text(values["name"], "name", max_length=60),
        "issuer": _issuer(values["issuer"]),
        "client_id": _text(values["client_id"], "client_id", max_length=255, pattern=VSCHARS),
        "scopes": _scopes(values["scopes"]),
        "role_claim": _text(values["role_claim"], "role_claim", max_length=200, pattern=CLAIM_NAME, blank=False),
        "role_values": _role_values(values["role_values"]),
        "sso_only": sso_only,
    }
    secret = _text(values["client_secret"] or "", "client_secret", max_length=MAX_SECRET_LENGTH, pattern=VSCHARS)
    if not secret and current.client_secret:
        if (cleaned["issuer"], cleaned["client_id"]) != (current.issuer, current.client_id):
            raise _invalid("client_secret", "the issuer or client id changed: give the client secret again", "required")
        secret = current.client_secret
    cleaned["client_secret"] = secret
    if enabled:
        missing = [field for field in ("name", "issuer", "client_id", "client_secret") if not cleaned[field]]
        if missing:
            required = {
                field: ValidationError("is required to turn single sign-on on", code="required") for field in missing
            }
            raise ValidationError(required)
        if not any(cleaned["role_values"].values()):
            raise _invalid("role_values", "map at least one claim value to a role, or nobody can sign in", "required")
    if sso_only and not enabled:
        raise _invalid("sso_only", "turn single sign-on on first", "invalid")
    return cleaned


AUDITED_FIELDS = tuple(SsoSettingsValues.__annotations__)  # every field an admin sets


def _record(*, config: SsoSettings, actor: Actor, changes: dict[str, Any]) -> None:
    if changes:
        audit_in_tenant(
            actor=actor,
            action="sso_settings.updated",
            object_type="sso_settings",
            object_id=config.pk,
            object_name=str(config),
            changes=changes,
        )


@transaction.atomic
def sso_settings_update(*, values: SsoSettingsValues, actor: Actor) -> SsoSettings:
    """Store the tenant's single sign-on settings (all of them; the secret as explained in validate)."""
    config = SsoSettings.objects.select_for_update().filter(singleton=True).first() or SsoSettings()
    before = audit_snapshot(config, AUDITED_FIELDS)
    cleaned = sso_settings_validate(current=config, values=values)
    for field, value in cleaned.items():
        setattr(config, field, value)
    config.save()
    _record(config=config, actor=actor, changes=_changes(before, config))
    return config


def _changes(before: dict[str, Any], config: SsoSettings) -> dict[str, Any]:
    return audit_changes(before, audit_snapshot(config, AUDITED_FIELDS), secret=("client_secret",))


def _claim(claims: dict[str, Any], name: str) -> Any:
    """The claim ``name``, or a nested one by a dotted path (``realm_access.roles``) when no claim has
    that exact name."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def sso_role_for_claims(*, config: SsoSettings, claims: dict[str, Any]) -> Role | None:
    """The highest role any of the role claim's values maps to, or None."""
    raw = _claim(claims, config.role_claim)
    if isinstance(raw, str):
        values = {raw}
    else:
        values = {item for item in raw if isinstance(item, str)} if isinstance(raw, list) else set()
    for role in reversed(Role):
        if values & set(config.role_values.get(role.value, [])):
            return role
    return None


def sso_actor(*, config: SsoSettings, request: Any = None) -> Actor:
    """The acting party of a sign-in through the provider: the provider itself, on the portal channel,
    with the request's context."""
    return replace(request_actor(request, Channel.PORTAL), name=f"single sign-on ({config.name or config.issuer})")


def sso_user_sign_in(*, config: SsoSettings, claims: dict[str, Any], actor: Actor) -> User:
    """The certmate user for verified claims of the tenant's provider: created or updated just in time,
    with the role its claims map to. Refused when they map to no role."""
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise SsoRefused("the identity provider sent no e-mail address (ask for the email scope)")
    email = email.strip().lower()[:320]
    if claims.get("email_verified") is False:
        raise SsoRefused(f"{email}: the identity provider has not verified this e-mail address", email=email)
    role = sso_role_for_claims(config=config, claims=claims)
    if role is None:
        raise SsoRefused(
            f"{email} may not use certmate: no value of the identity provider's {config.role_claim!r} claim "
            "is mapped to a certmate role. Ask this tenant's admins for access.",
            email=email,
        )
    name = claims.get("name")
    try:
        full_name = CONTROL.sub("", name).strip() if isinstance(name, str) else ""
        return user_sign_in_provision(email=email, role=role, full_name=full_name, actor=actor)
    except ValidationError as exc:
        raise SsoRefused("; ".join(exc.messages), email=email) from None


@transaction.atomic
def sso_password_signin_restore(*, actor: Actor) -> bool:
    """Let the tenant's users sign in with passwords again (a way back when its provider is gone).
    True when SSO-only was on."""
    config = SsoSettings.objects.select_for_update().filter(singleton=True, sso_only=True).first()
    if config is None:
        return False
    before = audit_snapshot(config, AUDITED_FIELDS)
    config.sso_only = False
    config.save(update_fields=["sso_only", "updated_at"])
    _record(config=config, actor=actor, changes=_changes(before, config))
    return True
