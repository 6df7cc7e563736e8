"""CertMate's backup endpoints on the tenant's host (admins only), over certmate's tenant export:

- ``GET /api/backups``: ``{"unified": [{"filename", "metadata": {...}}]}``
- ``POST /api/backups/create``: ``{"type", "reason", "include_secrets"}`` (+ certmate's ``passphrase``) → 201
- ``GET /api/backups/download/unified/<filename>``: the archive itself
- ``POST /api/backups/restore/unified``: ``{"filename", "create_backup_before_restore"}`` (+ ``passphrase``)
- ``DELETE /api/backups/delete/unified/<filename>``

A tenant's backups live in its own folder and every file name is checked against one exact pattern, so
no tenant reaches another's archives.
"""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.backups.api import serializers as s
from apps.backups.crypto import BackupError, Tampered, WrongKey
from apps.backups.selectors import SUFFIX, backup_list
from apps.backups.services.kept import backup_create, backup_delete, backup_downloaded, backup_restore
from certmate.actors import request_actor
from certmate.api.exceptions import ApiError
from certmate.api.views import TenantAPIView

UNIFIED = "unified"


def _unified_only(backup_type: str, what: str) -> None:
    if backup_type != UNIFIED:
        raise ApiError(f"Only unified backup {what} is supported", "invalid")


def _refused(exc: BackupError) -> ApiError:
    code = "wrong_key" if isinstance(exc, WrongKey) else "archive_damaged" if isinstance(exc, Tampered) else "invalid"
    return ApiError(str(exc), code)


class BackupAPIView(TenantAPIView):
    pagination_class = None

    def required_role(self, request) -> Role:
        return Role.ADMIN


def _listed(kept) -> dict:
    return {
        "filename": kept.filename,
        "metadata": {
            **kept.metadata,
            "size": kept.size,
            "created": kept.created.isoformat(),
            "type": UNIFIED,
            "encrypted": True,
            "backup_id": kept.filename.removesuffix(SUFFIX),
            "timestamp": kept.metadata.get("created_at"),
            "backup_reason": kept.filename.removesuffix(SUFFIX).split("_", 4)[-1],
        },
    }


@extend_schema(tags=["backups"])
class BackupListView(BackupAPIView):
    @extend_schema(operation_id="backups_list", responses=s.BackupListSerializer, description="The tenant's backups.")
    def get(self, request):
        return Response({"unified": [_listed(kept) for kept in backup_list()]})


@extend_schema(tags=["backups"])
class BackupCreateView(BackupAPIView):
    @extend_schema(
        operation_id="backups_create",
        request=s.BackupCreateSerializer,
        responses={201: s.BackupCreatedSerializer},
        description="Export the tenant into a new kept backup (every row, secrets included, encrypted).",
    )
    def post(self, request):
        data = self.validated(s.BackupCreateSerializer)
        try:
            filename = backup_create(
                reason=data["reason"], passphrase=data.get("passphrase"), actor=request_actor(request)
            )
        except BackupError as exc:
            raise _refused(exc) from None
        answer = {
            "message": "Backup created successfully",
            "backups": [{"type": UNIFIED, "filename": filename}],
            "secrets_masked": False,
            "recommendation": None if data["type"] == UNIFIED else "Use unified backup",
        }
        return Response(answer, status=201)


@extend_schema(tags=["backups"])
class BackupDownloadView(BackupAPIView):
    @extend_schema(
        operation_id="backups_download",
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
        description="The backup file (recorded in the audit log as backup.downloaded).",
    )
    def get(self, request, backup_type: str, filename: str):
        _unified_only(backup_type, "download")
        try:
            path = backup_downloaded(filename=filename, actor=request_actor(request))
        except BackupError as exc:
            raise _refused(exc) from None
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=filename, content_type="application/octet-stream"
        )


@extend_schema(tags=["backups"])
class BackupRestoreView(BackupAPIView):
    @extend_schema(
        operation_id="backups_restore",
        request=s.BackupRestoreSerializer,
        responses=s.BackupRestoredSerializer,
        description="Replace every row of the tenant with the backup's, in one transaction (its certificates are "
        "then published again to its storage target).",
    )
    def post(self, request, backup_type: str):
        _unified_only(backup_type, "restoration")
        data = self.validated(s.BackupRestoreSerializer)
        filename = data["filename"]
        try:
            report, before = backup_restore(
                filename=filename,
                passphrase=data.get("passphrase"),
                backup_first=data["create_backup_before_restore"],
                actor=request_actor(request),
            )
        except BackupError as exc:
            raise _refused(exc) from None
        answer = {
            "message": f"Settings and certificates restored atomically successfully from {filename}",
            "restored_from": filename,
            "backup_type": UNIFIED,
            "tables": report.tables,
            "rows": report.rows,
        }
        if before:
            answer["pre_restore_backup"] = before
            answer["note"] = "A backup of the previous state was created before restore"
        return Response(answer)


@extend_schema(tags=["backups"])
class BackupDeleteView(BackupAPIView):
    @extend_schema(operation_id="backups_delete", responses=s.BackupDeletedSerializer, description="Delete a backup.")
    def delete(self, request, backup_type: str, filename: str):
        _unified_only(backup_type, "deletion")
        try:
            backup_delete(filename=filename, actor=request_actor(request))
        except BackupError as exc:
            raise _refused(exc) from None
        return Response(
            {"message": f"Backup {filename} deleted successfully", "deleted_file": filename, "backup_type": backup_type}
        )
