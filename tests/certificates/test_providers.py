"""The DNS provider registry, checked against the certbot plugins themselves.

What each plugin reads back is written out here by hand from the plugin's source, not derived from
the registry: a wrong key in the registry then fails here, where certbot would fail at 3 a.m.

The plugins are read the way certbot reads them: certbot's own argument parser takes the arguments
``prepare`` produced, the plugin is built from its ``certbot.plugins`` entry point and its
``_setup_credentials()`` loads and validates the files. No database is used.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from apps.certificates.acme.providers import (
    PROVIDERS,
    CertbotDnsArgs,
    CredentialField,
    DnsPluginMissing,
    DnsProvider,
    get_provider,
    provider_choices,
)
from tests.tools import ON_CI

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements" / "dns-plugins.txt"
MARK = "S3CR3T"  # every secret sample contains it: no error message may


@functools.cache
def _google_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "certmate-test-1",
            "private_key_id": f"key-id-{MARK}",
            "private_key": pem,
            "client_email": "certbot@certmate-test-1.iam.gserviceaccount.com",
            "client_id": "100000000000000000001",
            "token_uri": "https://oauth2.googleapis.com/token",
        },
        indent=2,
    )


SUBSCRIPTION = "11111111-2222-4333-8444-555555555555"

# provider key -> (case name, credentials certmate stores, what the plugin must read: its variable -> value)
CASES: list[tuple[str, str, dict[str, str], dict[str, str]]] = [
    ("cloudflare", "token", {"api_token": f"cf-{MARK}-token"}, {"api-token": f"cf-{MARK}-token"}),
    (
        "cloudflare",
        "global-key",
        {"email": "admin@example.test", "api_key": f"cf-{MARK}-global"},
        {"email": "admin@example.test", "api-key": f"cf-{MARK}-global"},
    ),
    (
        "route53",
        "keys",
        {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": f"wJalrXUtnFEMI/K7MDENG/{MARK}KEY"},
        {"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": f"wJalrXUtnFEMI/K7MDENG/{MARK}KEY"},
    ),
    (
        "route53",
        "session",
        {
            "access_key_id": "ASIAIOSFODNN7EXAMPLE",
            "secret_access_key": f"wJalrXUtnFEMI/K7MDENG/{MARK}KEY",
            "session_token": f"FwoGZXIvYXdzE{MARK}+/=",
            "region": "us-gov-west-1",
        },
        {"access_key": "ASIAIOSFODNN7EXAMPLE", "token": f"FwoGZXIvYXdzE{MARK}+/="},
    ),
    ("google", "key", {"service_account_key": "<generated>"}, {"project": "certmate-test-1"}),
    (
        "google",
        "other-project",
        {"service_account_key": "<generated>", "project_id": "certmate-zones-2"},
        {"project": "certmate-zones-2"},
    ),
    ("digitalocean", "token", {"api_token": f"do-{MARK}"}, {"token": f"do-{MARK}"}),
    ("linode", "key", {"api_key": f"linode-{MARK}"}, {"key": f"linode-{MARK}"}),
    (
        "ovh",
        "keys",
        {"application_key": "ovh-app-key", "application_secret": f"ovh-{MARK}", "consumer_key": f"ovh-ck-{MARK}"},
        {
            "endpoint": "ovh-eu",
            "application-key": "ovh-app-key",
            "application-secret": f"ovh-{MARK}",
            "consumer-key": f"ovh-ck-{MARK}",
        },
    ),
    (
        "rfc2136",
        "tsig",
        {
            "nameserver": "127.0.0.1",
            "port": "5353",
            "tsig_key": "certmate-key",
            "tsig_secret": f"c2VjcmV0{MARK}dHNpZw==",
            "tsig_algorithm": "HMAC-SHA256",
        },
        {
            "server": "127.0.0.1",
            "port": "5353",
            "name": "certmate-key",
            "secret": f"c2VjcmV0{MARK}dHNpZw==",
            "algorithm": "HMAC-SHA256",
        },
    ),
    (
        "gandi",
        "pat",
        {"api_token": f"gandi-{MARK}", "sharing_id": "3f2b6a1e-8c1d-4c6a-9a0b-2d9e5f7c1a4b"},
        {"token": f"gandi-{MARK}", "sharing-id": "3f2b6a1e-8c1d-4c6a-9a0b-2d9e5f7c1a4b"},
    ),
    ("hetzner", "token", {"api_token": f"hcloud-{MARK}"}, {"api_token": f"hcloud-{MARK}"}),
    (
        "porkbun",
        "keys",
        {"api_key": f"pk1_{MARK}", "secret_key": f"sk1_{MARK}"},
        {"key": f"pk1_{MARK}", "secret": f"sk1_{MARK}"},
    ),
    ("godaddy", "pat", {"api_token": f"gd-{MARK}"}, {"token": f"gd-{MARK}"}),
    ("vultr", "key", {"api_key": f"vultr-{MARK}"}, {"key": f"vultr-{MARK}"}),
    (
        "dnsmadeeasy",
        "keys",
        {"api_key": "dme-api-key", "secret_key": f"dme-{MARK}"},
        {"api-key": "dme-api-key", "secret-key": f"dme-{MARK}"},
    ),
    ("nsone", "key", {"api_key": f"ns1-{MARK}"}, {"api-key": f"ns1-{MARK}"}),
    (
        "desec",
        "token",
        {"api_token": f"desec-{MARK}", "endpoint": "https://desec.example.test/api/v1"},
        {"token": f"desec-{MARK}", "endpoint": "https://desec.example.test/api/v1"},
    ),
    (
        "powerdns",
        "api",
        {"api_url": "https://pdns.example.test:8081", "api_key": f"pdns-{MARK}"},
        {
            "endpoint": "https://pdns.example.test:8081",
            "api-key": f"pdns-{MARK}",
            "server-id": "localhost",
            "disable-notify": "false",
        },
    ),
    (
        "azure",
        "service-principal",
        {
            "subscription_id": SUBSCRIPTION,
            "resource_group": "certmate-dns",
            "tenant_id": "22222222-3333-4444-8555-666666666666",
            "client_id": "33333333-4444-4555-8666-777777777777",
            "client_secret": f"az-{MARK}",
            "zones": "example.test, Example.org.",
        },
        {
            "sp_client_id": "33333333-4444-4555-8666-777777777777",
            "sp_client_secret": f"az-{MARK}",
            "tenant_id": "22222222-3333-4444-8555-666666666666",
            "example.test": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/certmate-dns",
            "example.org": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/certmate-dns",
        },
    ),
    ("duckdns", "token", {"api_token": f"duck-{MARK}"}, {"token": f"duck-{MARK}"}),
    ("infomaniak", "token", {"api_token": f"ik-{MARK}"}, {"token": f"ik-{MARK}"}),
    (
        "multi",
        "lego-cloudflare",
        {"provider": "cloudflare", "CLOUDFLARE_DNS_API_TOKEN": f"lego-{MARK}"},
        {"dns_multi_provider": "cloudflare", "CLOUDFLARE_DNS_API_TOKEN": f"lego-{MARK}"},
    ),
]


def _sample(key: str, credentials: dict[str, str]) -> dict[str, str]:
    if key == "google":
        return {**credentials, "service_account_key": _google_key()}
    return dict(credentials)


def _case_id(case) -> str:
    return f"{case[0]}-{case[1]}"


def _first_case(key: str) -> dict[str, str]:
    return _sample(key, next(c[2] for c in CASES if c[0] == key))


def _need_plugin(provider: DnsProvider) -> None:
    if not provider.plugin_installed():
        message = f"{provider.package} is not installed (requirements/dns-plugins.txt)"
        if ON_CI:
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)


def _messages(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return excinfo.value.messages


@pytest.fixture(scope="module")
def certbot_plugins():
    """certbot's own plugin registry: it imports every installed plugin, and one broken plugin breaks all."""
    from certbot._internal.plugins import disco

    return disco.PluginsRegistry.find_all()


