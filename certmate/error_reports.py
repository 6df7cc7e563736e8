"""What error pages (debug or not) and error e-mails may show: never a secret.

Django's own filter hides secret-looking settings, but only with DEBUG off, and shows every POST field,
every cookie and the query string. Here, always: every posted value is hidden (a form may hold any
secret under any name) and so is any text of it quoted elsewhere on the page; values whose names look
secret (password, secret, token, key, credentials, hmac, …) are hidden wherever they appear; and the
password inside a URL (database, broker, cache) is hidden in settings and the environment.
"""

from __future__ import annotations

import contextlib
import json
import re
from urllib.parse import parse_qsl, urlencode

from django.http import QueryDict
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

SECRET_NAMES = re.compile(
    r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|COOKIE|CSRF|CREDENTIAL|HMAC|PRIVATE|DSN|"
    r"DATABASE_URL|BROKER_URL|CACHE_URL",
    flags=re.IGNORECASE,
)
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@", flags=re.IGNORECASE)
HIDDEN = SafeExceptionReporterFilter.cleansed_substitute
SHORTEST_HIDDEN_VALUE = 4  # shorter posted values ("1", "on") are not worth hunting through the page
SHORTEST_HIDDEN_PIECE = 8
ESCAPED = re.compile(r"[\s\\'\"]+")  # what repr() writes as an escape or a quote
BODY_SCAN_LIMIT = 1_000_000


class _Shown:
    """A frame variable already turned into its (cleansed) text; shown as is."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _posted_values(request) -> list[str]:
    """Every text the client sent in its body or under a secret-looking query name, longest first.
    Worked out once per request (the filter runs for every frame)."""
    if request is None:
        return []
    if not hasattr(request, "_certmate_posted"):
        values = [v for name, vs in request.GET.lists() if SECRET_NAMES.search(name) for v in vs]
        values += [v for _, vs in _post_of(request).lists() for v in vs]
        body = getattr(request, "_body", b"")  # only if the view read it
        if "json" in (request.content_type or "") and len(body) <= BODY_SCAN_LIMIT:
            with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError):
                values += list(_strings(json.loads(body)))
        texts = {v for v in values if isinstance(v, str) and len(v) >= SHORTEST_HIDDEN_VALUE}
        # Quoted by repr() (or a repr of a repr), line breaks and quotes turn into escapes: hide each
        # piece between them as well.
        texts |= {piece for v in texts for piece in ESCAPED.split(v) if len(piece) >= SHORTEST_HIDDEN_PIECE}
        request._certmate_posted = sorted(texts, key=len, reverse=True)
    return request._certmate_posted


def _post_of(request) -> QueryDict:
    try:
        return request.POST
    except Exception:  # a body that could not be parsed: nothing to show either
        return QueryDict()


def _strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def redact(text: str, posted: list[str]) -> str:
    for value in posted:
        text = text.replace(value, HIDDEN)
    return URL_PASSWORD.sub(lambda m: m.group("head") + HIDDEN + "@", text)


def query_cleansed(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, HIDDEN if SECRET_NAMES.search(k) else v) for k, v in pairs], safe="*")


class SecretHidingFilter(SafeExceptionReporterFilter):
    hidden_settings = SECRET_NAMES

    def is_active(self, request) -> bool:
        return True  # debug pages too: they are where the secret in an admin form was shown

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            if key == "QUERY_STRING":
                return query_cleansed(cleansed)
            if key in ("RAW_URI", "REQUEST_URI") and "?" in cleansed:  # gunicorn's and uwsgi's copies
                path, _, query = cleansed.partition("?")
                return f"{path}?{query_cleansed(query)}"
            return URL_PASSWORD.sub(lambda m: m.group("head") + HIDDEN + "@", cleansed)
        return cleansed

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return {name: HIDDEN for name in _post_of(request)}

    def get_safe_cookies(self, request):
        return {name: HIDDEN for name in getattr(request, "COOKIES", {})}

    def get_traceback_frame_variables(self, request, tb_frame):
        posted = _posted_values(request)
        shown = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if SECRET_NAMES.search(name):
                shown.append((name, HIDDEN))
                continue
            cleansed = self.cleanse_setting("", value) if isinstance(value, (dict, list, tuple)) else value
            shown.append((name, _Shown(redact(_text_of(cleansed), posted))))
        return shown


def _text_of(value) -> str:
    try:
        return repr(value)
    except Exception as exc:  # a broken __repr__ must not break the error page
        return f"<{type(value).__name__}: repr failed with {type(exc).__name__}>"


class SecretHidingReporter(ExceptionReporter):
    """Also hides what the filter cannot reach: the query string, and posted text quoted in the error."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        posted = _posted_values(self.request)
        if self.request is not None:
            data["request_GET_items"] = [
                (name, HIDDEN if SECRET_NAMES.search(name) else value) for name, value in self.request.GET.items()
            ]
            data["request_insecure_uri"] = redact(data["request_insecure_uri"].split("?")[0], posted)
        for key in ("exception_value", "exception_notes"):
            if key in data:
                data[key] = redact(data[key], posted)
        return data
