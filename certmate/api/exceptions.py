"""Every API error has one shape: {"error": "<readable>", "code": "<stable>"} (+ "fields" for input errors).

Services raise Django's ValidationError with a code; this module is the one place that turns domain
errors into HTTP answers.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from certmate.errors import NotFound

logger = logging.getLogger(__name__)

# The one table of error codes that mean something other than "bad input" (400), for the services'
# ValidationError codes and the views' ApiError codes alike.
STATUS_BY_CODE = {
    "not_found": status.HTTP_404_NOT_FOUND,
    # Refused because of the object's state: the same request may succeed later.
    "in_use": status.HTTP_409_CONFLICT,
    "name_taken": status.HTTP_409_CONFLICT,
    "conflict": status.HTTP_409_CONFLICT,
    "idempotency_conflict": status.HTTP_409_CONFLICT,  # a key sent again with another request
    "job_open": status.HTTP_409_CONFLICT,
    "not_due": status.HTTP_409_CONFLICT,
    "exists": status.HTTP_409_CONFLICT,  # a certificate of that kind and name exists already
    "private_certificate": status.HTTP_409_CONFLICT,  # an ACME request for a private CA's certificate
    "no_private_key": status.HTTP_409_CONFLICT,  # a CSR-based version: its key stayed with the requester
    "not_pending": status.HTTP_409_CONFLICT,  # a CA's signed certificate uploaded when it waits for none
    "retired": status.HTTP_409_CONFLICT,  # a retired CA never changes state again
    "pending": status.HTTP_409_CONFLICT,  # a CA waiting for its signed certificate cannot be enabled yet
    # A scoped token (allowed_domains) asked for a certificate name outside its scope.
    "domain_out_of_scope": status.HTTP_403_FORBIDDEN,
    "scope_wider": status.HTTP_403_FORBIDDEN,  # a scoped token asked for a token reaching further than itself
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    # A host the tenant chose (a CA, a storage target) failed or refused.
    "issuance_failed": status.HTTP_502_BAD_GATEWAY,
    # CertMate's answers to a renewal or reissue the CA refused (the previous certificate stays).
    "renewal_failed": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "reissue_failed": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "storage_unreachable": status.HTTP_502_BAD_GATEWAY,
    "ca_unreachable": status.HTTP_502_BAD_GATEWAY,  # a CA's directory could not be read (or is not one)
    "storage_refused": status.HTTP_502_BAD_GATEWAY,
    "user_exists": status.HTTP_409_CONFLICT,
    "last_admin": status.HTTP_409_CONFLICT,
    "own_account": status.HTTP_409_CONFLICT,
    # A private certificate: its holder must send a new CSR; its current version is revoked.
    "needs_csr": status.HTTP_409_CONFLICT,
    "revoked": status.HTTP_409_CONFLICT,
    "not_implemented": status.HTTP_501_NOT_IMPLEMENTED,  # announced, arriving with a later issue
    "not_revocable": status.HTTP_409_CONFLICT,  # a root, or a CA signed outside certmate: nothing here lists it
}
GENERIC_CODE = "invalid"


def status_of(code: str | None) -> int:
    return STATUS_BY_CODE.get(code or "", status.HTTP_400_BAD_REQUEST)


class ApiError(exceptions.APIException):
    """A specific answer from a view: ``raise ApiError("job 3 is running", "job_open")``; the status
    follows from the code (STATUS_BY_CODE, else 400)."""

    def __init__(self, message: str, code: str = "error"):
        self.status_code = status_of(code)
        super().__init__(detail=message, code=code)


class ServiceValidationError(exceptions.APIException):
    """A Django ValidationError from a service, with its messages, fields and code kept."""

    def __init__(self, exc: DjangoValidationError):
        self.fields = {k: list(v) for k, v in exc.message_dict.items()} if hasattr(exc, "error_dict") else {}
        codes = {e.code for e in exc.error_list} if not self.fields else _django_field_codes(exc)
        self.code = codes.pop() if len(codes) == 1 and None not in codes else GENERIC_CODE
        self.status_code = status_of(self.code)
        super().__init__(detail=_join(self.fields) if self.fields else "; ".join(exc.messages), code=self.code)


def _django_field_codes(exc: DjangoValidationError) -> set:
    return {e.code for errors in exc.error_dict.values() for e in errors}


def _from_django(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return ApiError(f"the request body is larger than this server takes ({limit} bytes)", "too_large")
    if isinstance(exc, DjangoValidationError):
        return ServiceValidationError(exc)
    if isinstance(exc, NotFound | Http404 | ObjectDoesNotExist):
        # Never what was looked for: a name another tenant uses is no business of this one.
        return ApiError("not found: no such object here", "not_found")
    if isinstance(exc, ProtectedError | RestrictedError):
        users = sorted({str(obj) for obj in exc.args[1]})[:5]
        return ApiError(f"still in use by {', '.join(users)}: remove those first", "in_use")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    return None


def _flatten(detail, prefix: str = "") -> dict[str, list]:
    """DRF's nested error detail as {"field.sub": [messages]}."""
    if isinstance(detail, dict):
        out: dict[str, list] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return out
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in messages]}


def _join(fields: dict[str, list]) -> str:
    parts = []
    for field, messages in fields.items():
        shown = "" if field in (api_settings.NON_FIELD_ERRORS_KEY, "__all__") else f"{field}: "
        parts.extend(f"{shown}{message}" for message in messages)
    return "; ".join(parts)


def _leaf_codes(codes) -> set:
    if isinstance(codes, dict):
        return set().union(*(_leaf_codes(v) for v in codes.values())) if codes else set()
    if isinstance(codes, list):
        return set().union(*(_leaf_codes(v) for v in codes)) if codes else set()
    return {codes}


def error_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, ServiceValidationError):
        body = {"error": str(exc.detail), "code": exc.code}
        fields = exc.fields
    elif isinstance(exc.detail, dict | list):
        fields = _flatten(exc.detail)
        codes = _leaf_codes(exc.get_codes())
        body = {"error": _join(fields) or "invalid input", "code": codes.pop() if len(codes) == 1 else GENERIC_CODE}
    else:
        body = {"error": str(exc.detail), "code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error"}
        fields = {}
    fields = {k: v for k, v in fields.items() if k not in (api_settings.NON_FIELD_ERRORS_KEY, "__all__")}
    if fields:
        body["fields"] = fields
    return body


def exception_handler(exc: Exception, context: dict) -> Response | None:
    exc = _from_django(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is None:
        # Not an error the API knows: log it whole, answer without details (they may hold secrets).
        logger.error("unhandled API error", exc_info=exc)
        set_rollback()
        return Response({"error": "internal error: see the server log", "code": "server_error"}, status=500)
    response.data = error_body(exc)
    return response
