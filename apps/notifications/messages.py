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


def _what(notice: Notice) -> tuple[str, str]:
    """(headline, what happened and what to do) for ``notice``."""
    name, facts = notice.identifier or "(unnamed)", notice.facts or {}
    reason = facts.get("reason") or "no reason was given"
    kind = notice.kind
    if kind == NoticeKind.ISSUED:
        return f"Certificate issued: {name}", f"{name} was issued{_expiry(facts)}. Nothing to do."
    if kind == NoticeKind.RENEWED:
        return f"Certificate renewed: {name}", f"{name} was renewed{_expiry(facts)}. Nothing to do."
    if kind in (NoticeKind.ISSUE_FAILED, NoticeKind.RENEWAL_FAILED):
        verb = "Issuance" if kind == NoticeKind.ISSUE_FAILED else "Renewal"
        retry = (
            f" certmate tries again at {facts['next_retry']}."
            if facts.get("next_retry")
            else " certmate will not try again by itself."
        )
        return (
            f"{verb} failed: {name}",
            f"{verb} of {name} failed: {reason}.{retry} Fix the cause (DNS account, CA account, names), then renew it.",
        )
    if kind == NoticeKind.EXPIRING:
        return (
            f"Certificate expires {_days(facts)}: {name}",
            f"{name} expires {_days(facts)}{_expiry(facts)} and has not been renewed. "
            "Check why its renewal has not happened (its last job says), or renew it now.",
        )
    if kind == NoticeKind.EXPIRED:
        return (
            f"Certificate expired: {name}",
            f"{name} expired{_expiry(facts)}: clients refuse it. Renew it now and deploy the new version.",
        )
    if kind == NoticeKind.REVOKED:
        return (
            f"Certificate revoked: {name}",
            f"A version of {name} was revoked ({facts.get('reason') or 'no reason given'}). "
            "If it is still deployed, renew the certificate and deploy the new version.",
        )
    if kind == NoticeKind.CA_EXPIRING:
        return (
            f"Certificate authority expires {_days(facts)}: {name}",
            f"The private CA {name} expires {_days(facts)}{_expiry(facts)}; certificates it signs "
            "stop being trusted then. Renew or replace the CA and re-issue its certificates.",
        )
    if kind == NoticeKind.PUBLICATION_FAILED:
        return (
            f"Publication failed: {name}",
            f"{name} could not be published to the storage target: {reason}. Check the storage settings "
            "and test the target; publication is retried once it works.",
        )
    if kind == NoticeKind.KEY_DOWNLOADED:
        who = facts.get("who") or "someone"
        return (
            f"Private key downloaded: {name}",
            f"{who} downloaded the private key of {name} ({facts.get('format') or 'unknown format'}). "
            "If that was not expected, revoke the certificate and renew it.",
        )
    if kind == NoticeKind.DIGEST:
        return "Weekly certificate digest", str(facts.get("summary") or "Nothing expires soon and nothing failed.")
    if kind == NoticeKind.TEST:
        return "certmate test notification", "This channel works: certmate can reach it. Nothing to do."
    return f"{kind}: {name}", f"{kind} happened to {name}."


def message_for(notice: Notice) -> Message:
    title, text = _what(notice)
    link = certificate_link(notice.certificate_id)
    if link:
        text = f"{text}\n{link}"
    return Message(title=title, text=text, link=link)