def _certbot_config(plugins, tmp_path: Path, args: list[str]):
    from certbot._internal import cli

    dirs = [f"--{name}-dir" for name in ("config", "work", "logs")]
    base = ["certonly", "--non-interactive", "-d", "example.test"]
    for flag in dirs:
        base += [flag, str(tmp_path / "certbot" / flag.strip("-"))]
    return cli.prepare_and_parse_args(plugins, [*base, *args])


def _new_plugin(plugins, name: str, config):
    """A new authenticator, built as certbot builds it (PluginEntryPoint.init would hand back a cached one)."""
    entry_point = plugins[name]
    return entry_point.plugin_cls(config, entry_point.name)


def _credentials_object(authenticator):
    from certbot.plugins.dns_common import CredentialsConfiguration

    found = [value for value in vars(authenticator).values() if isinstance(value, CredentialsConfiguration)]
    assert len(found) == 1, f"{type(authenticator).__name__} keeps no single CredentialsConfiguration"
    return found[0]


# -- the registry itself ------------------------------------------------------------------------


def test_every_provider_has_a_sample():
    assert {c[0] for c in CASES} == set(PROVIDERS)


def test_required_providers_are_registered():
    required = {
        *("cloudflare", "route53", "google", "digitalocean", "linode", "ovh", "rfc2136", "gandi", "hetzner"),
        *("porkbun", "godaddy", "vultr", "dnsmadeeasy", "nsone", "desec", "powerdns", "azure", "multi"),
    }
    assert required <= set(PROVIDERS)


