"""Lists as CertMate clients read them: always an object whose ``<key>`` holds the rows and ``count`` says
how many there are; every row unless paged with limit/offset or page/page_size."""

from __future__ import annotations

from rest_framework.response import Response

from certmate.api.pagination import OptionalPagination


class KeyedPagination(OptionalPagination):
    def get_unpaginated_response(self, data) -> Response:
        return Response({"count": len(data), self.results_key: data})

    def get_paginated_response_schema(self, schema):
        return self.paged_schema(schema)  # always this object, paged or not


class CertificatePagination(KeyedPagination):
    results_key = "certificates"


class VersionPagination(KeyedPagination):
    results_key = "versions"


class JobPagination(KeyedPagination):
    results_key = "jobs"
