"""The platform egress rule for connections made on a tenant's behalf (see rules.py and connect.py).

check_url(url)            validation: format, scheme, port, host (literal addresses without DNS)
check_address(ip)         one address against the rule and CERTMATE_EGRESS_ALLOW
resolve(host, port)       resolve once, check every address
session()                 a requests.Session whose every connection obeys the rule
guarded()                 a block in which every urllib3 connection obeys it (SDKs)
deadline(seconds)         a block whose guarded connections are cut after ``seconds`` in all
redirects_refused()       a block in which no requests session follows a redirect
"""

from .connect import (
    GuardedSession,
    allowance,
    check_address,
    check_host,
    check_url,
    connect,
    deadline,
    guarded,
    platform_identity,
    redirects_refused,
    refusal_in,
    resolve,
    session,
)
from .proxy import EgressProxy
from .rules import ALLOW_SETTING, EgressRefused, classify, parse_allow

__all__ = [
    "ALLOW_SETTING",
    "EgressProxy",
    "EgressRefused",
    "GuardedSession",
    "allowance",
    "check_address",
    "check_host",
    "check_url",
    "classify",
    "connect",
    "deadline",
    "guarded",
    "parse_allow",
    "platform_identity",
    "redirects_refused",
    "refusal_in",
    "resolve",
    "session",
]
