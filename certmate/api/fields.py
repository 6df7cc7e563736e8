"""Input fields shared by the API's serializers."""

from __future__ import annotations

import re

from rest_framework import serializers

ASCII_INTEGER = re.compile(r"-?[0-9]+")


class IntegerField(serializers.IntegerField):
    """DRF's IntegerField, taking only ASCII digits from text: int() also reads Arabic-Indic or
    full-width digits (U+0661 U+0660 is 10), so a value could pass checks made on its text."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not ASCII_INTEGER.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)
