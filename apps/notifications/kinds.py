"""What a channel can be told about, and the kinds of channel."""

from __future__ import annotations

from django.db import models


class NoticeKind(models.TextChoices):
    ISSUED = "issued", "Issued"
    RENEWED = "renewed", "Renewed"
    ISSUE_FAILED = "issue_failed", "Issuance failed"
    RENEWAL_FAILED = "renewal_failed", "Renewal failed"
    EXPIRING = "expiring", "Expiring"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    CA_EXPIRING = "ca_expiring", "CA expiring"
    PUBLICATION_FAILED = "publication_failed", "Publication failed"
    KEY_DOWNLOADED = "key_downloaded", "Private key downloaded"  # opt-in
    DIGEST = "digest", "Weekly digest"  # opt-in, e-mail channels
    TEST = "test", "Test"  # "send test": never chosen, always sent to the channel tested


# What a new channel hears about unless told otherwise: everything but the opt-in kinds.
OPT_IN = frozenset({NoticeKind.KEY_DOWNLOADED, NoticeKind.DIGEST, NoticeKind.TEST})
DEFAULT_KINDS = [kind.value for kind in NoticeKind if kind not in OPT_IN]
CHOOSABLE_KINDS = [kind.value for kind in NoticeKind if kind != NoticeKind.TEST]


class ChannelKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"
    APPRISE = "apprise", "Chat or push service (Apprise)"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # not yet sent, or waiting for its retry
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"  # for good: a 4xx, a refused destination, or no attempts left
    SKIPPED = "skipped", "Skipped"  # no longer true when its turn came (the certificate was renewed)
