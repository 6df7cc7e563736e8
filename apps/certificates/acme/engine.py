"""ACME, the first issuing engine: orders and revocations through certbot (runner.py), signed with the
certificate's CA account (registered at its CA on first use; then its fallback chain, see fallback.py)
and validated through its DNS account. Everything certbot-shaped stays here: the services see an Issued
result or an EngineError."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from apps.certificates.acme import runner
from apps.certificates.acme.accounts import acme_account_of, ca_account_ensure_registered
from apps.certificates.acme.ari import cert_id
from apps.certificates.acme.directory import ca_account_directory_ensure
from apps.certificates.acme.failures import AccountsInUse, advice, failure_type, is_transient, retry_after
from apps.certificates.acme.fallback import obtain_through_chain
from apps.certificates.acme.http01 import Http01Publisher, http01_publisher
from apps.certificates.acme.order_window import ca_account_order_wait
from apps.certificates.acme.propagation import dns_check_plan
from apps.certificates.acme.providers import MAX_PROPAGATION_SECONDS, DnsPluginMissing, get_provider
from apps.certificates.acme.webroot import webroot_root_of
from apps.certificates.engines.base import Engine, EngineError, Wait
from apps.certificates.issued import Issued
from apps.certificates.models import CaAccount, Certificate, CertificateVersion, Challenge
from certmate.actors import Actor
from certmate.metrics import ACME_ERRORS, DNS_ERRORS, count

logger = logging.getLogger(__name__)
WORKER = Actor.system("worker")  # registers the CA account on its first order or revocation
# How a CA says it revoked the certificate before: the revocation stands.
_ALREADY_REVOKED = re.compile(r"already revoked", re.IGNORECASE)
# RFC 9773: the CA refuses "replaces" for a certificate another order replaces already (an earlier attempt
# of this renewal that stopped halfway, say): the order goes again without it.
_ALREADY_REPLACED = re.compile(r"alreadyReplaced|already been replaced", re.IGNORECASE)


def _failed(prefix: str, exc: runner.CertbotError, certificate: Certificate, ca: CaAccount | None) -> EngineError:
    """certbot's failure (at CA account ``ca``) as the engine's: permanent or worth another attempt (and
    when), by what it said, and what to set when it shows an account's setting is wrong."""
    text = f"{exc.reason}\n{exc.output}"
    later = retry_after(exc.output + exc.reason, now=timezone.now())
    reason = advice(text, _accounts_in_use(certificate, ca)) or exc.reason
    side, kind = failure_type(text)
    count(DNS_ERRORS if side == "dns" else ACME_ERRORS, type=kind)
    return EngineError(prefix + reason, exc.output, transient=is_transient(text), retry_after=later)


def _accounts_in_use(certificate: Certificate, ca: CaAccount | None) -> AccountsInUse:
    dns = certificate.dns_account
    tsig = dns.credentials if dns is not None and dns.provider == "rfc2136" else {}
    return AccountsInUse(
        ca_account=ca.name if ca else "",
        directory_url=ca.directory_url if ca else "",
        has_trust_bundle=bool(ca and ca.trust_bundle.strip()),
        dns_account=dns.name if dns else "",
        tsig_key=str(tsig.get("tsig_key") or ""),
        tsig_algorithm=str(tsig.get("tsig_algorithm") or ""),
    )


