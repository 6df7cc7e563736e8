from apps.accounts.models.challenges import HttpChallenge
from apps.accounts.models.sso import SsoSettings
from apps.accounts.models.tenants import Domain, Tenant
from apps.accounts.models.tokens import ApiToken, CertmateTokenKey, TokenHash
from apps.accounts.models.users import Role, User

__all__ = [
    "ApiToken",
    "CertmateTokenKey",
    "Domain",
    "HttpChallenge",
    "Role",
    "SsoSettings",
    "Tenant",
    "TokenHash",
    "User",
]
