"""What a worker checks as it starts, for certbot runs (connected by the certificates app's ready())."""

from celery.signals import worker_init
from django.conf import settings

from apps.certificates.acme.launch import LaunchError, run_as


@worker_init.connect(dispatch_uid="certmate_certbot_user_check")
def refuse_a_certbot_user_it_cannot_be(**_) -> None:
    """A worker that cannot start certbot as CERTMATE_CERTBOT_USER says so and does not start."""
    try:
        run_as(settings.CERTMATE_CERTBOT_USER)
    except LaunchError as exc:
        raise SystemExit(f"certmate worker: {exc}") from None