def test_get_provider_and_choices():
    assert get_provider("cloudflare") is PROVIDERS["cloudflare"]
    with pytest.raises(ValidationError) as excinfo:
        get_provider("nosuch")
    [message] = _messages(excinfo)
    assert message.startswith("unknown DNS provider 'nosuch': choose one of cloudflare, route53,")
    assert provider_choices() == [(p.key, p.label) for p in PROVIDERS.values()]
    assert all(len(key) <= 32 for key, _ in provider_choices())


def test_requirements_pin_every_registered_package():
    pins = dict(
        re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
        for line in (raw.split("#")[0].strip() for raw in REQUIREMENTS.read_text().splitlines())
        if line
    )
    normalized = {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins.items()}
    for provider in PROVIDERS.values():
        assert provider.package in normalized, f"{provider.package} is not pinned in {REQUIREMENTS.name}"
        if provider.plugin_installed():
            assert metadata.version(provider.package) == normalized[provider.package], provider.package


@pytest.mark.parametrize("provider", PROVIDERS.values(), ids=lambda p: p.key)
def test_entry_point_comes_from_the_registered_package(provider):
    _need_plugin(provider)
    [entry_point] = metadata.entry_points(group="certbot.plugins", name=provider.plugin)
    assert re.sub(r"[-_.]+", "-", entry_point.dist.name).lower() == provider.package


def test_certbot_loads_every_installed_plugin(certbot_plugins):
    installed = {p.plugin for p in PROVIDERS.values() if p.plugin_installed()}
    assert installed <= set(certbot_plugins)


@pytest.mark.parametrize("provider", PROVIDERS.values(), ids=lambda p: p.key)
def test_default_propagation_is_the_plugins_own(provider, certbot_plugins, tmp_path):
    _need_plugin(provider)
    config = _certbot_config(certbot_plugins, tmp_path, ["--authenticator", provider.plugin])
    dest = provider.plugin.replace("-", "_") + "_propagation_seconds"
    if provider.default_propagation_seconds is None:
        assert not hasattr(config.namespace, dest)
    else:
        assert getattr(config, dest) == provider.default_propagation_seconds


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_sample_validates_stripped(case):
    key, _, credentials, _ = case
    credentials = _sample(key, credentials)
    padded = {name: f"  {value}\t" for name, value in credentials.items()}
    cleaned = PROVIDERS[key].validate(padded)
    for name, value in credentials.items():
        assert cleaned[name] == value.strip()
    assert padded == {name: f"  {value}\t" for name, value in credentials.items()}  # the input is left alone


@pytest.mark.parametrize("provider", PROVIDERS.values(), ids=lambda p: p.key)
def test_missing_required_field_is_named(provider):
    sample = _first_case(provider.key)
    required = [f.name for f in provider.fields if f.required and f.default is None]
    for name in required:
        given = {k: v for k, v in sample.items() if k != name}
        with pytest.raises(ValidationError) as excinfo:
            provider.validate(given)
        assert f"{provider.key}: {name} is required" in _messages(excinfo)
        for blank in ("   ", None):  # blank is missing too
            with pytest.raises(ValidationError) as excinfo:
                provider.validate({**given, name: blank})
            assert f"{provider.key}: {name} is required" in _messages(excinfo)
    if provider.alternatives:
        alternative = {name for group in provider.alternatives for name in group}
        with pytest.raises(ValidationError) as excinfo:
            provider.validate({k: v for k, v in sample.items() if k not in alternative})
        assert _messages(excinfo) == ["cloudflare: api_token, or email + api_key is required"]
    assert required or provider.alternatives


