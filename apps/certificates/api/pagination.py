"""Lists as CertMate clients read them: always an object whose ``<key>`` holds the rows and ``count`` says
how many there are; every row unless paged with limit/offset or page/page_size."""

from __future__ import annotations

from rest_framework.response import Response

from certmate.api.pagination import OptionalPagination


class KeyedPagination(OptionalPagination):
    def get_unpaginated_response(self, data) -> Response:
        return Response({"count": len(data), self.results_key: data})

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri", "description": "only when paged"}
        return {
            "type": "object",
            "required": ["count", self.results_key],
            "properties": {
                "count": {"type": "integer", "description": "how many rows match (all pages)"},
                "next": link,
                "previous": link,
                self.results_key: {**schema, "description": f"the {self.results_key}, one page of them when paged"},
            },
        }


class CertificatePagination(KeyedPagination):
    results_key = "certificates"


class VersionPagination(KeyedPagination):
    results_key = "versions"


class JobPagination(KeyedPagination):
    results_key = "jobs"
