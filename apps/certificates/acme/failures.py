"""Which certbot failures are worth another attempt, and when."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

# Permanent: asking again gives the same answer (the account, the credentials, the names or the CAA
# records must change first). Checked first, so "unauthorized … timed out" stays permanent.
_PERMANENT = re.compile(
    r"unauthorized|externalAccountRequired|external account|accountDoesNotExist|rejectedIdentifier|"
    r"malformed|badCSR|\bcaa\b|(?-i:NOTAUTH|BADSIG|BADKEY|REFUSED)|invalid credentials|authentication failed|"
    r"forbidden|not found: zone|no zone|"
    # An HTTPS certificate no trusted root signed (a private ACME CA without its trust bundle): the
    # same on every attempt, however "Max retries exceeded" reads.
    r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|"
    r"didn't like the signature we sent|didn't know the key we used|"  # a TSIG key the DNS server refused
    r"CERTMATE_EGRESS_ALLOW",  # the platform's egress rule refused a destination: only a new setting helps
    re.IGNORECASE,
)
# Transient: the CA, the DNS or the network will likely answer differently in a while.
_TRANSIENT = re.compile(
    r"badNonce|anti-replay nonce|rateLimited|too many|retry after|connection (refused|reset|aborted|error)|"
    r"timed out|timeout|did not finish within|temporar|serverInternal|service unavailable|\b50[234]\b|"
    r"Max retries exceeded|NXDOMAIN looking up TXT|No TXT record found|Incorrect TXT record|SERVFAIL",
    re.IGNORECASE,
)
# DNS that has not caught up yet: the CA reports it as "unauthorized", but the next attempt may pass.
# "DNS records not propagated" is the active propagation check's own failure (dnswait.NOT_PROPAGATED):
# a nameserver never showed the records, before the CA was asked anything.
_NOT_YET_PROPAGATED = re.compile(
    r"Incorrect TXT record|No TXT records? found|Correct value not found|NXDOMAIN looking up TXT|"
    r"looking up TXT for .*(SERVFAIL|timeout)|DNS records not propagated",
    re.IGNORECASE,
)
_RETRY_AFTER = re.compile(r"retry after (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)", re.IGNORECASE)


def is_transient(text: str) -> bool:
    if _NOT_YET_PROPAGATED.search(text):
        return True
    return not _PERMANENT.search(text) and bool(_TRANSIENT.search(text))


def retry_after(text: str, *, now: datetime) -> float | None:
    """Seconds until the CA said to retry (rate limits name a time), if it said."""
    match = _RETRY_AFTER.search(text)
    if not match:
        return None
    when = datetime.fromisoformat(match.group(1).replace(" ", "T")).replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# Failures whose fix is a setting of the certificate's accounts: the reason names the setting.
_UNTRUSTED = re.compile(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed", re.IGNORECASE)
_UNTRUSTED_HOST = re.compile(r"HTTPSConnectionPool\(host='([A-Za-z0-9.:\[\]-]{1,253})'")
_TSIG_BAD_SIGNATURE = re.compile(r"didn't like the signature we sent|(?<![A-Za-z])BADSIG(?![A-Za-z])")
_TSIG_BAD_KEY = re.compile(r"didn't know the key we used|(?<![A-Za-z])BADKEY(?![A-Za-z])")
TSIG_DEFAULT_ALGORITHM = "HMAC-MD5"  # what certbot-dns-rfc2136 assumes when none is given


@dataclass(frozen=True)
class AccountsInUse:
    """The settings a failure may point at, as plain values: the CA account and the DNS account."""

    ca_account: str = ""
    directory_url: str = ""
    has_trust_bundle: bool = False
    dns_account: str = ""
    tsig_key: str = ""  # an rfc2136 account's key name and algorithm ("" for other providers)
    tsig_algorithm: str = ""


def advice(text: str, accounts: AccountsInUse) -> str | None:
    """What to set, in one line, when certbot's ``text`` shows a setting is wrong; None otherwise."""
    if _UNTRUSTED.search(text) and accounts.ca_account:
        return _untrusted_advice(text, accounts)
    if accounts.tsig_key:
        algorithm = accounts.tsig_algorithm or f"{TSIG_DEFAULT_ALGORITHM}, the default"
        key = f"TSIG key {accounts.tsig_key!r} ({algorithm})"
        server = f"DNS account {accounts.dns_account!r}: the DNS server"
        if _TSIG_BAD_SIGNATURE.search(text):
            return (
                f"{server} rejected the signature of {key}: check that the account's tsig_secret and "
                "tsig_algorithm are those of the server's key of that name"
            )
        if _TSIG_BAD_KEY.search(text):
            return f"{server} does not know {key}: check the account's tsig_key and tsig_algorithm against the server's"
    return None


