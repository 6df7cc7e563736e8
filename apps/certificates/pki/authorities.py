"""A tenant's CAs after (or instead of) a hierarchy made here: importing one, an intermediate signed by
an outside root (key and CSR here, the signed certificate uploaded), states (active, disabled, retired),
the default CA. Every write is one transaction with its audit event; no key material ever leaves."""

from __future__ import annotations

import re
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from apps.certificates.pki.build import NameConstraints, subject_name
from apps.certificates.pki.keys import PrivateKey, key_generate, key_load, key_pem, signing_hash
from apps.certificates.pki.material import (
    ca_check,
    certificate_fields,
    certificate_parse,
    chain_parse,
    constraints_of,
    key_matches,
    key_type_of,
    private_key_parse,
)
from apps.certificates.pki.models import CaKeyType, CaOrigin, CaState, CertificateAuthority
from apps.certificates.pki.profile_services import profiles_default_create
from apps.certificates.pki.services import (
    NAME,
    ROOT_SUFFIX,
    ca_audit,
    ca_hierarchy_create,
    ca_key_type_clean,
    ca_name_clean,
    ca_names_free,
    ca_snapshot,
    ca_store,
    ca_table_lock,
    name_constraints_clean,
    subject_text_clean,
)
from certmate.actors import Actor
from certmate.audit.services import audit_changes, audit_record
from certmate.errors import NotFound

DEFAULT_NAME = "default"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _not_known(certificate: x509.Certificate) -> None:
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    existing = CertificateAuthority.objects.filter(fingerprint_sha256=fingerprint).first()
    if existing is not None:
        raise ValidationError(f"this certificate is already CA {existing.name!r}", code="exists")


def ca_import(
    *, name: str, certificate_pem: str, private_key_pem: str, actor: Actor, passphrase=None, chain_pem: str = ""
) -> CertificateAuthority:
    """Bring in an existing CA: its certificate (a CA's), its key (decrypted with ``passphrase`` if it
    is encrypted; stored encrypted with certmate's keys), and optionally its issuers (nearest first).
    It issues at once, with the default profiles."""
    name = ca_name_clean(name)
    certificate = certificate_parse(certificate_pem)
    ca_check(certificate)
    key = private_key_parse(private_key_pem, passphrase)
    key_type = key_type_of(key)
    key_matches(certificate, key)
    chain = chain_parse(chain_pem, certificate)
    with transaction.atomic():
        ca_table_lock()
        ca_names_free(name)
        _not_known(certificate)
        authority = ca_store(name=name, origin=CaOrigin.IMPORTED, key_type=key_type, key=key, certificate=certificate,
                             constraints=constraints_of(certificate), chain_pem=chain, actor=actor,
                             action="certificate_authority.imported")  # fmt: skip
        profiles_default_create(authority=authority, actor=actor)
    return authority


def _csr_build(subject: x509.Name, key: PrivateKey, constraints: NameConstraints) -> str:
    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "encipher_only",
         "decipher_only"),
        False,
    )  # fmt: skip
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage), critical=True)
    )
    if constraints:
        builder = builder.add_extension(constraints.extension(), critical=True)
    return builder.sign(key, signing_hash(key)).public_bytes(serialization.Encoding.PEM).decode()


def ca_external_create(
    *,
    name: str,
    common_name: str,
    actor: Actor,
    organization: str = "",
    key_type: str = CaKeyType.EC384,
    name_constraints: dict[str, Iterable[str]] | None = None,
) -> CertificateAuthority:
    """An intermediate to be signed by the tenant's own root: the key is made here and never leaves;
    the CSR (``.csr_pem``) asks for CA:TRUE, path length 0 and the name constraints given — only a
    request: the outside root decides, and what the uploaded certificate carries is what is recorded."""
    name = ca_name_clean(name)
    key_type = ca_key_type_clean(key_type)
    subject = subject_name(subject_text_clean(common_name, "common_name", required=True),
                           subject_text_clean(organization, "organization", required=False))  # fmt: skip
    constraints = name_constraints_clean(**(name_constraints or {}))
    ca_names_free(name)
    key = key_generate(key_type)  # before the transaction: an RSA 4096 key takes a while
    csr_pem = _csr_build(subject, key, constraints)
    with transaction.atomic():
        ca_table_lock()
        ca_names_free(name)
        authority = CertificateAuthority.objects.create(
            name=name, origin=CaOrigin.EXTERNAL, state=CaState.PENDING, key_type=key_type, private_key=key_pem(key),
            csr_pem=csr_pem, subject=subject.rfc4514_string(), name_constraints=constraints.as_dict(),
        )  # fmt: skip
        ca_audit(authority, action="certificate_authority.csr_created", before={}, actor=actor)
    return authority


