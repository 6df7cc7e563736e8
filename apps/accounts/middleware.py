from django.http import JsonResponse
from django_tenants.middleware.main import TenantMainMiddleware


class TenantMiddleware(TenantMainMiddleware):
    """Resolves the tenant from the host. Unknown hosts and inactive tenants get the same 404, so
    nothing is served from the public schema by accident and nothing tells the two cases apart."""

    def get_tenant(self, domain_model, hostname):
        return domain_model.objects.select_related("tenant").get(domain=hostname, tenant__is_active=True).tenant

    def no_tenant_found(self, request, hostname):
        return JsonResponse({"error": f"No tenant is served at host {hostname!r}.", "code": "unknown_host"}, status=404)
