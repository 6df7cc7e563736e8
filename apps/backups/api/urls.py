"""CertMate's backup paths (no trailing slashes, like the other CertMate endpoints)."""

from django.urls import path

from apps.backups.api import views

urlpatterns = [
    path("backups", views.BackupListView.as_view(), name="api-backups"),
    path("backups/create", views.BackupCreateView.as_view(), name="api-backups-create"),
    path("backups/download/<str:backup_type>/<str:filename>", views.BackupDownloadView.as_view()),
    path("backups/restore/<str:backup_type>", views.BackupRestoreView.as_view(), name="api-backups-restore"),
    path("backups/delete/<str:backup_type>/<str:filename>", views.BackupDeleteView.as_view()),
]
