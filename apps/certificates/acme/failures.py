"""Which certbot failures are worth another attempt, and when."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Permanent: asking again gives the same answer (the account, the credentials, the names or the CAA
# records must change first). Checked first, so "unauthorized … timed out" stays permanent.
_PERMANENT = re.compile(
    r"unauthorized|externalAccountRequired|external account|accountDoesNotExist|rejectedIdentifier|"
    r"malformed|badCSR|\bcaa\b|(?-i:NOTAUTH|BADSIG|BADKEY|REFUSED)|invalid credentials|authentication failed|"
    r"forbidden|not found: zone|no zone|"
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
_NOT_YET_PROPAGATED = re.compile(
    r"Incorrect TXT record|No TXT records? found|Correct value not found|NXDOMAIN looking up TXT|"
    r"looking up TXT for .*(SERVFAIL|timeout)",
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
