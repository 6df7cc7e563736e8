"""Running certbot: one fresh, private directory per run, an argument list, a timeout, and nothing
left behind. Knows nothing of Django models: it takes plain values and returns plain values."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import certifi

from apps.certificates import untrusted
from apps.certificates.acme import answers, confine, launch
from apps.certificates.acme.orderhooks import CERT_ID, REPLACES_VARIABLE
from apps.certificates.issued import Issued
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from certmate.egress import EgressProxy

KEY_TYPE_ARGS = {
    "rsa2048": ["--key-type", "rsa", "--rsa-key-size", "2048"],
    "rsa3072": ["--key-type", "rsa", "--rsa-key-size", "3072"],
    "rsa4096": ["--key-type", "rsa", "--rsa-key-size", "4096"],
    "ec256": ["--key-type", "ecdsa", "--elliptic-curve", "secp256r1"],
    "ec384": ["--key-type", "ecdsa", "--elliptic-curve", "secp384r1"],
}
CERT_NAME = "certmate"
# An ACME profile name as certmate keeps it (the CA's directory lists it in meta.profiles).
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class CertbotError(Exception):
    """certbot did not produce what was asked; ``reason`` is one readable line, ``output`` the log."""

    def __init__(self, reason: str, output: str = "", *, timed_out: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.output = output
        self.timed_out = timed_out

    @property
    def bad_nonce(self) -> bool:
        """The CA refused a replay nonce: a protocol hiccup that a new attempt gets past."""
        return bool(re.search(r"badNonce|anti-replay nonce", self.output + self.reason))


@dataclass(frozen=True)
class AcmeAccount:
    directory_url: str
    email: str
    eab_kid: str = ""
    eab_hmac_key: str = ""
    trust_bundle: str = ""
    # certbot's account files, keyed by their path under the config folder; empty before registration
    files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Order:
    account: AcmeAccount
    domains: list[str]
    key_type: str
    # (folder) -> (extra certbot args, extra environment): writes the DNS credentials into the folder
    dns_setup: Callable[[Path], tuple[list[str], dict[str, str]]]
    secrets: tuple[str, ...] = ()  # values to redact from the output
    timeout_seconds: int = 1800
    dns_check: str = ""  # the active propagation check's plan (JSON, see propagation.py); "": the plugin's wait
    # HTTP-01 (http01.py): (folder) -> a context, open for the length of the run, giving certbot's extra
    # args and environment; the challenges it published are withdrawn when it closes, whatever happened.
    http01: Callable[[Path], AbstractContextManager[tuple[list[str], dict[str, str]]]] | None = None
    # The ACME profile to order under ("": the CA's default). Sent with --required-profile: certmate checked
    # the name against the CA's directory when it was chosen, so a CA that no longer offers it fails the
    # order with its own reason instead of quietly issuing under another profile (--preferred-profile).
    profile: str = ""
    # ARI: the CertID of the certificate this order replaces ("": none), sent as newOrder's "replaces".
    replaces: str = ""


def register(account: AcmeAccount, *, timeout_seconds: int = 300) -> dict[str, str]:
    """Create the ACME account at the CA; returns certbot's account files to keep."""
    with _Workspace() as work:
        argv = [*_base_args(account, work), "register"]
        if account.eab_kid and account.eab_hmac_key:
            # In a 0600 config file, not on the command line, where any local user could read it. Only
            # base64url tokens go in: a line break would add certbot options of the tenant's choosing.
            config = work / "eab.ini"
            lines = [_config_line("eab-kid", account.eab_kid), _config_line("eab-hmac-key", account.eab_hmac_key)]
            _write_private(config, "".join(lines))
            argv += ["--config", str(config)]
        _run(argv, work, account, env={}, timeout=timeout_seconds, secrets=(account.eab_hmac_key,))
        return _read_tree(work / "config" / "accounts", prefix="accounts")


