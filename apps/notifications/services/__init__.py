from apps.notifications.services.certmate_config import certmate_config_apply
from apps.notifications.services.channels import (
    channel_create,
    channel_delete,
    channel_rotate_secret,
    channel_unflag,
    channel_update,
    channel_validate,
)
from apps.notifications.services.delivery import deliveries_retry_due, delivery_send
from apps.notifications.services.digest import digest_request, digest_send
from apps.notifications.services.expiry import ca_expiry_scan, expiry_scan
from apps.notifications.services.notices import notice_record
from apps.notifications.services.testing import channel_test

__all__ = [
    "ca_expiry_scan",
    "certmate_config_apply",
    "channel_create",
    "channel_delete",
    "channel_rotate_secret",
    "channel_test",
    "channel_unflag",
    "channel_update",
    "channel_validate",
    "deliveries_retry_due",
    "delivery_send",
    "digest_request",
    "digest_send",
    "expiry_scan",
    "notice_record",
]
