"""Sign-in records in both admins, each on its own schema's rows: failures still counted (deleting
them unlocks, through the service), successful sign-ins, and every failure."""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from apps.accounts.services.signin import signin_attempts_delete
from apps.accounts.sites import tenant_admin_site
from certmate.admin_services import admin_actor


class SigninAttemptAdmin(AccessAttemptAdmin):
    def delete_model(self, request, obj):
        signin_attempts_delete(attempts=AccessAttempt.objects.filter(pk=obj.pk), actor=admin_actor(request))

    def delete_queryset(self, request, queryset):
        signin_attempts_delete(attempts=queryset, actor=admin_actor(request))


admin.site.unregister(AccessAttempt)  # axes' own registration, replaced to unlock through the service
admin.site.register(AccessAttempt, SigninAttemptAdmin)
tenant_admin_site.register(AccessAttempt, SigninAttemptAdmin)
tenant_admin_site.register(AccessLog, AccessLogAdmin)
tenant_admin_site.register(AccessFailureLog, AccessFailureLogAdmin)
