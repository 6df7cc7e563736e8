"""The DNS providers certmate can validate DNS-01 challenges with, one certbot plugin each.

Every entry records what its plugin's source reads: the authenticator name (the entry point under
``certbot.plugins``), the credential keys, the options and the default propagation wait. certbot
reads a plugin's credentials INI through ``dns_common.CredentialsConfiguration`` with the plugin's
``dest()`` as mapper, so plugin ``dns-cloudflare`` finds variable ``api-token`` under the key
``dns_cloudflare_api_token`` (dashes turned into underscores, in the plugin name and the variable).

No Django models here: ``validate`` cleans what a tenant stores, ``prepare`` turns it into files
(mode 0600, inside the run's folder), certbot arguments and environment for one certbot run.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from pathlib import Path

import configobj
from django.core.exceptions import ValidationError

from apps.certificates.acme import lego
from apps.certificates.acme.confine import PORTS_VARIABLE
from apps.certificates.acme.limits import MAX_PROPAGATION_SECONDS
from certmate.egress import EgressRefused, check_address, check_url

PLUGIN_GROUP = "certbot.plugins"
MAX_VALUE_LENGTH = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_HOSTNAME = r"(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}\.?"
_URL = r"https?://[^\s\"'#]+"
_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


class CredentialStyle(StrEnum):
    """How a plugin takes its credentials."""

    INI = "ini"  # dns_common credentials INI, passed with --<plugin>-<credentials_option>
    GOOGLE = "google"  # a service-account JSON file, passed with --dns-google-credentials
    AWS = "aws"  # boto3's shared credentials and config files, named in the environment


@dataclass(frozen=True)
class CredentialField:
    name: str  # the key certmate stores, e.g. "api_token"
    label: str
    secret: bool
    required: bool = True
    pattern: str | None = None  # regex a value must fullmatch, if any
    help: str = ""
    plugin_key: str | None = None  # the variable the plugin reads, if not `name` (e.g. "token")
    default: str | None = None  # stored and written when the tenant gives none
    multiline: bool = False  # only for values that never go into an INI line
    max_length: int = MAX_VALUE_LENGTH


@dataclass(frozen=True)
class CertbotDnsArgs:
    """What one certbot run needs for DNS-01: arguments, extra environment, the files written.

    ``env`` goes over the minimal environment the runner gives certbot (never over the worker's own).
    """

    args: list[str]
    env: dict[str, str]
    files: list[Path]

    def remove_files(self) -> None:
        for path in self.files:
            path.unlink(missing_ok=True)


class DnsPluginMissing(RuntimeError):
    """The provider's certbot plugin is not installed in this environment."""

    def __init__(self, provider: str, package: str):
        super().__init__(f"DNS provider {provider} needs the certbot plugin package {package}: pip install {package}")
        self.provider = provider
        self.package = package


# (cleaned credentials) -> (field, problem) pairs for rules a regex cannot say
Check = Callable[[Mapping[str, str]], Iterable[tuple[str, str]]]
# (cleaned credentials) -> (plugin variable, value) pairs, for plugins whose INI is not one key per field
IniEntries = Callable[[Mapping[str, str]], list[tuple[str, str]]]


@dataclass(frozen=True)
class DnsProvider:
    key: str  # "cloudflare"
    label: str  # "Cloudflare"
    package: str  # PyPI package, e.g. "certbot-dns-cloudflare"
    plugin: str  # certbot authenticator name, e.g. "dns-cloudflare"
    fields: tuple[CredentialField, ...]
    # the plugin's own default; None: the plugin has no propagation option (it waits by itself)
    default_propagation_seconds: int | None
    # groups of optional fields of which exactly one must be complete: (("api_token",), ("email", "api_key"))
    alternatives: tuple[tuple[str, ...], ...] = ()
    style: CredentialStyle = CredentialStyle.INI
    credentials_option: str = "credentials"  # --<plugin>-<this> names the credentials file
    extra_keys: str | None = None  # regex for free-form keys written as they are (lego variables)
    check: Check | None = None
    ini_entries: IniEntries | None = None
    help: str = ""

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.key}: duplicate credential field")
        for group in self.alternatives:
            for name in group:
                if name not in names or self._field(name).required:
                    raise ValueError(f"{self.key}: alternative {name} must be an optional field")
        for f in self.fields:
            if f.pattern:
                re.compile(f.pattern)

    # -- validation -------------------------------------------------------------------------------

    def validate(self, credentials: Mapping[str, str]) -> dict[str, str]:
        """A cleaned copy (values stripped, defaults filled in), or ValidationError naming each problem.

        Messages name the provider and the field, never a value.
        """
        if not isinstance(credentials, Mapping):
            raise ValidationError(f"{self.key}: credentials must be a mapping of field names to text", code="invalid")
        problems: list[ValidationError] = []
        cleaned: dict[str, str] = {}
        bad: set[str] = set()  # fields already reported, so that "is required" does not follow

        def problem(field: str, text: str, code: str = "invalid") -> None:
            bad.add(field)
            problems.append(ValidationError(f"{self.key}: {field} {text}", code=code))

        for name, raw in credentials.items():
            spec = self._field(name) if isinstance(name, str) else None
            if spec is None and self._is_extra_key(name):
                spec = CredentialField(name=name, label=name, secret=True, required=False)
            if spec is None:
                shown = f"'{name}'" if isinstance(name, str) and _SAFE_NAME.fullmatch(name) else "with an invalid name"
                problems.append(
                    ValidationError(
                        f"{self.key}: unknown credential field {shown} (expected: {self._expected()})", code="unknown"
                    )
                )
                continue
            if raw is None:
                continue  # a form's empty optional field
            if not isinstance(raw, str):
                problem(name, "must be text")
                continue
            value = raw.strip()
            if not value:
                continue  # absent; a required field is reported below
            if len(value) > spec.max_length:
                problem(name, f"is too long (at most {spec.max_length} characters)")
            elif (_CONTROL_MULTILINE if spec.multiline else _CONTROL).search(value):
                problem(name, "must be a single line without control characters")
            elif spec.pattern and not re.fullmatch(spec.pattern, value, re.ASCII):  # \d: 0-9, not "٥٣"
                problem(name, "has an invalid format" + (f" ({spec.help})" if spec.help else ""))
            elif self.style is CredentialStyle.INI and not _ini_round_trips(value):
                problem(name, "mixes quotes with '#' or holds a %(…)s reference, which a credentials file cannot store")
            else:
                cleaned[name] = value

        for f in self.fields:
            if f.name not in cleaned and f.default is not None:
                cleaned[f.name] = f.default
            if f.required and f.name not in cleaned and f.name not in bad:
                problem(f.name, "is required", code="required")

        if self.alternatives:
            self._check_alternatives(set(cleaned) | bad, problems)
        if not problems and self.check:
            for field, text in self.check(cleaned):
                problem(field, text)
        if not problems:
            for field, text in refused_destinations(self.key, cleaned):
                problem(field, text)
        if problems:
            raise ValidationError(problems)
        return cleaned

    def secret_values(self, credentials: Mapping[str, str]) -> tuple[str, ...]:
        """The secret values among cleaned credentials: what a log of the run must not show."""
        return tuple(
            value
            for name, value in credentials.items()
            if (spec := self._field(name)) is None or spec.secret  # free-form (lego) values are secret
        )

    # -- the plugin -------------------------------------------------------------------------------

    def plugin_installed(self) -> bool:
        return bool(metadata.entry_points(group=PLUGIN_GROUP, name=self.plugin))

    def require_plugin(self) -> None:
        if not self.plugin_installed():
            raise DnsPluginMissing(self.key, self.package)

    def prepare(
        self, credentials: Mapping[str, str], workdir: Path, propagation_seconds: int | None = None
    ) -> CertbotDnsArgs:
        """Write the credentials into ``workdir`` (each file new, mode 0600) for one certbot run."""
        cleaned = self.validate(credentials)
        seconds = self._propagation(propagation_seconds)
        self.require_plugin()
        workdir = Path(workdir).resolve()
        if not workdir.is_dir():
            raise FileNotFoundError(f"DNS credentials folder {workdir} does not exist")
        args = ["--authenticator", self.plugin]
        env: dict[str, str] = {}
        files: list[Path] = []
        if self.style is CredentialStyle.INI:
            path = workdir / f"{self.plugin}.ini"
            _write_private(path, self._ini_text(cleaned))
            files.append(path)
            args += [f"--{self.plugin}-{self.credentials_option}", str(path)]
        elif self.style is CredentialStyle.GOOGLE:
            path = workdir / "google-service-account.json"
            _write_private(path, json.dumps(json.loads(cleaned["service_account_key"]), indent=2) + "\n")
            files.append(path)
            args += [f"--{self.plugin}-credentials", str(path)]
            if "project_id" in cleaned:
                args += [f"--{self.plugin}-project", cleaned["project_id"]]
        else:  # AWS: boto3 reads the files named by these variables; no secret goes into the environment
            shared, config = workdir / "aws-credentials", workdir / "aws-config"
            lines = ["[default]", f"aws_access_key_id = {cleaned['access_key_id']}"]
            lines.append(f"aws_secret_access_key = {cleaned['secret_access_key']}")
            if "session_token" in cleaned:
                lines.append(f"aws_session_token = {cleaned['session_token']}")
            _write_private(shared, "\n".join(lines) + "\n")
            region = f"region = {cleaned['region']}\n" if "region" in cleaned else ""
            _write_private(config, "[default]\n" + region)
            files += [shared, config]
            env = {
                "AWS_SHARED_CREDENTIALS_FILE": str(shared),
                "AWS_CONFIG_FILE": str(config),
                # the files or nothing: never the host's instance role
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        if seconds is not None:
            args += [f"--{self.plugin}-propagation-seconds", str(seconds)]
        ports = self._dns_ports(cleaned)
        if ports:  # nameserver ports certbot may reach besides the egress proxy's (see confine.py)
            env[PORTS_VARIABLE] = ",".join(ports)
        return CertbotDnsArgs(args=args, env=env, files=files)

    def _dns_ports(self, cleaned: Mapping[str, str]) -> list[str]:
        """TCP ports of the nameservers a plugin speaks DNS to itself: rfc2136's, lego's *_NAMESERVER."""
        if self.key == "rfc2136":
            return [cleaned.get("port", "53")]
        return [
            match.group(1)
            for name, value in cleaned.items()
            if name.endswith("_NAMESERVER") and (match := re.search(r":(\d{1,5})$", value))
        ]

    # -- helpers ----------------------------------------------------------------------------------

    def _field(self, name: str) -> CredentialField | None:
        return next((f for f in self.fields if f.name == name), None)

    def _is_extra_key(self, name: object) -> bool:
        return bool(self.extra_keys and isinstance(name, str) and re.fullmatch(self.extra_keys, name))

    def _expected(self) -> str:
        names = ", ".join(f.name for f in self.fields)
        return names + (", or the lego provider's variables" if self.extra_keys else "")

    def _alternatives_text(self) -> str:
        return ", or ".join(" + ".join(group) for group in self.alternatives)

    def _check_alternatives(self, given: set[str], problems: list[ValidationError]) -> None:
        touched = [group for group in self.alternatives if any(name in given for name in group)]
        if not touched:
            problems.append(ValidationError(f"{self.key}: {self._alternatives_text()} is required", code="required"))
        elif len(touched) > 1:
            problems.append(
                ValidationError(f"{self.key}: give only one of {self._alternatives_text()}", code="conflict")
            )
        else:
            for name in touched[0]:
                if name not in given:
                    problems.append(
                        ValidationError(
                            f"{self.key}: {name} is required with {' + '.join(touched[0])}", code="required"
                        )
                    )

    def _propagation(self, seconds: int | None) -> int | None:
        if self.default_propagation_seconds is None:
            return None  # the plugin waits for the change itself and has no such option
        if seconds is None:
            return self.default_propagation_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_PROPAGATION_SECONDS:
            raise ValidationError(
                f"{self.key}: propagation_seconds must be a whole number from 0 to {MAX_PROPAGATION_SECONDS}",
                code="invalid",
            )
        return seconds

    def _ini_text(self, cleaned: Mapping[str, str]) -> str:
        prefix = self.plugin.replace("-", "_") + "_"
        if self.ini_entries:
            entries = self.ini_entries(cleaned)
        else:
            entries = [(f.plugin_key or f.name, cleaned[f.name]) for f in self.fields if f.name in cleaned]
        ini = configobj.ConfigObj()  # certbot reads the file with configobj: let it do the quoting
        for variable, value in entries:
            ini[prefix + variable.replace("-", "_")] = value
        for name, value in cleaned.items():
            if self._field(name) is None:
                ini[name] = value  # free-form keys (lego's variables) go in as they are
        return "\n".join(ini.write()) + "\n"


def _ini_round_trips(value: str) -> bool:
    """True if configobj writes ``value`` so that it reads back the same (quotes, '#', ',', '%(x)s')."""
    try:
        out = configobj.ConfigObj()
        out["k"] = value
        return configobj.ConfigObj(out.write()).get("k") == value
    except (configobj.ConfigObjError, ValueError, TypeError, RecursionError):
        return False


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` (it must not exist, nor be a symlink) with mode 0600 from the start."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode("utf-8"))


# -- provider-specific rules --------------------------------------------------------------------


def _check_rfc2136(c: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    try:
        ipaddress.ip_address(c["nameserver"])
    except ValueError:
        yield "nameserver", "must be an IPv4 or IPv6 address (the plugin refuses host names)"
    if "port" in c and not 1 <= int(c["port"]) <= 65535:
        yield "port", "must be from 1 to 65535"


def _check_google(c: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    try:
        key = json.loads(c["service_account_key"])
    except ValueError:
        yield "service_account_key", "must be the service account's JSON key"
        return
    # Other credential types (external_account, ...) can read host files or URLs: only keys are taken.
    if not isinstance(key, dict) or key.get("type") != "service_account":
        yield "service_account_key", 'must be a JSON key with "type": "service_account"'
        return
    missing = [
        name
        for name in ("client_email", "private_key", "token_uri")
        if not isinstance(key.get(name), str) or not key[name]
    ]
    if missing:
        yield "service_account_key", "lacks " + ", ".join(missing)
    if "project_id" not in c and not key.get("project_id"):
        yield "project_id", "is required: the key names no project"


# -- where plugins connect: the platform's egress rule ---------------------------------------------
# Checked whenever credentials are validated: when saved, and again before each run (prepare()), so a
# change of CERTMATE_EGRESS_ALLOW applies to stored accounts too. HTTP clients in the certbot child also
# go through the run's egress proxy; rfc2136 speaks DNS directly, so its nameserver is checked here only.


def _url_refusal(value: str, schemes: tuple[str, ...]) -> str | None:
    try:
        check_url(value, schemes=schemes, query=False)
    except EgressRefused as exc:
        return str(exc)
    return None


def _google_token_uri(c: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    try:
        key = json.loads(c["service_account_key"])
    except (KeyError, ValueError):
        return
    uri = key.get("token_uri") if isinstance(key, dict) else None
    refusal = _url_refusal(uri, ("https",)) if isinstance(uri, str) else None
    if refusal:
        yield "service_account_key", f"token_uri is refused: {refusal}"


def _rfc2136_nameserver(c: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    if "nameserver" in c:
        try:
            check_address(c["nameserver"])
        except EgressRefused as exc:
            yield "nameserver", f"is refused: {exc}"


def _url_field(name: str, schemes: tuple[str, ...]) -> Check:
    def check(c: Mapping[str, str]) -> Iterable[tuple[str, str]]:
        refusal = _url_refusal(c[name], schemes) if name in c else None
        if refusal:
            yield name, f"is refused: {refusal}"

    return check


_DESTINATIONS: dict[str, Check] = {
    "powerdns": _url_field("api_url", ("https", "http")),
    "desec": _url_field("endpoint", ("https",)),
    "rfc2136": _rfc2136_nameserver,
    "google": _google_token_uri,
}


def refused_destinations(provider: str, cleaned: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """(field, why) for each place these credentials would make the plugin connect that the rule refuses."""
    check = _DESTINATIONS.get(provider)
    return check(cleaned) if check else ()


def _azure_zones(value: str) -> list[str]:
    return [zone.rstrip(".").lower() for zone in re.split(r"[\s,]+", value) if zone]


def _check_azure(c: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    zones = _azure_zones(c["zones"])
    if not zones or not all(re.fullmatch(_HOSTNAME, zone) for zone in zones):
        yield "zones", "must be DNS zone names separated by commas"
    elif len(set(zones)) != len(zones):
        yield "zones", "names a zone twice"


def _azure_entries(c: Mapping[str, str]) -> list[tuple[str, str]]:
    # dns_azure_zoneN = <zone>:<resource group id>; the plugin takes the subscription from that id
    group = f"/subscriptions/{c['subscription_id']}/resourceGroups/{c['resource_group']}"
    entries = [
        ("sp_client_id", c["client_id"]),
        ("sp_client_secret", c["client_secret"]),
        ("tenant_id", c["tenant_id"]),
    ]
    entries += [(f"zone{i}", f"{zone}:{group}") for i, zone in enumerate(_azure_zones(c["zones"]), start=1)]
    if "environment" in c:
        entries.append(("environment", c["environment"]))
    return entries


def _check_multi(c: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    from django.conf import settings

    variables = {name: value for name, value in c.items() if name != "provider"}
    allow_identity = getattr(settings, "CERTMATE_DNS_PLATFORM_IDENTITY", False)
    yield from lego.check(c["provider"], variables, allow_identity=allow_identity)


# -- the registry -------------------------------------------------------------------------------


def _secret(name: str, label: str, plugin_key: str | None = None, **kw) -> CredentialField:
    return CredentialField(name=name, label=label, secret=True, plugin_key=plugin_key, **kw)


def _plain(name: str, label: str, plugin_key: str | None = None, **kw) -> CredentialField:
    return CredentialField(name=name, label=label, secret=False, plugin_key=plugin_key, **kw)


_PROVIDERS = (
    DnsProvider(
        key="cloudflare",
        label="Cloudflare",
        package="certbot-dns-cloudflare",
        plugin="dns-cloudflare",
        fields=(
            _secret("api_token", "API token", required=False, help="a token with Zone:DNS:Edit"),
            _plain("email", "Account email (with the Global API key)", required=False, pattern=_EMAIL),
            _secret("api_key", "Global API key", required=False),
        ),
        alternatives=(("api_token",), ("email", "api_key")),
        default_propagation_seconds=10,
    ),
    DnsProvider(
        key="route53",
        label="Amazon Route 53",
        package="certbot-dns-route53",
        plugin="dns-route53",
        style=CredentialStyle.AWS,
        fields=(
            # Half an AWS credential: write-only like the secret (never shown back, redacted from output).
            _secret("access_key_id", "Access key ID", pattern=r"[A-Z0-9]{16,128}"),
            _secret("secret_access_key", "Secret access key", pattern=r"[A-Za-z0-9/+=]{16,128}"),
            _secret("session_token", "Session token", required=False, pattern=r"[A-Za-z0-9/+=]+"),
            _plain("region", "Region (for GovCloud or China)", required=False, pattern=r"[a-z]{2}(-[a-z]+)+-\d{1,2}"),
        ),
        default_propagation_seconds=None,  # it polls Route 53 until the change is INSYNC
    ),
    DnsProvider(
        key="google",
        label="Google Cloud DNS",
        package="certbot-dns-google",
        plugin="dns-google",
        style=CredentialStyle.GOOGLE,
        fields=(
            _secret("service_account_key", "Service account JSON key", multiline=True, max_length=65536),
            _plain("project_id", "Project ID", required=False, pattern=r"[a-z][a-z0-9-]{4,28}[a-z0-9]"),
        ),
        check=_check_google,
        default_propagation_seconds=60,
    ),
    DnsProvider(
        key="digitalocean",
        label="DigitalOcean",
        package="certbot-dns-digitalocean",
        plugin="dns-digitalocean",
        fields=(_secret("api_token", "API token", "token"),),
        default_propagation_seconds=10,
    ),
    DnsProvider(
        key="linode",
        label="Linode (Akamai)",
        package="certbot-dns-linode",
        plugin="dns-linode",
        fields=(_secret("api_key", "API v4 personal access token", "key"),),
        default_propagation_seconds=120,
    ),
    DnsProvider(
        key="ovh",
        label="OVHcloud",
        package="certbot-dns-ovh",
        plugin="dns-ovh",
        fields=(
            _plain(
                "endpoint",
                "API endpoint",
                default="ovh-eu",
                pattern=r"ovh-(eu|ca|us)|kimsufi-(eu|ca)|soyoustart-(eu|ca)",
                help="ovh-eu, ovh-ca, ovh-us, kimsufi-eu, kimsufi-ca, soyoustart-eu or soyoustart-ca",
            ),
            _plain("application_key", "Application key", "application-key"),
            _secret("application_secret", "Application secret", "application-secret"),
            _secret("consumer_key", "Consumer key", "consumer-key"),
        ),
        default_propagation_seconds=120,
    ),
    DnsProvider(
        key="rfc2136",
        label="RFC 2136 dynamic updates (BIND, Knot, ...)",
        package="certbot-dns-rfc2136",
        plugin="dns-rfc2136",
        fields=(
            _plain("nameserver", "Primary server IP address", "server"),
            _plain("port", "Port", required=False, pattern=r"\d{1,5}", help="default 53"),
            _plain("tsig_key", "TSIG key name", "name"),
            _secret("tsig_secret", "TSIG secret (base64)", "secret", pattern=r"[A-Za-z0-9+/=]+"),
            _plain(
                "tsig_algorithm",
                "TSIG algorithm",
                "algorithm",
                required=False,
                pattern=r"(?i)hmac-(md5|sha1|sha224|sha256|sha384|sha512)",
                help="HMAC-SHA256 and the like; the plugin assumes HMAC-MD5 when none is given",
            ),
            _plain("sign_query", "Sign the SOA query too", required=False, pattern=r"(?i)true|false"),
        ),
        check=_check_rfc2136,
        default_propagation_seconds=60,
    ),
    DnsProvider(
        key="gandi",
        label="Gandi LiveDNS",
        package="certbot-dns-gandi",
        plugin="dns-gandi",
        fields=(
            _secret("api_token", "Personal access token", "token"),
            _plain("sharing_id", "Organization (sharing) ID", "sharing-id", required=False, pattern=_UUID),
        ),
        default_propagation_seconds=10,
    ),
    DnsProvider(
        key="hetzner",
        label="Hetzner (Cloud API)",
        package="certbot-dns-hetzner-cloud",
        plugin="dns-hetzner-cloud",
        fields=(_secret("api_token", "Hetzner Cloud API token (read & write)"),),
        default_propagation_seconds=30,
        help="Hetzner DNS zones live in the Cloud Console now; a token of the old DNS Console does not work.",
    ),
    DnsProvider(
        key="porkbun",
        label="Porkbun",
        package="certbot-dns-porkbun",
        plugin="dns-porkbun",
        fields=(_secret("api_key", "API key", "key"), _secret("secret_key", "Secret API key", "secret")),
        default_propagation_seconds=600,
    ),
    DnsProvider(
        key="godaddy",
        label="GoDaddy",
        package="certbot-dns-godaddy-v3",
        plugin="dns-godaddy-v3",
        fields=(_secret("api_token", "Personal access token (domains v3 API)", "token"),),
        default_propagation_seconds=30,
        help="GoDaddy's v3 API takes a personal access token; the old key + secret pair is not accepted.",
    ),
    DnsProvider(
        key="vultr",
        label="Vultr",
        package="certbot-dns-vultr",
        plugin="dns-vultr",
        fields=(_secret("api_key", "API key", "key"),),
        default_propagation_seconds=10,
    ),
    DnsProvider(
        key="dnsmadeeasy",
        label="DNS Made Easy",
        package="certbot-dns-dnsmadeeasy",
        plugin="dns-dnsmadeeasy",
        fields=(_plain("api_key", "API key", "api-key"), _secret("secret_key", "Secret key", "secret-key")),
        default_propagation_seconds=60,
    ),
    DnsProvider(
        key="nsone",
        label="NS1 (IBM)",
        package="certbot-dns-nsone",
        plugin="dns-nsone",
        fields=(_secret("api_key", "API key", "api-key"),),
        default_propagation_seconds=30,
    ),
    DnsProvider(
        key="desec",
        label="deSEC",
        package="certbot-dns-desec",
        plugin="dns-desec",
        fields=(
            _secret("api_token", "API token", "token"),
            _plain("endpoint", "API endpoint", required=False, pattern=_URL, help="default https://desec.io/api/v1"),
        ),
        default_propagation_seconds=80,
    ),
    DnsProvider(
        key="powerdns",
        label="PowerDNS (HTTP API)",
        package="certbot-dns-pdns",
        plugin="dns-pdns",
        fields=(
            _plain("api_url", "API URL", "endpoint", pattern=_URL, help="e.g. https://pdns.example.com:8081"),
            _secret("api_key", "API key", "api-key"),
            _plain("server_id", "Server ID", "server-id", default="localhost"),
            _plain(
                "disable_notify", "Do not NOTIFY secondaries", "disable-notify", default="false", pattern=r"true|false"
            ),
        ),
        default_propagation_seconds=30,
    ),
    DnsProvider(
        key="azure",
        label="Azure DNS",
        package="certbot-dns-azure-modern",
        plugin="dns-azure",
        credentials_option="config",
        fields=(
            _plain("subscription_id", "Subscription ID", pattern=_UUID),
            _plain("resource_group", "Resource group of the DNS zones", pattern=r"[-\w.()]{1,90}"),
            _plain("tenant_id", "Tenant (directory) ID", pattern=_UUID),
            _plain("client_id", "Service principal client ID", pattern=_UUID),
            _secret("client_secret", "Service principal client secret"),
            _plain("zones", "DNS zones", help="zone names in that resource group, separated by commas"),
            _plain(
                "environment",
                "Cloud",
                required=False,
                pattern=r"(?i)AzurePublicCloud|AzureUSGovernmentCloud|AzureChinaCloud",
                help="AzurePublicCloud, AzureUSGovernmentCloud or AzureChinaCloud",
            ),
        ),
        check=_check_azure,
        ini_entries=_azure_entries,
        default_propagation_seconds=10,
    ),
    DnsProvider(
        key="duckdns",
        label="Duck DNS",
        package="certbot-dns-duckdns",
        plugin="dns-duckdns",
        fields=(_secret("api_token", "Account token", "token"),),
        default_propagation_seconds=30,
    ),
    DnsProvider(
        key="infomaniak",
        label="Infomaniak",
        package="certbot-dns-infomaniak",
        plugin="dns-infomaniak",
        fields=(_secret("api_token", "API token (domain scope)", "token"),),
        default_propagation_seconds=120,
    ),
    DnsProvider(
        key="multi",
        label="Other (100+ providers through lego)",
        package="certbot-dns-multi",
        plugin="dns-multi",
        fields=(
            _plain(
                "provider",
                "lego provider name",
                pattern=r"[a-z0-9][a-z0-9._-]{0,63}",
                help="as listed at go-acme.github.io/lego/dns, e.g. namecheap",
            ),
        ),
        extra_keys=r"[A-Za-z][A-Za-z0-9_]{0,127}",  # the allowlist per lego provider is in _check_multi
        check=_check_multi,
        default_propagation_seconds=60,
        help="Add the provider's lego variables as fields, e.g. NAMECHEAP_API_USER and NAMECHEAP_API_KEY.",
    ),
)

PROVIDERS: dict[str, DnsProvider] = {p.key: p for p in _PROVIDERS}


def get_provider(key: str) -> DnsProvider:
    try:
        return PROVIDERS[key]
    except (KeyError, TypeError):
        shown = repr(key) if isinstance(key, str) and _SAFE_NAME.fullmatch(key) else "(invalid name)"
        raise ValidationError(
            f"unknown DNS provider {shown}: choose one of {', '.join(PROVIDERS)}", code="unknown"
        ) from None


def provider_choices() -> list[tuple[str, str]]:
    """(key, label) pairs for a model field's ``choices``."""
    return [(p.key, p.label) for p in PROVIDERS.values()]