@pytest.mark.parametrize("provider", PROVIDERS.values(), ids=lambda p: p.key)
def test_unknown_field_is_refused_by_name(provider):
    sample = _first_case(provider.key)
    with pytest.raises(ValidationError) as excinfo:
        provider.validate({**sample, "bogus_field": "x"})
    [message] = _messages(excinfo)
    if provider.key == "multi":  # the lego provider's own variables are the allowlist
        assert message.startswith("multi: bogus_field is not a variable of lego provider cloudflare (allowed: ")
    else:
        assert message.startswith(f"{provider.key}: unknown credential field 'bogus_field' (expected: ")
    with pytest.raises(ValidationError) as excinfo:
        provider.validate({**sample, f"field with {MARK} in its name": "x"})
    assert MARK not in str(_messages(excinfo))


def test_cloudflare_alternatives():
    cloudflare = PROVIDERS["cloudflare"]
    with pytest.raises(ValidationError) as excinfo:
        cloudflare.validate({"api_token": "t", "email": "a@example.test", "api_key": "k"})
    assert _messages(excinfo) == ["cloudflare: give only one of api_token, or email + api_key"]
    with pytest.raises(ValidationError) as excinfo:
        cloudflare.validate({"email": "a@example.test"})
    assert _messages(excinfo) == ["cloudflare: api_key is required with email + api_key"]


def _bad_variants(provider: DnsProvider, sample: dict[str, str], name: str, secret: str):
    """Inputs that fail while ``secret`` sits in field ``name``."""
    yield {**sample, name: secret, "bogus_field": secret}  # an unknown field holding it too
    yield {**sample, name: secret + "\nnext line"}  # not one line
    yield {**sample, name: secret + "\x00"}
    yield {**sample, name: secret * 5000}  # too long
    yield {**sample, name: f"'''#\"{secret}"}  # not storable in an INI
    others = [f.name for f in provider.fields if f.required and f.name != name and f.default is None]
    if others:
        yield {k: v for k, v in {**sample, name: secret}.items() if k != others[0]}


@pytest.mark.parametrize("provider", PROVIDERS.values(), ids=lambda p: p.key)
def test_secret_values_never_appear_in_errors(provider):
    sample = _first_case(provider.key)
    secret_names = [f.name for f in provider.fields if f.secret] + [n for n in sample if provider._is_extra_key(n)]
    assert secret_names
    for name in secret_names:
        secret = f"leak-{MARK}-value"
        for given in _bad_variants(provider, sample, name, secret):
            with pytest.raises(ValidationError) as excinfo:
                provider.validate(given)
            text = " ".join(excinfo.value.messages) + str(excinfo.value) + repr(excinfo.value)
            assert MARK not in text, f"{provider.key}.{name}: {text}"


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [
        ("rfc2136", "nameserver", "ns1.example.test"),  # the plugin refuses host names
        ("rfc2136", "port", "70000"),
        ("rfc2136", "tsig_algorithm", "HMAC-SHA3"),
        ("ovh", "endpoint", "ovh-mars"),
        ("azure", "tenant_id", "not-a-guid"),
        ("azure", "zones", "example.test, not a zone"),
        ("azure", "zones", "example.test, EXAMPLE.test."),
        ("gandi", "sharing_id", "not-a-uuid"),
        ("powerdns", "api_url", "ftp://pdns.example.test"),
        ("route53", "access_key_id", "lowercase-id"),
        ("multi", "provider", "exec"),  # lego's exec provider runs a program on the host
        ("multi", "provider", "route53"),  # would fall back to the host's AWS identity
        ("multi", "CLOUDFLARE_DNS_API_TOKEN_FILE", "/etc/shadow"),  # lego reads NAME_FILE as a path
        ("multi", "LD_PRELOAD", "evil.so"),
        ("multi", "lowercase_key", "x"),
    ],
)
def test_invalid_values_are_refused(key, field, value):
    provider = PROVIDERS[key]
    with pytest.raises(ValidationError) as excinfo:
        provider.validate({**_first_case(key), field: value})
    messages = _messages(excinfo)
    assert any(m.startswith(f"{key}: ") and (field in m or value in m) for m in messages), messages


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"type": "external_account", "credential_source": {"file": "/etc/passwd"}}),
        json.dumps({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com"}),
    ],
)
def test_google_takes_only_service_account_keys(document):
    with pytest.raises(ValidationError) as excinfo:
        PROVIDERS["google"].validate({"service_account_key": document})
    assert any(m.startswith("google: service_account_key ") for m in _messages(excinfo))


