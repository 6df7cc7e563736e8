"""``manage.py pki ca``: a tenant's CAs from the host's shell. ``create`` (a root and an intermediate),
``import`` (certificate, key and chain from PEM files), ``csr`` (an intermediate for an outside root:
prints its CSR) and ``upload`` (the signed certificate), ``list``, ``disable|enable|retire``, ``default``.
Private keys are read from files the operator names and never printed."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import CommandError

from apps.certificates.models import CertificateAuthority
from apps.certificates.pki.authorities import (
    ca_default_ensure,
    ca_default_set,
    ca_external_create,
    ca_external_upload,
    ca_import,
    ca_resolve,
    ca_state_set,
)
from apps.certificates.pki.build import CONSTRAINT_FIELDS
from apps.certificates.pki.models import CaKeyType, CaState
from apps.certificates.pki.services import ca_hierarchy_create
from certmate.errors import NotFound

MAX_FILE_BYTES = 256 * 1024
STATES = {"disable": CaState.DISABLED, "enable": CaState.ACTIVE, "retire": CaState.RETIRED}


def _read(path: str | None, what: str) -> str:
    """A PEM file the operator names (bounded: a CA's files are a few KB)."""
    if not path:
        return ""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"cannot read the {what} file {path!r}: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise CommandError(f"the {what} file {path!r} is larger than {MAX_FILE_BYTES} bytes")
    return data.decode("utf-8", "replace")


def _passphrase(options: dict) -> str | None:
    if options.get("passphrase_file"):
        return _read(options["passphrase_file"], "passphrase").rstrip("\r\n")
    variable = options.get("passphrase_env")
    if variable:
        if variable not in os.environ:
            raise CommandError(f"the environment variable {variable!r} is not set")
        return os.environ[variable]
    return None


def authority_resolve(name: str) -> CertificateAuthority:
    try:
        return ca_resolve(name)
    except NotFound as exc:
        raise CommandError(f"{exc} (see `manage.py pki ca list --tenant ...`)") from None


def _constraints(options: dict) -> dict:
    return {name: options[name] for name in CONSTRAINT_FIELDS if options.get(name)}


def _said(command, authority: CertificateAuthority, what: str) -> None:
    command.stdout.write(f"CA {authority.name!r} {what} ({authority.origin}, {authority.state}, {authority.key_type})")


def create(command, *, actor, name, common_name, organization, key_type, root_days, intermediate_days, **options):
    root, intermediate = ca_hierarchy_create(
        name=name, common_name=common_name, organization=organization, key_type=key_type, root_days=root_days,
        intermediate_days=intermediate_days, name_constraints=_constraints(options), actor=actor,
    )  # fmt: skip
    _said(command, root, "created")
    _said(command, intermediate, "created: it issues, with profiles server, client, server-and-client")


def import_(command, *, actor, name, certificate, key, chain, **options):
    authority = ca_import(
        name=name, certificate_pem=_read(certificate, "certificate"), private_key_pem=_read(key, "key"),
        chain_pem=_read(chain, "chain"), passphrase=_passphrase(options), actor=actor,
    )  # fmt: skip
    _said(command, authority, f"imported: {authority.subject}, valid until {authority.not_after:%Y-%m-%d}")


def csr(command, *, actor, name, common_name, organization, key_type, out, **options):
    if common_name:
        authority = ca_external_create(
            name=name, common_name=common_name, organization=organization, key_type=key_type,
            name_constraints=_constraints(options), actor=actor,
        )  # fmt: skip
    else:  # the CSR of a pending CA again
        authority = authority_resolve(name)
        if not authority.csr_pem:
            raise CommandError(f"CA {authority.name!r} has no CSR: give --common-name to make a new CA")
    if out:
        try:
            Path(out).write_text(authority.csr_pem)
        except OSError as exc:
            raise CommandError(f"cannot write {out!r}: {exc.strerror}") from None
        command.stderr.write(f"CSR of CA {authority.name!r} written to {out}")
    else:
        command.stdout.write(authority.csr_pem, ending="")
    if authority.state == CaState.PENDING:
        command.stderr.write(f"have it signed (CA:TRUE), then: manage.py pki ca upload {authority.name} CERT.pem")


def upload(command, *, actor, name, certificate, chain, **options):
    authority = ca_external_upload(authority=authority_resolve(name), certificate_pem=_read(certificate, "certificate"),
                                   chain_pem=_read(chain, "chain"), actor=actor)  # fmt: skip
    _said(command, authority, f"is active: {authority.subject}, valid until {authority.not_after:%Y-%m-%d}")


def list_(command, **options):
    rows = [("NAME", "ORIGIN", "STATE", "KEY", "NOT AFTER", "DEFAULT")]
    for authority in CertificateAuthority.objects.order_by("name"):
        not_after = f"{authority.not_after:%Y-%m-%d}" if authority.not_after else "-"
        rows.append((authority.name, authority.origin, authority.state, authority.key_type, not_after,
                     "*" if authority.is_default else ""))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        command.stdout.write("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


def state(command, *, actor, name, verb, **options):
    authority = ca_state_set(authority=authority_resolve(name), state=STATES[verb], actor=actor)
    _said(command, authority, "is now")


def default(command, *, actor, name, ensure, **options):
    if name:
        authority = ca_default_set(authority=authority_resolve(name), actor=actor)
    elif ensure:
        authority = ca_default_ensure(actor=actor)
    else:
        authority = CertificateAuthority.objects.filter(is_default=True).first()
        if authority is None:
            command.stdout.write("no default CA (--ensure makes one: a hierarchy named 'default')")
            return
    _said(command, authority, "is the default")


def _parser(subparsers, name: str, handler, help_text: str, **defaults):
    parser = subparsers.add_parser(name, help=help_text)
    parser.add_argument("--tenant", required=True, help="the tenant's slug")
    parser.set_defaults(handler=handler, **defaults)
    return parser


def _subject_options(parser, *, required: bool) -> None:
    parser.add_argument("--common-name", required=required)
    parser.add_argument("--organization", default="")
    parser.add_argument("--key-type", default=CaKeyType.EC384, choices=CaKeyType.values)
    for field in CONSTRAINT_FIELDS:
        parser.add_argument(f"--{field.replace('_', '-')}", dest=field, action="append", default=[],
                            help=f"name constraint ({field.replace('_', ' ')}); repeat for more")  # fmt: skip


def register(subparsers) -> None:
    cas = subparsers.add_parser("ca", help="the tenant's certificate authorities")
    sub = cas.add_subparsers(dest="ca_command", required=True)
    parser = _parser(sub, "create", create, "a root and an intermediate under it (the intermediate issues)")
    parser.add_argument("name")
    _subject_options(parser, required=True)
    parser.add_argument("--root-days", type=int, default=3650)
    parser.add_argument("--intermediate-days", type=int, default=1825)
    parser = _parser(sub, "import", import_, "an existing CA: its certificate, key and chain (PEM files)")
    parser.add_argument("name")
    parser.add_argument("--certificate", required=True, help="the CA's certificate (PEM file)")
    parser.add_argument("--key", required=True, help="its private key (PEM file, encrypted or not)")
    parser.add_argument("--chain", help="its issuers, nearest first (PEM file)")
    parser.add_argument("--passphrase-file", help="a file holding the key's passphrase")
    parser.add_argument("--passphrase-env", help="the environment variable holding the key's passphrase")
    parser = _parser(sub, "csr", csr, "an intermediate for an outside root: key here, prints its CSR")
    parser.add_argument("name")
    _subject_options(parser, required=False)
    parser.add_argument("--out", help="write the CSR to this file instead of printing it")
    parser = _parser(sub, "upload", upload, "the signed certificate of a CA made with `csr`")
    parser.add_argument("name")
    parser.add_argument("certificate", help="the signed certificate (PEM file)")
    parser.add_argument("--chain", help="the signing root's chain, nearest first (PEM file)")
    _parser(sub, "list", list_, "name, origin, state, key type, expiry, default")
    for verb in STATES:
        _parser(sub, verb, state, f"{verb} a CA", verb=verb).add_argument("name")
    parser = _parser(sub, "default", default, "show, set (NAME) or make (--ensure) the default CA")
    parser.add_argument("name", nargs="?")
    parser.add_argument("--ensure", action="store_true", help="make a default hierarchy when there is none")