def obtain(order: Order) -> Issued:
    """Run one certbot order with the account's files written in. Raises CertbotError on failure."""
    account = order.account
    with _Workspace() as work, contextlib.ExitStack() as serving:
        _write_tree(work / "config", account.files)
        dns_args, dns_env = order.dns_setup(work / "dns")
        if order.dns_check:
            dns_env = confine.with_dns_check(dns_env, order.dns_check, tcp_ports={53, _dns_query_port()})
        http_args, http_env = serving.enter_context(order.http01(work / "http01")) if order.http01 else ([], {})
        argv = [*_base_args(account, work), "certonly", "--cert-name", CERT_NAME, *KEY_TYPE_ARGS[order.key_type]]
        for domain in order.domains:
            argv += ["-d", domain]
        argv += dns_args
        argv += http_args
        argv += _profile_args(order.profile)
        env = {**dns_env, **http_env, **_replaces_env(order.replaces)}
        secrets = (*order.secrets, account.eab_hmac_key)
        output = _run(argv, work, account, env=env, timeout=order.timeout_seconds, secrets=secrets)
        live = work / "config" / "live" / CERT_NAME
        try:
            files = {name: (live / f"{name}.pem").read_text() for name in ("cert", "chain", "fullchain", "privkey")}
        except FileNotFoundError:
            raise CertbotError("certbot reported success but wrote no certificate", output) from None
        return Issued(files["cert"], files["chain"], files["fullchain"], files["privkey"], output)


def revoke(account: AcmeAccount, cert_pem: str, *, reason: str, timeout_seconds: int = 300) -> str:
    """Ask the CA to revoke ``cert_pem``, signed with the account that ordered it. Returns the output."""
    if reason not in REVOCATION_REASONS:
        raise CertbotError(f"revocation reason {reason!r} is unknown: use one of {', '.join(REVOCATION_REASONS)}")
    with _Workspace() as work:
        _write_tree(work / "config", account.files)
        cert = work / "cert.pem"
        cert.write_text(cert_pem)
        argv = [*_base_args(account, work), "revoke", "--cert-path", str(cert), "--reason", reason]
        argv.append("--no-delete-after-revoke")  # there is no certbot lineage here to delete
        return _run(argv, work, account, env={}, timeout=timeout_seconds, secrets=(account.eab_hmac_key,))


class _Workspace:
    """A private temporary folder (0700) removed afterwards, whatever happens."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="certmate-certbot-"))
        for sub in ("config", "work", "logs", "dns"):
            (self.path / sub).mkdir(mode=0o700)
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# What may stand in certbot's config file or its option values: base64url tokens, a plain e-mail address.
_CONFIG_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,512}={0,2}")
_EMAIL = re.compile(r"[A-Za-z0-9_+=%][A-Za-z0-9._+=%-]*@[A-Za-z0-9.-]+")


def _config_line(name: str, value: str) -> str:
    if not _CONFIG_TOKEN.fullmatch(value):
        raise CertbotError(f"{name} is not a base64url token: refused before it reaches certbot")
    return f"{name} = {value}\n"


def _profile_args(profile: str) -> list[str]:
    if not profile:
        return []
    if not PROFILE_NAME.fullmatch(profile):
        raise CertbotError("the ACME profile is not a profile name: refused before it reaches certbot")
    return [f"--required-profile={profile}"]


def _replaces_env(replaces: str) -> dict[str, str]:
    """The certbot child's orderhooks.py reads it and adds "replaces" to the newOrder."""
    if not replaces:
        return {}
    if not CERT_ID.fullmatch(replaces):
        raise CertbotError("the replaced certificate's CertID is malformed: refused before it reaches certbot")
    return {REPLACES_VARIABLE: replaces}


def _base_args(account: AcmeAccount, work: Path) -> list[str]:
    if not _EMAIL.fullmatch(account.email) or len(account.email) > 254:
        raise CertbotError("the account's e-mail address is not one certbot takes: refused before running it")
    # "--option=value": a value starting with "-" stays a value.
    return [
        "--non-interactive", "--agree-tos", "--no-eff-email",
        f"--email={account.email}",
        f"--server={account.directory_url}",
        "--config-dir", str(work / "config"),
        "--work-dir", str(work / "work"),
        "--logs-dir", str(work / "logs"),
    ]  # fmt: skip