def _untrusted_advice(text: str, accounts: AccountsInUse) -> str:
    match = _UNTRUSTED_HOST.search(text)
    host = match.group(1) if match else ""
    ca_host = urlsplit(accounts.directory_url).hostname or ""
    server = f"the ACME server {ca_host}" if host in ("", ca_host) else host
    fix = "add the root CA that signed it to" if accounts.has_trust_bundle else "set"
    return (
        f"{server} presented an HTTPS certificate that no trusted root signed (CERTIFICATE_VERIFY_FAILED): "
        f"{fix} the trust bundle of CA account {accounts.ca_account!r}"
        + ("" if accounts.has_trust_bundle else " (the PEM of the root CA that signed it)")
    )


# What kind of failure a certbot run ended with, for /metrics: (side, type), the side "dns" or "acme".
# The first pattern that matches names it; DNS first, since a CA reports missing TXT records too.
_FAILURE_TYPES = [
    ("dns", "not_propagated", _NOT_YET_PROPAGATED),
    ("dns", "tsig_refused", re.compile(r"didn't like the signature|didn't know the key|(?-i:NOTAUTH|BADSIG|BADKEY)")),
    ("dns", "zone_not_found", re.compile(r"not found: zone|no zone|unable to determine (base )?domain", re.I)),
    ("dns", "credentials", re.compile(r"invalid credentials|authentication failed|(?-i:REFUSED)", re.I)),
    ("dns", "servfail", re.compile(r"SERVFAIL", re.I)),
    ("acme", "bad_nonce", re.compile(r"badNonce|anti-replay nonce", re.I)),
    ("acme", "rate_limited", re.compile(r"rateLimited|too many", re.I)),
    ("acme", "caa", re.compile(r"\bcaa\b", re.I)),
    ("acme", "external_account", re.compile(r"externalAccountRequired|external account", re.I)),
    ("acme", "unauthorized", re.compile(r"unauthorized|accountDoesNotExist|forbidden", re.I)),
    ("acme", "rejected", re.compile(r"malformed|badCSR|rejectedIdentifier", re.I)),
    ("acme", "untrusted_ca", _UNTRUSTED),
    ("acme", "egress_refused", re.compile(r"CERTMATE_EGRESS_ALLOW")),
    ("acme", "timeout", re.compile(r"timed out|timeout|did not finish within", re.I)),
    ("acme", "connection", re.compile(r"connection (refused|reset|aborted|error)|Max retries exceeded", re.I)),
    ("acme", "server_error", re.compile(r"serverInternal|service unavailable|\b50[234]\b", re.I)),
]


def failure_type(text: str) -> tuple[str, str]:
    """("dns" or "acme", a short type such as not_propagated or rate_limited); ("acme", "other") when
    nothing known matches."""
    for side, kind, pattern in _FAILURE_TYPES:
        if pattern.search(text):
            return side, kind
    return "acme", "other"


