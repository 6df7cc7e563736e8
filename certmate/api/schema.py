"""OpenAPI additions: every operation documents the one error shape (certmate.api.exceptions)."""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer: a readable message and a stable code; `fields` for invalid input.",
    "properties": {
        "error": {"type": "string", "description": "What went wrong, for people"},
        "code": {"type": "string", "description": "A stable code, for programs (e.g. not_found, in_use)"},
        "fields": {
            "type": "object",
            "description": "Problems per input field",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["error", "code"],
}
ERROR_RESPONSE = {
    "description": "An error (400 invalid input, 401, 403, 404, 409 conflict, 429 throttled, …)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path in result.get("paths", {}).values():
        for operation in path.values():
            operation.setdefault("responses", {}).setdefault("default", ERROR_RESPONSE)
    return result
