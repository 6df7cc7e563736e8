from rest_framework import serializers

from apps.storage.backends import BACKEND_CHOICES
from apps.storage.models import Publication, StorageConfig
from apps.storage.selectors import publication_counts
from certmate.api.fields import IntegerField


class StorageConfigSerializer(serializers.ModelSerializer):
    target = serializers.CharField(read_only=True, help_text="where material goes, for people")
    credentials_set = serializers.SerializerMethodField(
        help_text="names of the credentials stored (their values are never returned)"
    )
    publications = serializers.SerializerMethodField(help_text="this target's publications counted by state")

    class Meta:
        model = StorageConfig
        fields = [
            "id", "backend", "settings", "target", "credentials_set", "is_active", "last_test_at", "last_test_error",
            "publications", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "the configuration's id"},
            "created_at": {"help_text": "when this configuration was made"},
            "updated_at": {"help_text": "when it last changed"},
            "backend": {"help_text": "the storage backend (CertMate's names)"},
            "settings": {"help_text": "the backend's settings (no secrets)"},
            "is_active": {"help_text": "whether certificates are published here now"},
            "last_test_at": {"help_text": "when the connection was last tested"},
            "last_test_error": {"help_text": "what the last connection test said, empty when it worked"},
        }

    def get_credentials_set(self, obj) -> list[str]:
        return sorted(obj.credentials or {})

    def get_publications(self, obj) -> dict[str, int]:
        return publication_counts(target=obj)


class StorageConfigInputSerializer(serializers.Serializer):
    backend = serializers.ChoiceField(choices=BACKEND_CHOICES, help_text="the storage backend")
    settings = serializers.DictField(required=False, default=dict, help_text="the backend's settings")
    credentials = serializers.DictField(
        required=False,
        write_only=True,
        help_text="the backend's credentials (write-only); left out, the stored ones are kept for the same backend "
        "and destination (a new url, endpoint, region or TLS trust needs them again)",
    )
    test = serializers.BooleanField(
        required=False, default=True, help_text="test the connection first and refuse a target that fails"
    )


class StorageTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="the target answered")
    target = serializers.CharField(help_text="where material goes")


class PublicationSerializer(serializers.ModelSerializer):
    identifier = serializers.CharField(
        source="version.certificate.identifier", read_only=True, help_text="the certificate's identifier"
    )
    kind = serializers.CharField(source="version.certificate.kind", read_only=True, help_text="server or client")
    version = IntegerField(source="version.number", read_only=True, help_text="the version's number")
    backend = serializers.CharField(source="target.backend", read_only=True, help_text="the target's backend")

    class Meta:
        model = Publication
        fields = [
            "id", "kind", "identifier", "version", "backend", "state", "attempts", "last_error", "next_attempt_at",
            "published_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "the publication's id"},
            "state": {"help_text": "pending, published, failed (retries used up) or superseded (a newer one won)"},
            "attempts": {"help_text": "how many times publishing was tried"},
            "last_error": {"help_text": "why the last try failed, and when the next one comes"},
            "next_attempt_at": {"help_text": "when a pending publication is tried again"},
            "published_at": {"help_text": "when it arrived at the target"},
            "created_at": {"help_text": "when it was queued"},
        }
