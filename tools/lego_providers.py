"""Write apps/certificates/acme/lego_providers.json from lego's own provider metadata.

lego describes every DNS provider in ``providers/dns/<code>/<code>.toml`` (its name, credential and
tuning variables). This reads those files from a lego source tree (a bare git repository is enough)
and sorts every variable into what a tenant may set and what it may not, with the reason:

    python tools/lego_providers.py --git-dir /work/.mirror/go-acme+lego/repo [--ref HEAD]

The runtime reads only the JSON file (committed); tests check that running this again reproduces it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "apps" / "certificates" / "acme" / "lego_providers.json"

# Providers refused whatever the variables: what they would do on a shared host.
REFUSED_PROVIDERS = {
    "exec": "runs a program on the certmate host",
    "manual": "waits for a person at a terminal",
    # These fall back to the host's own cloud identity when a key is missing.
    "route53": "may use the host's AWS identity: use the route53 provider",
    "lightsail": "may use the host's AWS identity",
    "gcloud": "may use the host's Google identity: use the google provider",
    "azure": "may use the host's Azure identity: use the azure provider",
    "azuredns": "may use the host's Azure identity: use the azure provider",
    "stackpath": "has shut down (lego 5.5 answers so)",
}

# Variables refused by name, with the reason; checked in this order, the first match wins.
FILE = "names a file on the certmate host: give the value itself"
PROFILE = "selects a profile or configuration file on the certmate host"
TLS = "turns off TLS certificate verification"
PROCESS = "changes the certbot process, not the DNS provider"
REFUSED_NAMES: list[tuple[str, str]] = [
    # Never expected in lego's metadata; refused should a future version list one.
    (
        r"(LD_|DYLD_|PYTHON|SSL_|REQUESTS_|CURL_|GO[A-Z]*$|HTTPS?_PROXY|NO_PROXY|ALL_PROXY|PATH$|HOME$|TMPDIR$|"
        r"LANG$|LC_|CERTBOT_|XDG_).*",
        PROCESS,
    ),
    (r"(?i).*_(FILE|PATH)", FILE),
    (r".*EDGERC.*", FILE),  # Akamai's .edgerc file and its sections
    (r"HYPERONE_PASSPORT_LOCATION", FILE),
    (r"INFOBLOX_CA_CERTIFICATE", FILE),  # a path to a PEM file
    (r".*_PROFILE|OS_CLOUD|.*_CONFIG_FILE|AWS_SDK_LOAD_CONFIG", PROFILE),
    (r".*(INSECURE_SKIP_VERIFY|SSL_VERIFY)", TLS),
]
# Variables that make lego use the machine's own identity (instance role, managed identity, instance
# principal): allowed only when the platform enables that (CERTMATE_DNS_PLATFORM_IDENTITY).
IDENTITY_NAMES = r".*_RAM_ROLE|OCI_AUTH_TYPE|.*_ROLE_ARN|.*MSI.*|.*METADATA.*|AZURE_AUTH_METHOD|.*IMPERSONATE.*"
# Tuning variables: a number of seconds, bounded at run time.
SECONDS = r".*_(TTL|PROPAGATION_TIMEOUT|POLLING_INTERVAL|HTTP_TIMEOUT|SEQUENCE_INTERVAL|DNS_TIMEOUT)"
# Where lego connects: checked against the platform's egress rule.
DESTINATION = r".*_(URL|ENDPOINT|HOST|HOSTNAME|SERVER|ADDRESS|API_BASE|NAMESERVER)"
_VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")


def classify(name: str) -> tuple[str, str]:
    """("refused", why) or ("identity" | "seconds" | "destination" | "secret", "")."""
    for pattern, why in REFUSED_NAMES:
        if re.fullmatch(pattern, name):
            return "refused", why
    for kind, pattern in (("identity", IDENTITY_NAMES), ("seconds", SECONDS), ("destination", DESTINATION)):
        if re.fullmatch(pattern, name):
            return kind, ""
    return "secret", ""


def provider_entry(doc: dict) -> dict:
    variables: dict[str, str] = {}
    refused: dict[str, str] = {}
    configuration = doc.get("Configuration", {})
    for section in ("Credentials", "Additional"):
        for name in configuration.get(section, {}):
            if not _VARIABLE.fullmatch(name):
                continue  # prose in the metadata ("Application Default Credentials"), not a variable
            kind, why = classify(name)
            if kind == "refused":
                refused[name] = why
            else:
                variables[name] = kind
    return {"name": doc.get("Name", doc["Code"]), "variables": variables, "refused": refused}


def _git(git_dir: str, *args: str) -> str:
    git = shutil.which("git") or "git"
    return subprocess.run([git, f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=True).stdout


def build(git_dir: str, ref: str = "HEAD") -> dict:
    commit = _git(git_dir, "rev-parse", f"{ref}^{{commit}}").strip()
    version = _git(git_dir, "describe", "--tags", "--abbrev=0", commit).strip()
    paths = [p for p in _git(git_dir, "ls-tree", "-r", "--name-only", commit, "providers/dns/").split() if p]
    providers: dict[str, dict] = {}
    for path in paths:
        parts = path.split("/")
        if len(parts) != 4 or parts[3] != f"{parts[2]}.toml":
            continue
        doc = tomllib.loads(_git(git_dir, "show", f"{commit}:{path}"))
        code = doc["Code"]
        if code in REFUSED_PROVIDERS:
            continue
        entry = provider_entry(doc)
        credentials = [n for n in doc.get("Configuration", {}).get("Credentials", {}) if n in entry["variables"]]
        if credentials and all(entry["variables"][n] == "identity" for n in credentials):
            continue  # its only credentials are the host's identity
        providers[code] = entry
    return {
        "lego": {"version": version, "commit": commit, "source": "providers/dns/<code>/<code>.toml"},
        "refused_providers": REFUSED_PROVIDERS,
        "providers": dict(sorted(providers.items())),
    }


def render(table: dict) -> str:
    return json.dumps(table, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", required=True, help="a lego git repository (bare is fine)")
    parser.add_argument("--ref", default="HEAD", help="the lego commit or tag to read (default HEAD)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    options = parser.parse_args(argv)
    table = build(options.git_dir, options.ref)
    options.output.write_text(render(table))
    print(f"{options.output}: {len(table['providers'])} lego {table['lego']['version']} providers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
