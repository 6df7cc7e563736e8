"""`secrets rotate` re-encrypts CA private keys (made here, imported or awaiting their certificate) with
the newest key: afterwards the old key can go and every CA still signs."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.certificates.models import CertificateAuthority, CertificateProfile
from apps.certificates.pki.authorities import ca_external_create
from apps.certificates.pki.issuing import PrivateRequest, private_certificate_issue
from apps.certificates.pki.keys import key_load
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db


def _stored(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM certificates_certificateauthority WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_rotation_re_encrypts_ca_keys_and_they_still_sign(tenant_a, hierarchy_a):
    root, alpha = hierarchy_a
    with tenant_context(tenant_a):
        pending = ca_external_create(name="edge", common_name="Edge", actor=TEST_ACTOR)
        cas = [root, alpha, pending]
        before = {ca.pk: _stored(ca.pk) for ca in cas}
        keys = {ca.pk: CertificateAuthority.objects.get(pk=ca.pk).private_key for ca in cas}
    new_key = Fernet.generate_key().decode()
    with override_settings(CERTMATE_ENCRYPTION_KEYS=[new_key, *settings.CERTMATE_ENCRYPTION_KEYS]):
        call_command("secrets", "rotate", stdout=StringIO())
    with override_settings(CERTMATE_ENCRYPTION_KEYS=[new_key]), tenant_context(tenant_a):
        for ca in cas:
            assert _stored(ca.pk) != before[ca.pk], f"{ca.name}'s key was not re-encrypted"
            reloaded = CertificateAuthority.objects.get(pk=ca.pk)
            assert reloaded.private_key == keys[ca.pk]
            key_load(reloaded.private_key)
        profile = CertificateProfile.objects.get(authority=alpha, name="client")
        issued = private_certificate_issue(PrivateRequest(profile=profile, subject={"common_name": "dave"}),
                                           actor=TEST_ACTOR)  # fmt: skip
        assert issued.status == "active"