def test_google_needs_a_project():
    key = json.loads(_google_key())
    del key["project_id"]
    with pytest.raises(ValidationError) as excinfo:
        PROVIDERS["google"].validate({"service_account_key": json.dumps(key)})
    assert _messages(excinfo) == ["google: project_id is required: the key names no project"]
    assert PROVIDERS["google"].validate({"service_account_key": json.dumps(key), "project_id": "certmate-zones-2"})


def test_propagation_seconds_are_bounded(tmp_path):
    cloudflare = PROVIDERS["cloudflare"]
    for bad in (-1, 3601, True, "30"):
        with pytest.raises(ValidationError):
            cloudflare.prepare({"api_token": "t"}, tmp_path, bad)
    assert not list(tmp_path.iterdir())


AWS_KEYS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
ASCII_DIGITS = str.maketrans("\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669", "0123456789")


@pytest.mark.parametrize(
    ("key", "credentials"),
    [
        ("rfc2136", {"nameserver": "8.8.8.8", "port": "\u0665\u0663", "tsig_key": "k", "tsig_secret": "c2VjcmV0"}),
        ("route53", {**AWS_KEYS, "region": "us-gov-west-\u0661"}),
        ("multi", {"provider": "pdns", "PDNS_API_KEY": "k", "PDNS_PROPAGATION_TIMEOUT": "\u0661\u0662\u0660"}),
    ],
)
def test_numbers_in_credentials_are_ascii_digits(key, credentials):
    # Python's \d and int() take any script's digits ("٥٣" is 53); the plugins' parsers (Go's for lego) do not.
    with pytest.raises(ValidationError, match=r"format|whole number"):
        PROVIDERS[key].validate(credentials)
    ascii_digits = {name: value.translate(ASCII_DIGITS) for name, value in credentials.items()}
    assert PROVIDERS[key].validate(ascii_digits)


@pytest.mark.parametrize("region", ["x@127.0.0.1:8080/", "tyo1.conoha.io#", "a b", "tyo1/..", "x" * 65])
def test_a_lego_region_is_a_name(region):
    credentials = {
        "provider": "conoha",
        "CONOHA_TENANT_ID": "t",
        "CONOHA_API_USERNAME": "u",
        "CONOHA_API_PASSWORD": "p",
    }
    with pytest.raises(ValidationError, match="CONOHA_REGION must be a region name"):
        PROVIDERS["multi"].validate({**credentials, "CONOHA_REGION": region})
    for good in ("tyo1", "c3j1"):
        assert PROVIDERS["multi"].validate({**credentials, "CONOHA_REGION": good})
    assert PROVIDERS["multi"].validate({"provider": "oraclecloud", "OCI_REGION": "us-ashburn-1"})


def test_secret_values_lists_what_to_redact():
    multi = PROVIDERS["multi"]
    cleaned = multi.validate({"provider": "namecheap", "NAMECHEAP_API_USER": "u", "NAMECHEAP_API_KEY": "k"})
    assert set(multi.secret_values(cleaned)) == {"u", "k"}
    assert PROVIDERS["ovh"].secret_values(PROVIDERS["ovh"].validate(_first_case("ovh"))) == (
        f"ovh-{MARK}",
        f"ovh-ck-{MARK}",
    )


