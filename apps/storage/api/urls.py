from django.urls import path

from apps.storage.api.deploy import CertificateDeployView
from apps.storage.api.views import PublicationViewSet, StorageTestView, StorageView

urlpatterns = [
    # CertMate's deploy of one certificate: its current version published again (under /api/)
    path("certificates/<str:domain>/deploy", CertificateDeployView.as_view(), name="certificate-deploy"),
    path("storage", StorageView.as_view(), name="storage"),
    path("storage/test", StorageTestView.as_view(), name="storage-test"),
    path("storage/publications", PublicationViewSet.as_view({"get": "list"}), name="storage-publications"),
]
