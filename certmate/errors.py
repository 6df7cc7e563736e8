"""Domain errors that any face can meet: the API's exception handler answers them (see
certmate.api.exceptions), commands and the admin say them in their own way."""

from __future__ import annotations


class NotFound(LookupError):
    """What was asked for does not exist here (in this tenant). The message names it, for people
    (the API answers a generic 404 instead: it never echoes what it did not find)."""
