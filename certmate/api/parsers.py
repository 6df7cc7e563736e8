"""The API's one request parser: JSON, refused when nested deeper than any endpoint needs (so a hostile
body can neither exhaust the parser's recursion nor a serializer walking it) or holding a number too
large to be one (1e999 reads as infinity) or text that is no Unicode (a lone surrogate)."""

from __future__ import annotations

import math

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, MultiPartParser

# No endpoint takes more than a few levels (settings inside a storage target, credentials inside a DNS
# account); this leaves room for any future one.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels"


def json_problem(value: object) -> str | None:
    """What makes a parsed body unacceptable (too deep, a non-finite number), checked without recursion."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "JSON parse error - a number is out of range"
        if isinstance(item, str) and not _is_unicode(item):
            return "JSON parse error - text holds a lone surrogate (\\ud800-\\udfff), which is no character"
        if isinstance(item, dict):
            pending.extend((key, depth) for key in item)
            item = list(item.values())
        if isinstance(item, list):
            if depth + 1 > MAX_JSON_DEPTH:
                return TOO_DEEP
            pending.extend((child, depth + 1) for child in item)
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        problem = json_problem(data)
        if problem:
            raise ParseError(problem)
        return data


class BoundedMultiPartParser(MultiPartParser):
    """A file upload (a CSV of rows): refused before it is read when its declared length is larger than
    ``MAX_UPLOAD_BYTES``; Django's own limits bound the form fields beside the file."""

    MAX_UPLOAD_BYTES = 6 * 1024 * 1024

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        meta = getattr(request, "META", {})
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.MAX_UPLOAD_BYTES:
            raise ParseError(f"the upload is larger than {self.MAX_UPLOAD_BYTES} bytes")
        return super().parse(stream, media_type, parser_context)
