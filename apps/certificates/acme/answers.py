"""What the ACME server last answered in a failed certbot run. certbot prints a CA's problem by its
detail only ("Error creating new order :: too many certificates ..."), not its type or HTTP status; its
debug log has both. Whether another CA could do better (a rate limit, a server error) depends on them."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

LOG_NAME = "letsencrypt.log"
MAX_LOG_BYTES = 1 << 20  # the end of the log holds the last answer
# acme.client logs each answer as "Received response:\nHTTP <status>\n<headers>\n\n<body>", up to the next
# timestamped line.
_RECEIVED = re.compile(r"Received response:\nHTTP (\d{3})\n(.{0,8000}?)(?=\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\Z)", re.S)
_PROBLEM_TYPE = re.compile(r'"type"\s*:\s*"(urn:ietf:params:acme:error:[A-Za-z]{1,40})"')


def last_answer(logs: Path) -> str:
    """ "The ACME server answered HTTP 429 (urn:ietf:params:acme:error:rateLimited)." when the last answer
    in the run's debug log was an error; "" otherwise. Only the status and the type are taken from the
    log (untrusted text: a plugin may write into it)."""
    text = _tail(logs / LOG_NAME)
    # The last answer only: trying every "Received response:" a CA's body may repeat, each up to the
    # bound, took seconds of the worker's time on a crafted megabyte.
    received = _RECEIVED.match(text, max(0, text.rfind("Received response:\n")))
    if received is None:
        return ""
    status, body = received.groups()
    if int(status) < 400:
        return ""
    problem = _PROBLEM_TYPE.search(body)
    return f"The ACME server answered HTTP {status}" + (f" ({problem.group(1)})" if problem else "") + "."


def _tail(path: Path) -> str:
    # Not following a link and only a regular file: certbot's user could leave anything at that path.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(fd).st_size
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        handle.seek(max(0, size - MAX_LOG_BYTES))
        return handle.read(MAX_LOG_BYTES).decode("utf-8", "replace")
