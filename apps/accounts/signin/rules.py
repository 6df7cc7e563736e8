"""The lockout rules, the client's address and the username as counted. Read from settings at each
call, so deployments set them in the environment and tests can change them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

USERNAME_MAX_LENGTH = 255  # axes' column


@dataclass(frozen=True)
class SigninRule:
    parameters: tuple[str, ...]  # axes' lockout parameters counted together
    limit: int  # failures within the cool-off that lock this combination out


def signin_rules() -> list[SigninRule]:
    """The active rules, tightest first. A limit of 0 turns a rule off (the first one is always on)."""
    candidates = [
        SigninRule(("username", "ip_address"), settings.CERTMATE_SIGNIN_FAILURES_PER_USER_ADDRESS),
        SigninRule(("ip_address",), settings.CERTMATE_SIGNIN_FAILURES_PER_ADDRESS),
        SigninRule(("username",), settings.CERTMATE_SIGNIN_FAILURES_PER_USER),
    ]
    return [rule for rule in candidates if rule.limit > 0]


def lockout_parameters(request, credentials=None) -> list[list[str]]:
    """AXES_LOCKOUT_PARAMETERS: one combination per rule, in the order of ``signin_rules``."""
    return [list(rule.parameters) for rule in signin_rules()]


def username_normalize(username: str | None) -> str | None:
    """Usernames are e-mail addresses, stored in lower case: "Bob@x" and "bob@x" are one account."""
    if not isinstance(username, str) or not username.strip():
        return None
    return username.strip().lower()[:USERNAME_MAX_LENGTH]


def username_of(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: from the credentials given to authenticate(), else the posted form."""
    if credentials:
        return username_normalize(credentials.get(settings.AXES_USERNAME_FORM_FIELD))
    return username_normalize(request.POST.get(settings.AXES_USERNAME_FORM_FIELD))
