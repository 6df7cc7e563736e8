from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    """Certificates, their versions and jobs, and the engines that issue them (tenant schema)."""

    name = "apps.certificates"
    label = "certificates"
    verbose_name = "Certificates"

    def ready(self) -> None:
        # A worker's start-up check of certbot's user, connected once the apps are loaded.
        from apps.certificates.acme import worker  # noqa: F401
        from apps.certificates.acme.engine import AcmeEngine
        from apps.certificates.engines import engine_register
        from apps.certificates.events import minute_hook_register
        from apps.certificates.models import CaAccount, CertificateAuthority
        from apps.certificates.pki.engine import PrivateCaEngine
        from apps.certificates.services.reissue_resume import bulk_reissues_resume

        # The engines, by the kind of issuer they serve. ACME also serves certificates that name no issuer
        # yet (asked for before one was set): it tells what they lack.
        engine_register(AcmeEngine(), issuer=CaAccount, default=True)
        engine_register(PrivateCaEngine(), issuer=CertificateAuthority)
        # Bulk reissues whose task was lost get a pass again with beat's event sweep.
        minute_hook_register("certificates: lost bulk reissues", bulk_reissues_resume)
