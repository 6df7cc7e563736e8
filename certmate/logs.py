"""Logging filters (settings.LOGGING)."""

from __future__ import annotations

import logging


class ForbiddenInOneLine(logging.Filter):
    """django.request logs every PermissionDenied (403) with its traceback: a refusal is no bug, so one
    line names it, with the refusal's reason when it has one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            reason = str(record.exc_info[1] or "")
            if reason:
                record.msg, record.args = f"{record.getMessage()}: {reason}", ()
            record.exc_info = record.exc_text = None
        return True
