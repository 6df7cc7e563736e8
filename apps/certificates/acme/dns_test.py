"""Checking a DNS account without changing anything: the "Test" button of the portal, admin and API.

Only providers that can be asked something harmless are checkable. For rfc2136 that is a TSIG-signed SOA
query to the configured nameserver: a signed answer proves the server, the port, the key name, the secret
and the algorithm at once, and nothing is written. Other providers would need a record changed; the first
order tells. The result is one line a user reads: never a secret, never what the remote side sent.
"""

from __future__ import annotations

import binascii
import logging
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.tsig
import dns.tsigkeyring
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.certificates.acme.models import DnsAccount
from apps.certificates.acme.providers import PROVIDERS
from certmate.actors import Actor
from certmate.audit.services import audit_record
from certmate.egress.connect import check_address
from certmate.egress.rules import EgressRefused, is_host_name, normalize_host

logger = logging.getLogger(__name__)

CHECKABLE = frozenset({"rfc2136"})
TIMEOUT_SECONDS = 5.0
_ANSWERED = (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)  # the server speaks for the zone, even without the name


@dataclass(frozen=True)
class DnsTestResult:
    ok: bool
    message: str


def dns_account_checkable(provider: str) -> bool:
    return provider in CHECKABLE


def dns_account_test(
    *, account: DnsAccount, actor: Actor, zone: str = "", timeout: float = TIMEOUT_SECONDS
) -> DnsTestResult:
    """Ask the account's provider something harmless and say what happened; audit `dns_account.tested`.

    ``zone``: the name to ask the SOA of (default: the newest certificate's name on this account, else the
    root). A bad zone is a ValidationError (code invalid_zone); every other outcome is the result."""
    zone = _zone_clean(zone)
    if account.provider in CHECKABLE:
        result = _rfc2136_test(account.credentials, zone or _zone_of(account), timeout)
    else:
        label = PROVIDERS[account.provider].label if account.provider in PROVIDERS else account.provider
        result = DnsTestResult(
            False, f"certmate cannot check {label} accounts without changing a record; the first order will tell"
        )
    with transaction.atomic():  # after the query: no transaction stays open while the server answers
        audit_record(
            actor=actor,
            action="dns_account.tested",
            target=account,
            object_type="dns_account",
            object_name=str(account),
            changes={"result": [None, "ok" if result.ok else "failed"], "message": [None, result.message]},
        )
    return result


def _zone_clean(zone: str) -> str:
    name = normalize_host(zone or "")
    if name and not is_host_name(name.removeprefix("*.")):
        raise ValidationError(f"{str(zone)[:64]!r} is not a DNS zone name (example.com)", code="invalid_zone")
    return name.removeprefix("*.")


def _zone_of(account: DnsAccount) -> str:
    """A name the account validates for (its newest certificate's), else the root: any signed answer proves the key."""
    identifier = account.certificates.order_by("-pk").values_list("identifier", flat=True).first()
    return identifier.removeprefix("*.") if identifier else "."


def _algorithm(text: str) -> dns.name.Name:
    name = (text or "hmac-md5").lower()  # certbot-dns-rfc2136 assumes HMAC-MD5 when none is given
    return dns.tsig.HMAC_MD5 if name == "hmac-md5" else dns.name.from_text(name)


def _rfc2136_test(credentials: dict, zone: str, timeout: float) -> DnsTestResult:
    server, port = credentials.get("nameserver", ""), int(credentials.get("port") or 53)
    key_name, algorithm_text = credentials.get("tsig_key", ""), (credentials.get("tsig_algorithm") or "HMAC-MD5")
    where, key = f"{server}:{port}", f"key '{key_name}' ({algorithm_text.upper()})"
    try:
        check_address(server)
    except EgressRefused as exc:
        return DnsTestResult(False, f"the nameserver is refused: {exc}")
    try:
        keyring = dns.tsigkeyring.from_text(
            {key_name: (_algorithm(algorithm_text), credentials.get("tsig_secret", ""))}
        )
        query = dns.message.make_query(dns.name.from_text(zone), "SOA")
        query.use_tsig(keyring, keyname=key_name)
    except (binascii.Error, ValueError, dns.exception.DNSException):
        return DnsTestResult(False, f"the TSIG {key} or the zone '{zone[:100]}' cannot be used: check them")
    try:
        response, _ = dns.query.udp_with_fallback(query, server, timeout=timeout, port=port)
    except dns.exception.Timeout:
        return DnsTestResult(False, f"no answer from {where} within {timeout:g} s")
    except (dns.tsig.PeerBadKey, dns.tsig.PeerBadSignature, dns.tsig.PeerBadTruncation):
        return DnsTestResult(False, f"the nameserver refused TSIG {key}: check the key name, secret and algorithm")
    except dns.tsig.PeerBadTime:
        return DnsTestResult(False, f"{where} refused TSIG {key} for its time: check this machine's clock")
    except OSError as exc:
        return DnsTestResult(False, f"could not reach {where}: {exc.strerror or type(exc).__name__}")
    except dns.exception.DNSException as exc:
        logger.info("rfc2136 test of %s: %s", where, type(exc).__name__)
        return DnsTestResult(False, f"the answer from {where} could not be verified with TSIG {key}")
    shown = "the root zone" if zone == "." else zone
    if response.rcode() in _ANSWERED:
        return DnsTestResult(True, f"{where} answered for {shown} with key '{key_name}'")
    rcode = dns.rcode.to_text(response.rcode())
    if zone == ".":
        return DnsTestResult(True, f"{where} accepted key '{key_name}' (no zone to ask about; it answered {rcode})")
    return DnsTestResult(
        False, f"{where} accepted key '{key_name}' but answered {rcode} for {shown}: does it serve it?"
    )
