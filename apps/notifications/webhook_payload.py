"""The webhook payload (version 1) and its signature. Receivers depend on it: add fields, never rename
or remove one without a new version.

Body (JSON, UTF-8)::

    {"version": 1,
     "id": "<delivery uuid: the same on every retry of one delivery>",
     "event": "issued | renewed | issue_failed | renewal_failed | expiring | expired | revoked |
               ca_expiring | publication_failed | key_downloaded | digest | test",
     "occurred_at": "<ISO 8601, UTC>",
     "tenant": "<tenant slug>",
     "certificate": {"id", "identifier", "kind", "version", "serial", "not_after", "link"} or null,
     "facts": {... what the event says: reason, next_retry, threshold, days_left, ...},
     "message": {"title", "text"}}

Headers: X-Certmate-Event, X-Certmate-Delivery (the id), X-Certmate-Timestamp (unix seconds) and
X-Certmate-Signature: ``v1=`` + hex HMAC-SHA256(channel secret, ``"<timestamp>." + body``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.db import connection

from apps.certificates.models import CertificateVersion
from apps.notifications.messages import Message
from apps.notifications.models import Delivery

VERSION = 1
CONTENT_TYPE = "application/json"
USER_AGENT = "certmate-webhook/1"


def _certificate(delivery: Delivery, link: str) -> dict[str, Any] | None:
    notice = delivery.notice
    if not notice.identifier or notice.kind == "ca_expiring":
        return None
    facts = notice.facts or {}
    version = CertificateVersion.objects.filter(pk=facts["version_id"]).first() if facts.get("version_id") else None
    return {
        "id": notice.certificate_id,
        "identifier": notice.identifier,
        "kind": notice.certificate_kind,
        "version": version.number if version is not None else facts.get("version"),
        "serial": version.serial if version is not None else facts.get("serial"),
        "not_after": version.not_after.isoformat() if version is not None else facts.get("not_after"),
        "link": link or None,
    }


def payload(delivery: Delivery, message: Message) -> dict[str, Any]:
    notice = delivery.notice
    return {
        "version": VERSION,
        "id": str(delivery.delivery_id),
        "event": notice.kind,
        "occurred_at": notice.created_at.isoformat(),
        "tenant": connection.schema_name,
        "certificate": _certificate(delivery, message.link),
        "facts": {key: value for key, value in (notice.facts or {}).items() if key != "version_id"},
        "message": {"title": message.title, "text": message.text},
    }


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed_request(delivery: Delivery, message: Message, secret: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt (a fresh timestamp and signature each time)."""
    body = json.dumps(payload(delivery, message), separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "X-Certmate-Event": delivery.notice.kind,
        "X-Certmate-Delivery": str(delivery.delivery_id),
        "X-Certmate-Timestamp": str(timestamp),
        "X-Certmate-Signature": signature(secret, timestamp, body),
    }
    return body, headers
