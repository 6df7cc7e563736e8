from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    """Certificates, their versions and jobs (tenant schema). Models arrive with ACME issuance."""

    name = "apps.certificates"
    label = "certificates"
    verbose_name = "Certificates"
