"""certbot and its plugins connect through the run's egress proxy: a directory (or any URL) on a refused
address is never reached, and the job's reason names what was refused."""

from __future__ import annotations

import pytest

from apps.certificates.acme.runner import AcmeAccount, CertbotError, register
from tests.egress import REFUSED_HOSTS, Listener, http_reply


@pytest.mark.parametrize("launch", ["fork", "spawn"])
@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_certbot_never_reaches_a_refused_directory(settings, launch, host):
    settings.CERTMATE_EGRESS_ALLOW = []
    settings.CERTMATE_CERTBOT_LAUNCH = launch
    with Listener(http_reply(body=b"{}")) as listener:
        account = AcmeAccount(directory_url=listener.url(host, "https", "/dir"), email="pki@alpha.test")
        with pytest.raises(CertbotError) as refused:
            register(account, timeout_seconds=60)
        assert listener.accepted == 0
    assert "which the platform does not connect to for tenants" in refused.value.reason
    assert "CERTMATE_EGRESS_ALLOW" in refused.value.reason