# -- prepare: files ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_prepare_writes_private_files_inside_workdir(case, tmp_path):
    key, _, credentials, _ = case
    provider = PROVIDERS[key]
    _need_plugin(provider)
    workdir = tmp_path / "dns"
    workdir.mkdir(mode=0o700)
    old_umask = os.umask(0)  # the mode comes from os.open itself, not from a strict umask
    try:
        prepared = provider.prepare(_sample(key, credentials), workdir, None)
    finally:
        os.umask(old_umask)
    assert isinstance(prepared, CertbotDnsArgs)
    assert prepared.args[:2] == ["--authenticator", provider.plugin]
    assert prepared.files
    assert sorted(prepared.files) == sorted(workdir.iterdir())
    for path in prepared.files:
        assert path.is_absolute() and path.parent == workdir.resolve()
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600, path
    named = {arg for arg in prepared.args if arg.startswith("/")} | {
        v for v in prepared.env.values() if v.startswith("/")
    }
    assert named <= {str(p) for p in prepared.files}
    for secret in provider.secret_values(provider.validate(_sample(key, credentials))):
        assert all(secret not in arg for arg in prepared.args), "a secret on the command line shows in ps"
        assert all(secret not in value for value in prepared.env.values()), "secrets go in files, not in env"
    with pytest.raises(FileExistsError):  # never over an existing file (or a planted symlink)
        provider.prepare(_sample(key, credentials), workdir, None)
    prepared.remove_files()
    assert not list(workdir.iterdir())


@pytest.mark.parametrize("provider", PROVIDERS.values(), ids=lambda p: p.key)
def test_prepare_passes_propagation(provider, tmp_path):
    _need_plugin(provider)
    prepared = provider.prepare(_first_case(provider.key), tmp_path, 7)
    flag = f"--{provider.plugin}-propagation-seconds"
    if provider.default_propagation_seconds is None:
        assert not any(arg.endswith("-propagation-seconds") for arg in prepared.args)
    else:
        assert prepared.args[prepared.args.index(flag) + 1] == "7"


# -- the plugins read what prepare wrote ---------------------------------------------------------


def _aws_environment(monkeypatch, prepared: CertbotDnsArgs) -> None:
    """The environment the runner gives certbot: the worker's own AWS settings are not in it."""
    import boto3

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in prepared.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3 caches the credentials it found


@pytest.mark.parametrize("case", [c for c in CASES if c[0] != "multi"], ids=_case_id)
def test_plugin_reads_back_what_prepare_wrote(case, certbot_plugins, tmp_path, monkeypatch):
    key, _, credentials, expected = case
    provider = PROVIDERS[key]
    _need_plugin(provider)
    workdir = tmp_path / "dns"
    workdir.mkdir(mode=0o700)
    prepared = provider.prepare(_sample(key, credentials), workdir, 3)
    if key == "route53":
        _aws_environment(monkeypatch, prepared)
    for name in ("INFOMANIAK_API_TOKEN", "DUCKDNS_TOKEN"):  # those plugins would prefer these to the file
        monkeypatch.delenv(name, raising=False)

    config = _certbot_config(certbot_plugins, tmp_path, prepared.args)
    assert config.authenticator == provider.plugin
    authenticator = _new_plugin(certbot_plugins, provider.plugin, config)

    if key == "route53":
        import boto3

        frozen = authenticator.r53._request_signer._credentials.get_frozen_credentials()
        got = {"access_key": frozen.access_key, "secret_key": frozen.secret_key, "token": frozen.token}
        assert {name: got[name] for name in expected} == expected
        session = boto3.session.Session()
        assert session.get_credentials().get_frozen_credentials() == frozen
        assert session.get_credentials().method == "shared-credentials-file"
        assert session.region_name == credentials.get("region")
        return

    authenticator._setup_credentials()
    assert authenticator.conf("propagation-seconds") == 3
    if key == "google":
        client = authenticator.google_client
        assert client.project_id == expected["project"]
        assert client.dns._http.credentials.service_account_email == json.loads(_google_key())["client_email"]
    elif key == "azure":
        auth = authenticator._scope_auth[""]
        for name in ("sp_client_id", "sp_client_secret", "tenant_id"):
            assert auth[name] == expected[name]
        assert authenticator.domain_zoneid == {zone: expected[zone] for zone in ("example.test", "example.org")}
        assert authenticator.credential is not None  # a ClientSecretCredential, built without a network call
    else:
        read = _credentials_object(authenticator)
        assert {variable: read.conf(variable) for variable in expected} == expected
        if key == "infomaniak":
            assert authenticator.token == expected["token"]