def _dns_side(certificate: Certificate) -> tuple[Callable, tuple[str, ...], str]:
    """dns-01: how the run's folder gets the DNS plugin's credentials, the values to redact, and the
    active propagation check's plan (which nameservers to ask instead of the plugin's sleep: found
    once, before any attempt)."""
    dns = certificate.dns_account
    try:
        provider = get_provider(dns.provider)
        provider.require_plugin()
        credentials = provider.validate(dns.credentials)
    except ValidationError as exc:
        raise EngineError(f"DNS account {dns}: {'; '.join(exc.messages)}") from None
    except DnsPluginMissing as exc:
        raise EngineError(str(exc)) from None
    propagation = dns.propagation_seconds
    if propagation is not None:
        propagation = min(propagation, MAX_PROPAGATION_SECONDS)  # stored before the cap: no longer than it

    def dns_setup(folder):
        prepared = provider.prepare(credentials, folder, propagation)
        return prepared.args, prepared.env

    dns_check = dns_check_plan(
        names=certificate.names, account=dns, plugin_waits=provider.default_propagation_seconds is not None
    )
    return dns_setup, provider.secret_values(credentials), dns_check


def _without_dns(folder) -> tuple[list[str], dict[str, str]]:
    return [], {}


def _http01_side(certificate: Certificate) -> Http01Publisher:
    """http-01: the order's publisher; a webroot is checked again against today's platform roots."""
    root = ""
    if certificate.webroot:
        try:
            root = webroot_root_of(certificate.webroot, tenant_slug=connection.schema_name)
        except ValidationError as exc:
            raise EngineError(f"{certificate.identifier}: {'; '.join(exc.messages)}", code="invalid_webroot") from None
    return http01_publisher(certificate, webroot_root=root)


@dataclass(frozen=True)
class _Validation:
    """How an order's challenges are answered: prepared once, for every CA account the order goes to."""

    dns_setup: Callable
    secrets: tuple[str, ...]
    dns_check: str
    http01: Http01Publisher | None


