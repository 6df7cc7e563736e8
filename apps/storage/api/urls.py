from django.urls import path

from apps.storage.api.views import PublicationViewSet, StorageTestView, StorageView

urlpatterns = [
    path("storage", StorageView.as_view(), name="storage"),
    path("storage/test", StorageTestView.as_view(), name="storage-test"),
    path("storage/publications", PublicationViewSet.as_view({"get": "list"}), name="storage-publications"),
]
