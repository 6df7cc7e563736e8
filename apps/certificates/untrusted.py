"""An engine's output is untrusted text: certbot and its DNS plugins may quote anything they read, including
files on the certmate host that a tenant pointed them at. What a tenant sees is cleaned here, whichever
engine wrote it.

- ``clean_output``: the log kept with a job (shown to tenant admins only): known secrets redacted (the
  tenant's and the platform's), control characters dropped, what a parser quoted from a file withheld,
  and bounded in size.
- ``summary``: the one line every user of the tenant sees: the same cleaning, one line, bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_REASON_CHARS = 300
MAX_OUTPUT_CHARS = 64_000
REDACTED = "[redacted]"
WITHHELD = "[withheld]"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# A message that reports reading or parsing a file: whatever follows may be the file's content.
_FILE_WORDS = re.compile(
    r"(?i)(\bfiles?\b|\.?edgerc|passport|keytab|\bpars(e|er|ing)\b|unmarshal|\bdecod(e|ing)\b|delimiter|"
    r"syntax error|unexpected (token|character|end)|invalid character|section header|\byaml\b|\btoml\b)"
)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|«[^»]*»")
_WHOLLY_QUOTED = re.compile(r"\s*(['\"`]).*\1?\s*")
_SECRET_SETTING = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEYS?$|_KEY_)")


def platform_secrets() -> tuple[str, ...]:
    """The platform's own secrets from Django's settings: SECRET_KEY, the encryption keys, passwords of
    the database and the broker, and any other setting named like a secret."""
    from django.conf import settings

    found: list[str] = []
    for name in dir(settings):
        if not name.isupper():
            continue
        value = getattr(settings, name, None)
        if name.endswith(("_URL", "_BACKEND")) and isinstance(value, str):
            found.append(_url_password(value))
        elif _SECRET_SETTING.search(name) or name == "SECRET_KEY":
            found.extend(_strings(value))
    for database in getattr(settings, "DATABASES", {}).values():
        found.append(str(database.get("PASSWORD") or ""))
    return tuple(sorted({s for s in found if s and len(s) >= 6}, key=len, reverse=True))


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _strings(item)


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def clean_line(line: str) -> str:
    """One line without control characters, and without what follows a file being read or parsed."""
    line = _CONTROL.sub("", line.replace("\t", " ")).rstrip()
    if _WHOLLY_QUOTED.fullmatch(line) and line.strip():
        return WITHHELD  # a parser's quote of the line it choked on, printed on a line of its own
    if not _FILE_WORDS.search(line):
        return line
    segments = line.split(": ")
    kept = next(i for i, segment in enumerate(segments) if _FILE_WORDS.search(segment))
    text = _QUOTED.sub(WITHHELD, ": ".join(segments[: kept + 1]))
    return text + (f": {WITHHELD}" if kept + 1 < len(segments) else "")


def clean_output(text: str, *, secrets: Iterable[str] = ()) -> str:
    text = redact(text, (*secrets, *platform_secrets()))
    if len(text) > MAX_OUTPUT_CHARS:  # the end says why it failed: keep that
        text = f"[{len(text) - MAX_OUTPUT_CHARS} characters left out]\n" + text[-MAX_OUTPUT_CHARS:]
    return "\n".join(clean_line(line) for line in text.splitlines())


def one_line(text: str, *, secrets: Iterable[str] = ()) -> str:
    """A reason as a tenant sees it: one cleaned line of at most MAX_REASON_CHARS characters."""
    text = " ".join(clean_line(line) for line in redact(text, (*secrets, *platform_secrets())).splitlines())
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"
