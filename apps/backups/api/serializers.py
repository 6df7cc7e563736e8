from rest_framework import serializers

from apps.backups.crypto import MAX_PASSPHRASE, MIN_PASSPHRASE
from certmate.api.fields import IntegerField

BACKUP_TYPES = ["unified", "settings", "certificates", "both"]  # CertMate's; every backup here is unified


def _passphrase_field():
    return serializers.CharField(
        required=False,
        write_only=True,
        trim_whitespace=False,
        min_length=MIN_PASSPHRASE,
        max_length=MAX_PASSPHRASE,
        help_text="certmate: encrypt with this passphrase (scrypt) instead of the platform key, so the archive "
        "restores on another installation; restoring needs it again",
    )


class BackupCreateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        BACKUP_TYPES, default="unified", help_text="CertMate's; every backup is unified (settings and certificates)"
    )
    reason = serializers.CharField(
        default="manual", allow_blank=True, max_length=200, help_text="Why: becomes part of the file name"
    )
    include_secrets = serializers.BooleanField(
        default=True,
        help_text="CertMate's; certmate archives always hold the secrets, and are always encrypted",
    )
    passphrase = _passphrase_field()


class BackupRestoreSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=100, help_text="A file name from GET /api/backups")
    create_backup_before_restore = serializers.BooleanField(
        default=True, help_text="Keep the present state as a backup first (named in the answer)"
    )
    passphrase = _passphrase_field()


class BackupMetadataSerializer(serializers.Serializer):
    filename = serializers.CharField(help_text="The backup's file name (what download, restore and delete take)")
    metadata = serializers.DictField(
        help_text="size (bytes), created, type (unified), encrypted (always), backup_id, timestamp, backup_reason; "
        "certmate: tenant, rows, key (platform or passphrase)"
    )


class BackupListSerializer(serializers.Serializer):
    unified = BackupMetadataSerializer(many=True, help_text="The tenant's backups, oldest first")


class CreatedBackupSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Always unified")
    filename = serializers.CharField(help_text="The new backup's file name")


class BackupCreatedSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="What happened, for people")
    backups = CreatedBackupSerializer(many=True, help_text="The backup made (one)")
    secrets_masked = serializers.BooleanField(help_text="Always false: the secrets are in, encrypted")
    recommendation = serializers.CharField(allow_null=True, help_text="CertMate's hint when another type was asked")


class BackupRestoredSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="What happened, for people")
    restored_from = serializers.CharField(help_text="The backup restored")
    backup_type = serializers.CharField(help_text="Always unified")
    pre_restore_backup = serializers.CharField(required=False, help_text="The backup of the state before, if made")
    note = serializers.CharField(required=False, help_text="Said when a pre-restore backup was made")
    tables = IntegerField(help_text="certmate: tables restored")
    rows = IntegerField(help_text="certmate: rows restored")


class BackupDeletedSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="What happened, for people")
    deleted_file = serializers.CharField(help_text="The backup deleted")
    backup_type = serializers.CharField(help_text="Always unified")