class AcmeEngine(Engine):
    def check(self, certificate: Certificate, *, revoking: bool = False) -> None:
        if revoking and certificate.ca_account_id is None:
            reason = f"{certificate.identifier} has no CA account to revoke it with: set one first"
            raise EngineError(reason, code="no_ca")
        if revoking:
            return
        # A DNS account validates dns-01 only: http-01 is answered by certmate or through a webroot.
        missing = []
        if certificate.ca_account_id is None:
            missing.append("CA account")
        if certificate.challenge != Challenge.HTTP_01 and certificate.dns_account_id is None:
            missing.append("DNS account (dns-01 needs one)")
        if missing:
            reason = f"{certificate.identifier} has no {' and no '.join(missing)}: set what is missing and retry"
            raise EngineError(reason, code="no_ca")

    def obtain(self, certificate: Certificate, *, keep_alive: Callable[[], None]) -> Issued:
        self.check(certificate)
        replaces = self.order_replaces(certificate)  # before the read below: what the job recorded
        http01 = _http01_side(certificate) if certificate.challenge == Challenge.HTTP_01 else None
        dns_setup, secrets, dns_check = _dns_side(certificate) if http01 is None else (_without_dns, (), "")
        validation = _Validation(dns_setup, secrets, dns_check, http01)

        def order_at(ca: CaAccount) -> Issued:
            return self._obtain_at(certificate, ca, validation, replaces=replaces, keep_alive=keep_alive)

        # The certificate's CA account, then its fallback chain for what another CA could fix.
        return obtain_through_chain(certificate, order_at)

    def _obtain_at(
        self, certificate: Certificate, ca: CaAccount, validation: _Validation, *, replaces: str, keep_alive
    ) -> Issued:
        """One order at CA account ``ca`` (registered on its first use); EngineError without the name."""
        # The CA's profiles and ARI URL, read on the account's first order (later: refresh, ARI refresh).
        ca = ca_account_directory_ensure(account=ca, actor=WORKER)
        profile = certificate.acme_profile
        if ca.pk != certificate.ca_account_id:
            # Another CA than the certificate's: ARI's replaces only for a version it issued, the profile only
            # where its directory offers it.
            replaces = self.order_replaces(certificate, ca)
            profile = profile if profile in ca.profiles else ""
        http01 = validation.http01
        attempts = settings.CERTMATE_ACME_NONCE_ATTEMPTS
        for attempt in range(1, attempts + 1):
            keep_alive()
            try:
                # Registering is one request to the CA: a short deadline, since other workers may wait for it.
                account = ca_account_ensure_registered(
                    ca_account_id=ca.pk,
                    actor=WORKER,
                    timeout_seconds=min(300, settings.CERTMATE_CERTBOT_TIMEOUT),
                )
                keep_alive()
                order = runner.Order(
                    account=acme_account_of(account),
                    domains=certificate.names,
                    key_type=certificate.key_type,
                    dns_setup=validation.dns_setup,
                    secrets=validation.secrets,
                    timeout_seconds=settings.CERTMATE_CERTBOT_TIMEOUT,
                    dns_check=validation.dns_check,
                    http01=http01.serving if http01 else None,
                    profile=profile,
                    replaces=replaces,
                )
                return runner.obtain(order)
            except runner.CertbotError as exc:
                if http01 is not None and http01.refusals:  # what certmate refused is why the CA saw nothing
                    exc = runner.CertbotError(f"HTTP-01: {http01.refusals[0]}", exc.output, timed_out=exc.timed_out)
                if replaces and _ALREADY_REPLACED.search(exc.reason + exc.output) and attempt < attempts:
                    logger.info("%s: the CA says its certificate is replaced already; ordering without replaces",
                                certificate.identifier)  # fmt: skip
                    replaces = ""
                    continue
                # A refused anti-replay nonce is the CA's hiccup, not the order's fault: run it again now.
                if exc.bad_nonce and attempt < attempts:
                    logger.info("bad nonce for %s, attempt %s of %s", certificate.identifier, attempt, attempts)
                    continue
                raise _failed("", exc, certificate, ca) from None
        raise AssertionError("unreachable")

    def order_replaces(self, certificate: Certificate, ca: CaAccount | None = None) -> str:
        """The current version's CertID, when the CA account (``ca``, default the certificate's) offers ARI
        and the CA would take it: a version of this account's own (or, for the certificate's own account,
        from before versions recorded theirs) sharing a name with the order."""
        version, own = certificate.current_version, ca is None or ca.pk == certificate.ca_account_id
        ca = certificate.ca_account if ca is None else ca
        if version is None or ca is None or not ca.renewal_info_url:
            return ""
        issuers = (None, ca.pk) if own else (ca.pk,)
        if version.ca_account_id not in issuers or not set(version.san) & set(certificate.names):
            return ""
        try:
            return cert_id(version.certificate_pem)
        except ValueError:
            return ""

    def revoke(
        self, certificate: Certificate, version: CertificateVersion, *, reason: str, keep_alive: Callable[[], None]
    ) -> str:
        self.check(certificate, revoking=True)
        keep_alive()
        deadline = min(300, settings.CERTMATE_CERTBOT_TIMEOUT)
        # At the CA that issued it: after an issuer fallback, not the certificate's own.
        ca = version.ca_account if version.ca_account_id else certificate.ca_account
        try:
            # Registration failing (a CA that refuses or never answers) is this job's reason, like any refusal.
            account = ca_account_ensure_registered(ca_account_id=ca.pk, actor=WORKER, timeout_seconds=deadline)
            keep_alive()
            return runner.revoke(acme_account_of(account), version.certificate_pem, reason=reason,
                                 timeout_seconds=deadline)  # fmt: skip
        except runner.CertbotError as exc:
            if _ALREADY_REVOKED.search(exc.reason + exc.output):
                return exc.output
            prefix = f"{certificate.identifier} v{version.number}: the CA did not revoke it: "
            raise _failed(prefix, exc, certificate, ca) from None

    def order_wait(self, certificate: Certificate, *, now: datetime) -> Wait | None:
        """The certificate's own CA account's order window (order_window.py); a fallback account's is
        asked before the order goes there."""
        if not certificate.ca_account_id:
            return None
        return ca_account_order_wait(ca_account_id=certificate.ca_account_id, now=now)