def ca_external_upload(*, authority: CertificateAuthority, certificate_pem: str, actor: Actor,
                       chain_pem: str = "") -> CertificateAuthority:  # fmt: skip
    """The certificate the outside root signed for a pending CA (it must hold the CA's key), and the
    root's chain (nearest first). The CA becomes active, with the default profiles. Uploading the same
    certificate again changes nothing."""
    certificate = certificate_parse(certificate_pem)
    ca_check(certificate)
    chain = chain_parse(chain_pem, certificate)
    fields = certificate_fields(certificate)
    with transaction.atomic():
        authority = CertificateAuthority.objects.select_for_update().get(pk=authority.pk)
        if authority.state != CaState.PENDING:
            if authority.fingerprint_sha256 == fields["fingerprint_sha256"]:
                return authority
            raise ValidationError(
                f"CA {authority.name!r} is {authority.state}: a signed certificate is uploaded once, to a pending CA",
                code="not_pending",
            )
        key_matches(certificate, key_load(authority.private_key))
        _not_known(certificate)
        before = ca_snapshot(authority)
        for field, value in fields.items():
            setattr(authority, field, value)
        constraints = constraints_of(certificate)
        authority.name_constraints = constraints.as_dict() if constraints else {}
        authority.chain_pem = chain
        authority.state = CaState.ACTIVE
        authority.save()
        ca_audit(authority, action="certificate_authority.uploaded", before=before, actor=actor)
        profiles_default_create(authority=authority, actor=actor)
    return authority


def ca_state_set(*, authority: CertificateAuthority, state: str, actor: Actor) -> CertificateAuthority:
    """Disable (issues nothing for now), enable again, or retire (issues nothing ever again; what it
    issued stays valid). A retired CA stays retired; a pending one is enabled by its upload."""
    if state not in (CaState.ACTIVE, CaState.DISABLED, CaState.RETIRED):
        raise ValidationError({"state": "use active, disabled or retired"}, code="invalid")
    with transaction.atomic():
        authority = CertificateAuthority.objects.select_for_update().get(pk=authority.pk)
        if authority.state == state:
            return authority
        if authority.state == CaState.RETIRED:
            raise ValidationError(f"CA {authority.name!r} is retired: that is final", code="retired")
        if authority.state == CaState.PENDING and state != CaState.RETIRED:
            raise ValidationError(f"CA {authority.name!r} is pending: upload its signed certificate first",
                                  code="pending")  # fmt: skip
        before = {"state": authority.state, "is_default": authority.is_default}
        authority.state = state
        if state == CaState.RETIRED:
            authority.is_default = False  # the client-certificate endpoints then get a new default
        authority.save(update_fields=["state", "is_default"])
        after = {"state": authority.state, "is_default": authority.is_default}
        audit_record(actor=actor, action="certificate_authority.state_changed", target=authority,
                     changes=audit_changes(before, after))  # fmt: skip
    return authority


def ca_default_set(*, authority: CertificateAuthority, actor: Actor) -> CertificateAuthority:
    """Make ``authority`` the tenant's default CA (the one the client-certificate endpoints issue from)."""
    with transaction.atomic():
        ca_table_lock()
        authority = CertificateAuthority.objects.get(pk=authority.pk)
        if authority.is_default:
            return authority
        if not authority.can_issue:
            raise ValidationError(f"CA {authority.name!r} cannot issue ({authority.state}, {authority.origin}): "
                                  "only an active issuing CA can be the default", code="ca_unavailable")  # fmt: skip
        previous = CertificateAuthority.objects.filter(is_default=True).first()
        if previous is not None:
            CertificateAuthority.objects.filter(pk=previous.pk).update(is_default=False)
        authority.is_default = True
        authority.save(update_fields=["is_default"])
        audit_record(actor=actor, action="certificate_authority.default_set", target=authority,
                     changes={"default": [previous.name if previous else None, authority.name]})  # fmt: skip
    return authority


def _default_common_name() -> str:
    tenant = getattr(connection, "tenant", None)
    label = _CONTROL.sub("", getattr(tenant, "name", "") or connection.schema_name).strip()
    return f"{label[:53].strip() or 'certmate'} Private CA"


def ca_default_ensure(*, actor: Actor) -> CertificateAuthority:
    """The default CA; made on first use (a hierarchy "default" with its default profiles) when the
    tenant has none. Two concurrent first uses make one."""
    default = CertificateAuthority.objects.filter(is_default=True).first()
    if default is not None:
        return default
    with transaction.atomic():
        ca_table_lock()
        default = CertificateAuthority.objects.filter(is_default=True).first()
        if default is not None:
            return default
        taken = set(CertificateAuthority.objects.filter(name__startswith=DEFAULT_NAME).values_list("name", flat=True))
        name = next(
            candidate for candidate in (DEFAULT_NAME, *(f"{DEFAULT_NAME}-{n}" for n in range(2, len(taken) + 3)))
            if candidate not in taken and candidate + ROOT_SUFFIX not in taken
        )  # fmt: skip
        _, intermediate = ca_hierarchy_create(name=name, common_name=_default_common_name(), actor=actor)
        return ca_default_set(authority=intermediate, actor=actor)


def ca_resolve(value) -> CertificateAuthority:
    """The CA named ``value`` (or with that id), in the current tenant; else NotFound."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    # Only what a CA name can be is looked up (a NUL byte or 10 KB of text never reaches the database).
    if NAME.fullmatch(text):
        found = CertificateAuthority.objects.filter(name=text).first()
        if found is None and re.fullmatch(r"[0-9]{1,18}", text):
            found = CertificateAuthority.objects.filter(pk=int(text)).first()
        if found is not None:
            return found
    raise NotFound(f"no CA {text[:100]!r} in this tenant")
