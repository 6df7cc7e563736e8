"""A refused request (403) is logged once, in one line: no traceback, not once per handler."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import RequestFactory, override_settings


def forbidden(caplog, reason: str = "") -> list[logging.LogRecord]:
    request = RequestFactory().get("/admin/certificates/certificate/add/")
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = response_for_exception(request, PermissionDenied(reason))
    assert response.status_code == 403
    return [record for record in caplog.records if record.name == "django.request"]


def test_a_403_is_one_line_without_a_traceback(caplog):
    (record,) = forbidden(caplog, "only admins may add a certificate")
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == (
        "Forbidden (Permission denied): /admin/certificates/certificate/add/: only admins may add a certificate"
    )
    assert "Traceback" not in caplog.text
    caplog.clear()
    (record,) = forbidden(caplog)
    assert record.getMessage() == "Forbidden (Permission denied): /admin/certificates/certificate/add/"


def printing_handlers(logger_name: str) -> list[logging.Handler]:
    """The handlers a warning of ``logger_name`` reaches (pytest's own capture left out)."""
    record = logging.LogRecord(logger_name, logging.WARNING, __file__, 1, "Forbidden: /", (), None)
    record.status_code = 403
    found, logger = [], logging.getLogger(logger_name)
    while logger:
        found += [h for h in logger.handlers if record.levelno >= h.level and h.filter(record)]
        logger = logger.parent if logger.propagate else None
    return [h for h in found if not type(h).__module__.startswith("_pytest")]


def test_a_request_warning_is_printed_once_also_under_make_run():
    for debug in (True, False):  # `make run` turns debug pages on; Django's console handler printed it again
        with override_settings(DEBUG=debug):
            assert len(printing_handlers("django.request")) == 1
