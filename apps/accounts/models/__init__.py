from apps.accounts.models.sso import SsoSettings
from apps.accounts.models.tenants import Domain, Tenant
from apps.accounts.models.tokens import ApiToken
from apps.accounts.models.users import Role, User

__all__ = [
    "ApiToken",
    "Domain",
    "Role",
    "SsoSettings",
    "Tenant",
    "User",
]
