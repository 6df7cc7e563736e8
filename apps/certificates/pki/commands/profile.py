"""``manage.py pki profile list|show|create|update|delete``: a CA's profiles. Fields are given as
``--set field=value`` (lists comma-separated, name patterns as ``type:pattern``), or as a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError

from apps.certificates.models import CertificateProfile
from apps.certificates.pki.commands.ca import authority_resolve
from apps.certificates.pki.profile_services import FIELDS, profile_create, profile_delete, profile_update

_LISTS = {"key_usage", "extended_key_usage", "san_types", "key_types", "subject_copy", "subject_require"}
_FLAGS = {"allow_server_key", "allow_csr", "allow_csr_resign"}
_NUMBERS = {"default_days", "max_days"}
MAX_JSON_BYTES = 64 * 1024


def register(subparsers) -> None:
    area = subparsers.add_parser("profile", help="a CA's profiles: what it may issue")
    actions = area.add_subparsers(dest="action", required=True)
    for action, handler, text in (
        ("list", _list, "list a CA's profiles"),
        ("show", _show, "show one profile"),
        ("create", _create, "add a profile to a CA"),
        ("update", _update, "change a profile"),
        ("delete", _delete, "delete a profile no certificate uses"),
    ):
        parser = actions.add_parser(action, help=text)
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--ca", required=True, help="the CA's name")
        if action != "list":
            parser.add_argument("name", help="the profile's name")
        if action in ("create", "update"):
            parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                                help=f"a field ({', '.join(FIELDS)}); lists comma-separated")  # fmt: skip
            parser.add_argument("--from-json", type=Path, help="the fields as a JSON object, from a file")
        parser.set_defaults(handler=handler)


def _profile(ca: str, name: str) -> CertificateProfile:
    profile = CertificateProfile.objects.filter(authority=authority_resolve(ca), name=name).first()
    if profile is None:
        raise CommandError(f"CA {ca!r} has no profile named {name!r}: see `pki profile list --ca {ca}`")
    return profile


def _value(field: str, text: str):
    if field in _FLAGS:
        if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise CommandError(f"{field}: use true or false")
        return text.lower() in ("true", "yes", "1")
    if field in _NUMBERS:
        try:
            return int(text)
        except ValueError:
            raise CommandError(f"{field}: a whole number of days") from None
    if field in _LISTS:
        return [item.strip() for item in text.split(",") if item.strip()]
    if field == "name_patterns":
        patterns: dict[str, list[str]] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            san_type, sep, pattern = item.partition(":")
            if not sep:
                raise CommandError(f"name_patterns: write each as type:pattern (dns:*.internal.example), not {item!r}")
            patterns.setdefault(san_type, []).append(pattern)
        return patterns
    return text


def _fields(options) -> dict:
    fields = {}
    if options.get("from_json"):
        path = options["from_json"]
        if path.stat().st_size > MAX_JSON_BYTES:
            raise CommandError(f"{path} is larger than {MAX_JSON_BYTES} bytes")
        try:
            fields = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path} is not a JSON object: {exc}") from None
        if not isinstance(fields, dict):
            raise CommandError(f"{path} is not a JSON object")
    for item in options.get("set") or []:
        field, sep, text = item.partition("=")
        if not sep or field not in FIELDS:
            raise CommandError(f"--set {item[:60]!r}: write FIELD=VALUE with FIELD one of {', '.join(FIELDS)}")
        fields[field] = _value(field, text)
    return fields


def _describe(profile: CertificateProfile) -> str:
    lines = [f"{profile.authority.name}/{profile.name}"]
    lines += [f"  {field}: {getattr(profile, field)}" for field in FIELDS]
    return "\n".join(lines)


def _list(command, *, ca, **_):
    for profile in authority_resolve(ca).profiles.order_by("name"):
        usage = ",".join(profile.extended_key_usage) or "-"
        command.stdout.write(f"{profile.name}\t{profile.kind}\t{usage}\t{profile.default_days}/{profile.max_days} days")


def _show(command, *, ca, name, **_):
    command.stdout.write(_describe(_profile(ca, name)))


def _create(command, *, ca, name, actor, **options):
    profile = profile_create(authority=authority_resolve(ca), name=name, actor=actor, **_fields(options))
    command.stdout.write(_describe(profile))


def _update(command, *, ca, name, actor, **options):
    profile = profile_update(profile=_profile(ca, name), actor=actor, **_fields(options))
    command.stdout.write(_describe(profile))


def _delete(command, *, ca, name, actor, **_):
    profile_delete(profile=_profile(ca, name), actor=actor)
    command.stdout.write(f"profile {ca}/{name} deleted")
