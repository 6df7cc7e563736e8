"""The API's one request parser: JSON, refused when nested deeper than any endpoint needs (so a hostile
body can neither exhaust the parser's recursion nor a serializer walking it)."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No endpoint takes more than a few levels (settings inside a storage target, credentials inside a DNS
# account); this leaves room for any future one.
MAX_JSON_DEPTH = 32


def json_depth(value: object) -> int:
    """How deeply ``value`` nests lists and objects (a scalar: 0), measured without recursion."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                break
            pending.extend((child, depth) for child in item)
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels") from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels")
        return data
