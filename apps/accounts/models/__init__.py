from apps.accounts.models.acme import CA_PRESETS, CaAccount, DnsAccount, KeyType, TenantSettings
from apps.accounts.models.sso import SsoSettings
from apps.accounts.models.tenants import Domain, Tenant
from apps.accounts.models.tokens import ApiToken
from apps.accounts.models.users import Role, User

__all__ = [
    "CA_PRESETS",
    "ApiToken",
    "CaAccount",
    "DnsAccount",
    "Domain",
    "KeyType",
    "Role",
    "SsoSettings",
    "Tenant",
    "TenantSettings",
    "User",
]