# -- issuer fallback ----------------------------------------------------------------------------------
# A failure another CA could fix: this CA could not be reached, limited the account's rate, failed
# inside, or its policy refused the names. Anything else (every challenge failure, every DNS error, the
# tenant's own settings) would fail the same at the next CA, and the order stops there.
UNREACHABLE, RATE_LIMITED, SERVER_ERROR, POLICY = "unreachable", "rate_limited", "server_error", "policy"
FALLBACK_LABELS = {
    UNREACHABLE: "the CA could not be reached",
    RATE_LIMITED: "the CA's rate limit",
    SERVER_ERROR: "the CA's server error",
    POLICY: "the CA's policy refused it",
}
# The CA's answer to the challenges: certbot lists each failed identifier with the problem's type.
_CHALLENGES_FAILED = re.compile(r"failed to authenticate some domains|Some challenges have failed", re.IGNORECASE)
_CHALLENGE_TYPE = re.compile(r"^\s*Type:\s*(\S+)", re.MULTILINE)
# The DNS side (the plugin, the DNS server or its API, the propagation check: _NOT_YET_PROPAGATED's words
# too) or the tenant's own settings
# (the egress rule, an ACME server's HTTPS certificate that no trusted root signed): the same at any CA.
_ANYWHERE = re.compile(
    r"TXT record|DNS problem|DNS operation|when making query|base domain|\bzone\b|nameserver|never showed|"
    r"PluginError|DNS account|didn't like the signature|didn't know the key|NXDOMAIN|SERVFAIL|"
    r"(?-i:NOTAUTH|BADSIG|BADKEY|REFUSED)|CERTMATE_EGRESS_ALLOW|CERTIFICATE_VERIFY_FAILED|certificate verify failed",
    re.IGNORECASE,
)
_PROGRESS = "certmate: "
# What the CA answered (runner.py adds its last answer's status and ACME problem type to the output).
_CA_PROBLEM = "urn:ietf:params:acme:error:"
_RATE_LIMITED = re.compile(
    rf"{_CA_PROBLEM}rateLimited|ACME server answered HTTP 429|<Response \[429\]>|\btoo many\b.{{0,120}}\bretry after\b",
    re.IGNORECASE,
)
_SERVER_ERROR = re.compile(rf"{_CA_PROBLEM}serverInternal|ACME server answered HTTP 5\d\d|<Response \[5\d\d\]>")
_POLICY = re.compile(rf"{_CA_PROBLEM}(rejectedIdentifier|unsupportedIdentifier|caa)\b")
# Not reaching it: refused, reset or timed out on the way to the CA's own host and port (the egress proxy
# answers 502 when it could not connect there).
_CONNECTION_FAILED = re.compile(
    r"Max retries exceeded|timed out|Connection (refused|reset|aborted)|RemoteDisconnected|"
    r"Tunnel connection failed: 502",
    re.IGNORECASE,
)


def fallback_class(text: str, *, ca_url: str) -> str | None:
    """Why another CA could succeed where the CA at ``ca_url`` failed with certbot's ``text`` (UNREACHABLE,
    RATE_LIMITED, SERVER_ERROR or POLICY), or None when the failure would repeat at any CA.

    CAA: a challenge failure whose only problem is CAA falls back. CAA records name the CAs a domain's
    owner allows, and each CA checks them for itself: the next CA issues only where the owner allows it."""
    if _CHALLENGES_FAILED.search(text):
        types = {kind.rsplit(":", 1)[-1] for kind in _CHALLENGE_TYPE.findall(text)}
        return POLICY if types == {"caa"} else None
    # certmate's own progress notes ("certmate: every nameserver shows the records after 0.3 s") tell of a
    # DNS step that went well: a failure of the propagation check says so in a line of its own.
    said = "\n".join(line for line in text.splitlines() if not line.startswith(_PROGRESS))
    if _ANYWHERE.search(said) or _NOT_YET_PROPAGATED.search(said):
        return None
    for kind, pattern in ((RATE_LIMITED, _RATE_LIMITED), (SERVER_ERROR, _SERVER_ERROR), (POLICY, _POLICY)):
        if pattern.search(text):
            return kind
    return UNREACHABLE if _unreachable(text, ca_url) else None


def _unreachable(text: str, ca_url: str) -> bool:
    parts = urlsplit(ca_url)
    try:
        port = parts.port or 443
    except ValueError:
        return False
    if not parts.hostname or not _CONNECTION_FAILED.search(text):
        return False
    # requests names the host and port it could not reach (through the egress proxy too): another server (a
    # DNS API, whatever its host) is not the CA.
    return f"HTTPSConnectionPool(host='{parts.hostname}', port={port})" in text
