"""The one model field for secrets: encrypted at rest, plaintext in Python."""

from __future__ import annotations

import json

from django.core.exceptions import FieldError, ValidationError
from django.db import models

from certmate import encryption


class EncryptedTextField(models.TextField):
    """Text stored encrypted with the tenant-independent keyring of ``certmate.encryption``.

    Encryption is randomised, so the column cannot be searched: every lookup except ``isnull`` is
    refused rather than silently matching nothing.
    """

    description = "Text encrypted at rest"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encryption.encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return encryption.decrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted and cannot be filtered with {lookup_name!r}"
            )
        return super().get_lookup(lookup_name)


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (a dict of credentials, say) encrypted at rest as one secret."""

    description = "JSON encrypted at rest"

    def get_prep_value(self, value):
        if value is None:
            return None
        return encryption.encrypt(json.dumps(value, sort_keys=True))

    def from_db_value(self, value, expression, connection):
        text = super().from_db_value(value, expression, connection)
        return None if text is None else json.loads(text)

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValidationError("enter valid JSON", code="invalid_json") from None
        return value
