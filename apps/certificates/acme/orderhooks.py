"""What certmate adds to certbot's newOrder inside the certbot child: ARI's ``replaces`` (RFC 9773 §5),
the CertID of the certificate the order replaces. certbot has no option for it, and the CA uses it to
tie the renewal to the certificate it renews (Let's Encrypt exempts such renewals from its rate limits).

Standard library and ``acme`` only: loaded beside confine.py by the launcher's child (zygote.py) and by
spawn's ``confine.py`` script, after the run's environment is in place and before certbot's main().
The patch lives and dies with that one child: the worker and the launcher never load it.
"""

from __future__ import annotations

import os
import re
import sys

# The run's environment names the CertID to send; popped, so neither certbot nor a plugin sees it.
REPLACES_VARIABLE = "CERTMATE_ACME_REPLACES"
# base64url(keyIdentifier) "." base64url(serial), unpadded (Job.replaces holds at most 200 characters).
CERT_ID = re.compile(r"[A-Za-z0-9_-]{1,120}\.[A-Za-z0-9_-]{1,60}")


def install_from_environment() -> bool:
    """Send the CertID the environment names in every newOrder of this process; True if it will."""
    cert_id = os.environ.pop(REPLACES_VARIABLE, "")
    if not cert_id:
        return False
    if not CERT_ID.fullmatch(cert_id):
        print("certmate: the order's replaces value is not a CertID; the order goes without it", file=sys.stderr)
        return False
    _send_replaces(cert_id)
    return True


def _send_replaces(cert_id: str) -> None:
    # acme builds each newOrder body as messages.NewOrder(...) looked up at call time: a subclass with the
    # extra field, defaulting to this run's CertID, puts "replaces" in the signed payload.
    import josepy as jose
    from acme import messages

    class ReplacingOrder(messages.NewOrder):
        replaces: str | None = jose.field("replaces", omitempty=True)

        def __init__(self, **kwargs):
            kwargs.setdefault("replaces", cert_id)
            super().__init__(**kwargs)

    messages.NewOrder = ReplacingOrder