@pytest.mark.parametrize(
    "value",
    ["a#b,c", 'it\'s "quoted"', "x = y; z", "%%percent%%", "$dollar", "[section]", "ünïcödé-€", "'''x", '"""y'],
)
def test_ini_values_survive_quoting(value, certbot_plugins, tmp_path):
    cloudflare = PROVIDERS["cloudflare"]
    _need_plugin(cloudflare)
    prepared = cloudflare.prepare({"api_token": value}, tmp_path, None)
    config = _certbot_config(certbot_plugins, tmp_path, prepared.args)
    authenticator = _new_plugin(certbot_plugins, "dns-cloudflare", config)
    authenticator._setup_credentials()
    assert authenticator.credentials.conf("api-token") == value


@pytest.mark.parametrize("value", ["'''#\"x", '"""#\'x', "%(other)s", f"%({MARK})s"])
def test_values_an_ini_cannot_hold_are_refused(value):
    with pytest.raises(ValidationError) as excinfo:
        PROVIDERS["cloudflare"].validate({"api_token": value})
    [message] = _messages(excinfo)
    assert message.startswith("cloudflare: api_token mixes quotes")
    assert MARK not in message


_MULTI_READER = """
import json, sys
from certbot._internal import cli
from certbot._internal.plugins import disco
args = json.loads(sys.argv[1])
plugins = disco.PluginsRegistry.find_all()
config = cli.prepare_and_parse_args(plugins, args)
authenticator = plugins["dns-multi"].init(config)
try:
    authenticator._setup_credentials()  # hands the variables to lego, which checks its provider's
except Exception as error:
    print(json.dumps({"error": str(error)}))
else:
    print(json.dumps({"read": dict(authenticator.credentials.confobj),
                      "propagation": authenticator.conf("propagation-seconds")}))
"""


def _multi_read(prepared: CertbotDnsArgs, tmp_path: Path) -> dict:
    args = ["certonly", "--non-interactive", "-d", "example.test", *prepared.args]
    for name in ("config", "work", "logs"):
        args += [f"--{name}-dir", str(tmp_path / name)]
    # lego sets the variables in its own process: keep that out of the test process
    done = subprocess.run(
        [sys.executable, "-c", _MULTI_READER, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8"},
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_multi_plugin_reads_back_what_prepare_wrote(tmp_path):
    multi = PROVIDERS["multi"]
    _need_plugin(multi)
    [(_, _, credentials, expected)] = [c for c in CASES if c[0] == "multi"]
    result = _multi_read(multi.prepare(credentials, tmp_path, 4), tmp_path)
    assert result == {"read": expected, "propagation": 4}


def test_multi_leaves_the_provider_check_to_lego(tmp_path):
    """certmate cannot know each lego provider's variables; lego names what is missing, at setup."""
    multi = PROVIDERS["multi"]
    _need_plugin(multi)
    result = _multi_read(multi.prepare({"provider": "cloudflare"}, tmp_path, None), tmp_path)
    assert "CLOUDFLARE_DNS_API_TOKEN" in result["error"]


# -- a provider whose plugin is missing ----------------------------------------------------------

FAKE = DnsProvider(
    key="fakedns",
    label="Fake DNS",
    package="certbot-dns-certmate-fake",
    plugin="dns-certmate-fake",
    fields=(CredentialField(name="api_token", label="API token", secret=True),),
    default_propagation_seconds=10,
)


def test_missing_plugin_names_the_package(tmp_path):
    assert FAKE.validate({"api_token": "t"}) == {"api_token": "t"}
    assert not FAKE.plugin_installed()
    expected = (
        "DNS provider fakedns needs the certbot plugin package certbot-dns-certmate-fake: "
        "pip install certbot-dns-certmate-fake"
    )
    with pytest.raises(DnsPluginMissing) as excinfo:
        FAKE.require_plugin()
    assert str(excinfo.value) == expected
    assert excinfo.value.package == "certbot-dns-certmate-fake"
    with pytest.raises(DnsPluginMissing, match="pip install certbot-dns-certmate-fake"):
        FAKE.prepare({"api_token": "t"}, tmp_path, None)
    assert not list(tmp_path.iterdir())
