from apps.accounts.models.tenants import Domain, Tenant
from apps.accounts.models.users import Role, User

__all__ = ["Domain", "Role", "Tenant", "User"]
