"""lego (multi) DNS accounts over the API: only the chosen provider's own variables, never a host file,
profile or the platform's identity; a clear 400 in every tenant."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.certificates.models import DnsAccount

ATTACKS = [
    ("edgedns", {"AKAMAI_EDGERC": "/srv/certmate/var/secret_key"}, "AKAMAI_EDGERC is not allowed: it names a file"),
    ("edgedns", {"AKAMAI_EDGERC_SECTION": "default"}, "AKAMAI_EDGERC_SECTION is not allowed"),
    ("alidns", {"ALICLOUD_RAM_ROLE": "lego"}, "ALICLOUD_RAM_ROLE is not allowed: it lends the certmate host's"),
    ("oraclecloud", {"OCI_AUTH_TYPE": "instance_principal"}, "OCI_AUTH_TYPE is not allowed: it lends"),
    ("designate", {"OS_CLOUD": "platform"}, "OS_CLOUD is not a variable of lego provider designate"),
    ("cloudflare", {"CLOUDFLARE_DNS_API_TOKEN_FILE": "/etc/shadow"}, "CLOUDFLARE_DNS_API_TOKEN_FILE is not a variable"),
    ("dnsupdate", {"DNSUPDATE_TSIG_FILE": "/etc/bind/rndc.key"}, "DNSUPDATE_TSIG_FILE is not allowed: it names a file"),
    ("cloudflare", {"CLOUDFLARE_TTL": "0"}, "CLOUDFLARE_TTL must be a whole number of seconds from 1 to 86400"),
    ("cloudflare", {"CLOUDFLARE_BASE_URL": "https://user:pw@api.test"}, "CLOUDFLARE_BASE_URL is refused: the URL"),
    ("httpreq", {"HTTPREQ_ENDPOINT": "http://169.254.169.254/latest"}, "HTTPREQ_ENDPOINT is refused"),
    ("edgedns", {"AKAMAI_HOST": "[::ffff:169.254.169.254]"}, "AKAMAI_HOST is refused"),
    ("dnsupdate", {"DNSUPDATE_NAMESERVER": "ns.internal.test:53"}, "DNSUPDATE_NAMESERVER must be an IP address"),
    ("dnsupdate", {"DNSUPDATE_NAMESERVER": "169.254.169.254:53"}, "DNSUPDATE_NAMESERVER is refused"),
    ("pdns", {"PDNS_API_URL": "http://pdns.test/#"}, "PDNS_API_URL is refused: the URL must not have a #fragment"),
    ("exec", {"EXEC_PATH": "/bin/sh"}, "'exec' is not allowed: it runs a program on the certmate host"),
    ("fastdns", {"AKAMAI_HOST": "akab.test"}, "'fastdns' is not a lego"),
]


@pytest.mark.parametrize(("provider", "variables", "message"), ATTACKS, ids=[a[2].split()[0] for a in ATTACKS])
def test_the_api_refuses_host_files_profiles_and_identities_in_both_tenants(
    tenant_a, tenant_b, api_client, provider, variables, message
):
    for tenant in (tenant_a, tenant_b):
        admin = api_client(tenant, "admin")
        body = {"name": "lego", "provider": "multi", "credentials": {"provider": provider, **variables}}
        response = admin.post("/api/dns-accounts", body, format="json")
        assert response.status_code == 400, response.content
        assert message in response.content.decode()
        for value in variables.values():
            assert value not in response.content.decode() or value in message
        with tenant_context(tenant):
            assert not DnsAccount.objects.filter(provider="multi").exists()


def test_a_providers_own_variables_are_accepted(tenant_a, api_client, settings):
    admin = api_client(tenant_a, "admin")
    credentials = {"provider": "edgedns", "AKAMAI_HOST": "akab-x.luna.akamaiapis.net", "AKAMAI_CLIENT_TOKEN": "t1"}
    credentials |= {"AKAMAI_CLIENT_SECRET": "s1", "AKAMAI_ACCESS_TOKEN": "a1", "AKAMAI_TTL": "120"}
    response = admin.post("/api/dns-accounts", {"name": "akamai", "provider": "multi", "credentials": credentials})
    assert response.status_code == 201, response.content
    settings.CERTMATE_DNS_PLATFORM_IDENTITY = True  # the operator lends the platform's identity on purpose
    identity = {"provider": "alidns", "ALICLOUD_RAM_ROLE": "lego"}
    response = admin.post("/api/dns-accounts", {"name": "ali", "provider": "multi", "credentials": identity})
    assert response.status_code == 201, response.content
