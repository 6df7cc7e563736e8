"""Pagination only when asked for: CertMate clients expect every row in one answer."""

from __future__ import annotations

from rest_framework.pagination import BasePagination, LimitOffsetPagination, PageNumberPagination
from rest_framework.response import Response

from certmate.api.exceptions import ApiError
from certmate.api.fields import ASCII_INTEGER

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100


class _LimitOffset(LimitOffsetPagination):
    default_limit = DEFAULT_PAGE_SIZE
    max_limit = MAX_PAGE_SIZE

    def count_of(self) -> int:
        return self.count


class _PageNumber(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def count_of(self) -> int:
        return self.page.paginator.count


class OptionalPagination(BasePagination):
    """``?limit=&offset=`` or ``?page=&page_size=`` page the list; without them it comes whole.

    Paged: ``{"count", "next", "previous", <results_key>: [...]}``.
    """

    results_key = "results"
    styles = ((_LimitOffset, ("limit", "offset")), (_PageNumber, ("page", "page_size")))

    def __init__(self):
        self.pager = None

    def paginate_queryset(self, queryset, request, view=None):
        for style, params in self.styles:
            if any(param in request.query_params for param in params):
                for param in params:
                    value = request.query_params.get(param)
                    if value is not None and not ASCII_INTEGER.fullmatch(value):
                        raise ApiError(f"{param} must be a whole number (ASCII digits)", "invalid")
                self.pager = style()
                return self.pager.paginate_queryset(queryset, request, view)
        return None

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.pager.count_of(),
                "next": self.pager.get_next_link(),
                "previous": self.pager.get_previous_link(),
                self.results_key: data,
            }
        )

    def paged_schema(self, schema):
        """The paged answer's shape (``schema``: that of the rows)."""
        link = {"type": "string", "nullable": True, "format": "uri", "description": "The adjacent page, if any"}
        return {
            "type": "object",
            "required": ["count", self.results_key],
            "properties": {
                "count": {"type": "integer", "description": "How many rows match, on all pages"},
                "next": link,
                "previous": link,
                self.results_key: {**schema, "description": "The rows (of this page, when paged)"},
            },
        }

    def get_paginated_response_schema(self, schema):
        return {"oneOf": [schema, self.paged_schema(schema)]}

    def get_schema_operation_parameters(self, view):
        described = {
            "limit": "Page size (at most 500) for limit/offset paging. Without paging parameters, every row.",
            "offset": "Rows to skip (limit/offset paging).",
            "page": "Page number (page paging).",
            "page_size": "Page size (at most 500) for page paging.",
        }
        return [
            {"name": name, "required": False, "in": "query", "description": text, "schema": {"type": "integer"}}
            for name, text in described.items()
        ]