def _run(args: list[str], work: Path, account: AcmeAccount, *, env: dict, timeout: int, secrets) -> str:
    # A clean environment: the worker's own secrets (database, encryption keys) never reach certbot.
    run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "TMPDIR": str(work)}
    run_env["LANG"] = "C.UTF-8"
    if account.trust_bundle:
        # The private CA's roots on top of the usual ones: DNS provider APIs must still verify.
        bundle = work / "trust.pem"
        bundle.write_text(Path(certifi.where()).read_text() + "\n" + account.trust_bundle)
        run_env["REQUESTS_CA_BUNDLE"] = str(bundle)
    run_env.update(env)
    start = launch.fork if _launch_mode() == "fork" else launch.spawn
    user = launch.run_as(_certbot_user())
    launch.hand_over(work, user)
    # Every HTTP(S) connection of certbot and its plugins (ACME directory, DNS APIs) goes through a proxy
    # applying the platform's egress rule; what it refused is the reason the tenant sees.
    with EgressProxy() as proxy:
        run_env.update(proxy.environment())
        # Clients that skip the proxy for loopback (Go's, in lego) may open TCP to nothing but the proxy and
        # DNS: 53, the ports a DNS plugin named (rfc2136, lego's nameservers) and the proxy's (confine.py).
        named = confine.ports_of(run_env.get(confine.PORTS_VARIABLE, ""))
        run_env[confine.PORTS_VARIABLE] = confine.ports_value({proxy.port, 53, *named})
        try:
            code, output = start(args, env=run_env, cwd=work, timeout=timeout, user=user)
        except launch.Deadline as exc:
            output = _without_log_file(untrusted.clean_output(exc.output, secrets=secrets))
            reason = f"certbot did not finish within {timeout} s and was stopped"
            raise CertbotError(reason, output, timed_out=True) from None
    # Untrusted text: a plugin may quote what it read anywhere on the host.
    output = _without_log_file(untrusted.clean_output(output, secrets=secrets))
    if code != 0:
        reason = proxy.refusals[0] if proxy.refusals else failure_reason(output)
        answer = answers.last_answer(work / "logs")  # the CA's problem type, which certbot does not print
        raise CertbotError(untrusted.one_line(reason, secrets=secrets), f"{output}\n{answer}" if answer else output)
    return output


def _certbot_user() -> str:
    from django.conf import settings

    return getattr(settings, "CERTMATE_CERTBOT_USER", "")


def _dns_query_port() -> int:
    from django.conf import settings

    return settings.CERTMATE_DNS_QUERY_PORT


def _launch_mode() -> str:
    from django.conf import settings

    mode = getattr(settings, "CERTMATE_CERTBOT_LAUNCH", "fork")
    return mode if hasattr(os, "fork") else "spawn"


# certbot names its log file, which went with the run's folder: the kept output says so instead.
LOG_NOT_KEPT = "(certbot's log file is not kept: its output is above)"
_SAVING_LOG = re.compile(r"^Saving debug log to .*\n?", re.MULTILINE)
_SEE_LOG = re.compile(r"See the logfile( \S+ or re-run Certbot with -v)? for (more )?details\.")


def _without_log_file(output: str) -> str:
    return _SEE_LOG.sub(LOG_NOT_KEPT, _SAVING_LOG.sub("", output))


def failure_reason(output: str) -> str:
    """The CA's or the DNS's own words, in one line, from certbot's output."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    details = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Detail:")]
    if details:
        domains = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Domain:")]
        prefix = f"{domains[0]}: " if len(domains) == 1 else ""
        return prefix + details[0]
    for marker in ("An unexpected error occurred:", "Error while running", "Encountered error"):
        for index, line in enumerate(lines):
            if line.startswith(marker):
                rest = line[len(marker) :].strip(" :")
                return rest or (lines[index + 1] if index + 1 < len(lines) else marker)
    skip = ("Saving debug log", "Ask for help", "See the logfile", LOG_NOT_KEPT)
    meaningful = [line for line in lines if not line.startswith(skip)]
    return meaningful[-1] if meaningful else "certbot failed without saying why"


def _read_tree(root: Path, *, prefix: str) -> dict[str, str]:
    return {
        f"{prefix}/{path.relative_to(root)}": path.read_text() for path in sorted(root.rglob("*")) if path.is_file()
    }


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, content in files.items():
        target = (root / relative).resolve()
        if root.resolve() not in target.parents:
            raise CertbotError(f"account file path {relative!r} leaves the config folder")
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
