from apps.accounts.models.acme import CA_PRESETS, CaAccount, DnsAccount, KeyType, TenantSettings
from apps.accounts.models.tenants import Domain, Tenant
from apps.accounts.models.users import Role, User

__all__ = ["CA_PRESETS", "CaAccount", "DnsAccount", "Domain", "KeyType", "Role", "Tenant", "TenantSettings", "User"]
