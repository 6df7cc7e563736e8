"""What a notice says, in words: what happened, to which certificate, what to do, and where to look
(a link to the certificate in the tenant's portal). The same title and text go to every kind of channel."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from apps.accounts.models import Domain
from apps.certificates.models import TenantSettings
from apps.notifications.kinds import NoticeKind
from apps.notifications.models import Notice


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    link: str


def portal_base_url() -> str:
    """The tenant's public base URL, else https://<its primary domain> (looked up by schema: a worker's
    connection may know the schema only)."""
    configured = TenantSettings.load().public_base_url
    if configured:
        return configured.rstrip("/")
    domain = (
        Domain.objects.filter(tenant__schema_name=connection.schema_name, is_primary=True)
        .values_list("domain", flat=True)
        .first()
    )
    return f"https://{domain or 'localhost'}"


def certificate_link(certificate_id: int | None) -> str:
    """The certificate's page in the tenant's portal ('' without one)."""
    return f"{portal_base_url()}/certificates/{certificate_id}/" if certificate_id else ""


def _days(facts: dict) -> str:
    days = facts.get("days_left")
    if days is None:
        return "soon"
    return "today" if days <= 0 else ("in 1 day" if days == 1 else f"in {days} days")


def _expiry(facts: dict) -> str:
    return f" (valid until {facts['not_after']})" if facts.get("not_after") else ""


# (title, text) per kind, formatted with the notice's words (_words): what happened and what to do.
TEMPLATES = {
    NoticeKind.ISSUED: ("Certificate issued: {name}", "{name} was issued{expiry}. Nothing to do."),
    NoticeKind.RENEWED: ("Certificate renewed: {name}", "{name} was renewed{expiry}. Nothing to do."),
    NoticeKind.ISSUE_FAILED: (
        "Issuance failed: {name}",
        "Issuance of {name} failed: {reason}.{retry} Fix the cause (DNS account, CA account, names), then renew it.",
    ),
    NoticeKind.RENEWAL_FAILED: (
        "Renewal failed: {name}",
        "Renewal of {name} failed: {reason}.{retry} Fix the cause (DNS account, CA account, names), then renew it.",
    ),
    NoticeKind.EXPIRING: (
        "Certificate expires {days}: {name}",
        "{name} expires {days}{expiry} and has not been renewed. "
        "Check why its renewal has not happened (its last job says), or renew it now.",
    ),
    NoticeKind.EXPIRED: (
        "Certificate expired: {name}",
        "{name} expired{expiry}: clients refuse it. Renew it now and deploy the new version.",
    ),
    NoticeKind.REVOKED: (
        "Certificate revoked: {name}",
        "A version of {name} was revoked ({reason}). "
        "If it is still deployed, renew the certificate and deploy the new version.",
    ),
    NoticeKind.CA_EXPIRING: (
        "Certificate authority expires {days}: {name}",
        "The private CA {name} expires {days}{expiry}; certificates it signs stop being trusted then. "
        "Renew or replace the CA and re-issue its certificates.",
    ),
    NoticeKind.PUBLICATION_FAILED: (
        "Publication failed: {name}",
        "{name} could not be published to the storage target: {reason}. "
        "Check the storage settings and test the target; publication is retried once it works.",
    ),
    NoticeKind.KEY_DOWNLOADED: (
        "Private key downloaded: {name}",
        "{who} downloaded the private key of {name} ({format}). "
        "If that was not expected, revoke the certificate and renew it.",
    ),
    NoticeKind.DIGEST: ("Weekly certificate digest", "{summary}"),
    NoticeKind.TEST: ("certmate test notification", "This channel works: certmate can reach it. Nothing to do."),
}


def _words(notice: Notice) -> dict[str, str]:
    facts = notice.facts or {}
    retry = facts.get("next_retry")
    return {
        "name": notice.identifier or "(unnamed)",
        "reason": str(facts.get("reason") or "no reason was given"),
        "retry": f" certmate tries again at {retry}." if retry else " certmate will not try again by itself.",
        "days": _days(facts),
        "expiry": _expiry(facts),
        "who": str(facts.get("who") or "someone"),
        "format": str(facts.get("format") or "unknown format"),
        "summary": str(facts.get("summary") or "Nothing expires soon and nothing failed."),
    }


def _what(notice: Notice) -> tuple[str, str]:
    title, text = TEMPLATES.get(notice.kind, ("{kind}: {name}", "{kind} happened to {name}."))
    words = {**_words(notice), "kind": notice.kind}
    return title.format(**words), text.format(**words)


def message_for(notice: Notice) -> Message:
    title, text = _what(notice)
    link = certificate_link(notice.certificate_id)
    if link:
        text = f"{text}\n{link}"
    return Message(title=title, text=text, link=link)
