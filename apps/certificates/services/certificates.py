"""Changing and deleting a certificate."""

from __future__ import annotations

import logging

from django.db import transaction

from apps.certificates.models import CaAccount, Certificate, DnsAccount, EventKind
from apps.certificates.selectors import certificate_list, job_open
from apps.certificates.services.acme_options import (
    acme_profile_clean,
    certificate_webroot_clean,
    challenge_clean,
    fallback_clean,
    fallback_differs,
    fallback_set,
)
from apps.certificates.services.auditing import certificate_audit, certificate_settings
from apps.certificates.services.due import certificates_schedule_refresh
from apps.certificates.services.events import event_record
from apps.certificates.services.requests import CertificateRequestError, key_type_check
from certmate.actors import Actor
from certmate.audit.services import audit_changes

logger = logging.getLogger(__name__)

# Marks "leave as it is" in certificate_update, where None is a value (renew_before_days: the tenant's).
UNCHANGED = object()


def _refuse_while_open(certificate: Certificate, what: str) -> None:
    job = job_open(certificate=certificate)
    if job is not None:
        raise CertificateRequestError(
            f"job {job.pk} for {certificate.identifier} is {job.status}: {what} once it has finished", code="job_open"
        )


def certificate_update(
    *,
    certificate: Certificate,
    ca_account: CaAccount | object | None = UNCHANGED,
    dns_account: DnsAccount | object | None = UNCHANGED,
    key_type: str | object = UNCHANGED,
    auto_renew: bool | object = UNCHANGED,
    renew_before_days: int | object | None = UNCHANGED,
    challenge: str | object = UNCHANGED,
    webroot: str | object = UNCHANGED,
    acme_profile: str | object = UNCHANGED,
    fallback_ca_accounts: list[CaAccount] | object = UNCHANGED,
    actor: Actor,
) -> Certificate:
    """Change how the certificate is issued and renewed. What changes the next order (accounts, key
    type, challenge, profile, fallback chain) waits for an open job to finish; the renewal date follows
    the new threshold at once. Records ``certificate.updated`` with what changed (before -> after); a
    change to nothing records nothing and writes nothing."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update(of=("self",)).get(pk=certificate.pk)
        issuance = {
            "ca_account": ca_account, "dns_account": dns_account, "key_type": key_type, "challenge": challenge,
            "webroot": webroot, "acme_profile": acme_profile,
        }  # fmt: skip
        asked = {name: value for name, value in issuance.items() if value is not UNCHANGED}
        fallbacks = None
        if fallback_ca_accounts is not UNCHANGED:
            fallbacks = fallback_clean(fallback_ca_accounts, asked.get("ca_account", certificate.ca_account))
        if any(getattr(certificate, name) != value for name, value in asked.items()) or (
            fallbacks is not None and fallback_differs(certificate, fallbacks)
        ):
            _refuse_while_open(certificate, "change how it is ordered")
        if key_type is not UNCHANGED:
            key_type_check(key_type)
        if certificate.is_private:
            _refuse_acme_options(certificate, asked, fallbacks)
        else:
            _acme_options_check(certificate, asked)
        if auto_renew is not UNCHANGED:
            asked["auto_renew"] = auto_renew
        if renew_before_days is not UNCHANGED:
            asked["renew_before_days"] = renew_before_days
        changed = [name for name, value in asked.items() if getattr(certificate, name) != value]
        before = certificate_settings(certificate) if changed or fallbacks is not None else {}
        if fallbacks is not None and fallback_set(certificate, fallbacks):
            changed.append("fallback_ca_accounts")
        if changed:
            fields = [name for name in changed if name != "fallback_ca_accounts"]
            for name in fields:
                setattr(certificate, name, asked[name])
            certificate.save(update_fields=[*fields, "updated_at"])
            if "renew_before_days" in changed:
                certificates_schedule_refresh(certificates=Certificate.objects.filter(pk=certificate.pk))
            changes = audit_changes(before, certificate_settings(certificate))
            certificate_audit(actor=actor, action="certificate.updated", certificate=certificate, changes=changes)
    logger.info("certificate %s updated by %s: %s", certificate.identifier, actor.name, ", ".join(changed) or "-")
    return certificate_list().get(pk=certificate.pk)


ACME_ONLY = ("ca_account", "dns_account", "challenge", "webroot", "acme_profile")


def _refuse_acme_options(certificate: Certificate, asked: dict, fallbacks) -> None:
    """A private CA's certificate has no ACME options: setting one is refused, not stored unused."""
    given = [name for name in ACME_ONLY if asked.get(name) not in (None, "", getattr(certificate, name))]
    if fallbacks:
        given.append("fallback_ca_accounts")
    if given:
        raise CertificateRequestError(
            f"{certificate.identifier} is issued by private CA {certificate.authority.name!r}: "
            f"{', '.join(given)} apply to ACME certificates only",
            code="acme_only",
        )


def _acme_options_check(certificate: Certificate, asked: dict) -> None:
    """The challenge, webroot and profile as they will be, checked together (a challenge change can make
    a kept webroot or a wildcard name invalid); cleaned values replace the asked ones."""
    challenge = challenge_clean(asked.get("challenge", certificate.challenge), certificate.names)
    if "challenge" in asked:
        asked["challenge"] = challenge
    if "webroot" in asked or "challenge" in asked:
        webroot = asked.get("webroot", certificate.webroot)
        if challenge != "http-01" and "webroot" not in asked:
            webroot = ""  # leaving http-01 drops its webroot
        asked["webroot"] = certificate_webroot_clean(webroot or "", challenge)
    if "acme_profile" in asked or "ca_account" in asked:
        ca = asked.get("ca_account", certificate.ca_account)
        asked["acme_profile"] = acme_profile_clean(asked.get("acme_profile", certificate.acme_profile), ca)
    if challenge == "dns-01" and asked.get("dns_account", certificate.dns_account) is None:
        raise CertificateRequestError("dns-01 needs a DNS account: name the one to validate with", code="no_dns")


def certificate_auto_renew_set(*, certificate: Certificate, enabled: bool, actor: Actor) -> Certificate:
    """CertMate's auto-renew switch: a certificate_update (recorded as ``certificate.updated``)."""
    return certificate_update(certificate=certificate, auto_renew=enabled, actor=actor)


def certificate_delete(*, certificate: Certificate, actor: Actor) -> None:
    """Delete the certificate with its versions and jobs (its audit events stay, naming it). Refused
    while a job is open: its worker would store a version for a certificate that is gone. Its
    published copies are withdrawn from the storage target once the rows are gone (with retries).
    Records ``certificate.deleted`` with the settings it had."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        _refuse_while_open(certificate, "delete it")
        identifier = certificate.identifier
        certificate_id = certificate.pk
        before = certificate_settings(certificate)
        certificate.delete()
        certificate_audit(
            actor=actor,
            action="certificate.deleted",
            certificate=certificate,
            certificate_id=certificate_id,
            changes=audit_changes(before, {}),
        )
        event_record(kind=EventKind.DELETED, certificate=certificate)  # storage withdraws its material
    logger.info("certificate %s deleted by %s", identifier, actor.name)
