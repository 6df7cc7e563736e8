from django.db import DatabaseError
from django.http import JsonResponse
from django_tenants.middleware.main import TenantMainMiddleware

from certmate.health import HEALTH_PATH, failure_reason, health_report, health_response


class TenantMiddleware(TenantMainMiddleware):
    """Resolves the tenant from the host. Unknown hosts and inactive tenants get the same 404, so
    nothing is served from the public schema by accident and nothing tells the two cases apart."""

    def process_request(self, request):
        try:
            return super().process_request(request)
        except DatabaseError as exc:
            # Without the database no host can be resolved; the health check still answers, naming it.
            if request.path == HEALTH_PATH:
                return health_response(health_report(known={"database": failure_reason(exc)}), tenant=None)
            raise

    @staticmethod
    def hostname_from_request(request):
        # Exactly the registered host, any case: no "www." stripping (django-tenants' default), which
        # would serve www.<tenant host> without that name being registered.
        return request.get_host().split(":")[0].lower().rstrip(".")

    def get_tenant(self, domain_model, hostname):
        return domain_model.objects.select_related("tenant").get(domain=hostname, tenant__is_active=True).tenant

    def no_tenant_found(self, request, hostname):
        return JsonResponse({"error": f"No tenant is served at host {hostname!r}.", "code": "unknown_host"}, status=404)
