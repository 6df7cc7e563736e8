"""Batch routes: include before apps.certificates.api.urls, whose api/certificates/<domain> would
otherwise take "batch" and "batches" for certificate names."""

from django.urls import path

from apps.certificates.api import batches

urlpatterns = [
    path("api/certificates/batch", batches.BatchSubmitView.as_view(), name="certificate-batch-create"),
    path("api/certificates/batches", batches.BatchListView.as_view(), name="certificate-batch-list"),
    path("api/certificates/batches/<int:batch_id>", batches.BatchDetailView.as_view(), name="certificate-batch-detail"),
]
