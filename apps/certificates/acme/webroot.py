"""HTTP-01 webroot mode: which folders a tenant may name for its tokens. The platform lists the roots
(CERTMATE_WEBROOT_ROOTS, "{tenant}" standing for the tenant's slug); a tenant's webroot is an absolute
path inside one of them, written without "..", "." or doubled slashes, so what is checked is what is
written to."""

from __future__ import annotations

import contextlib
import errno
import os
import re
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_WEBROOT = 500
TENANT_PLACEHOLDER = "{tenant}"
# What the faces (API, admin, portal) say of the two settings.
CHALLENGE_HELP = (
    "dns-01: through the DNS account (wildcards need it). http-01: the CA fetches "
    "http://<name>/.well-known/acme-challenge/<token>, so port 80 of every name must reach certmate (or the "
    "web server serving the webroot)."
)
WEBROOT_HELP = (
    "http-01 only: a folder the platform allows (CERTMATE_WEBROOT_ROOTS) that a web server serves; the token is "
    "written there. Empty: certmate answers the challenge itself."
)
# Plain path segments: letters, digits, dot, dash, underscore (no spaces, no control characters).
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


def webroot_roots(tenant_slug: str) -> list[PurePosixPath]:
    """The tenant's own folders under the platform's roots. A root without "{tenant}" would be every
    tenant's at once (one could write tokens into the folder serving another's names): it counts for
    none (the settings refuse it at start-up too)."""
    roots = [root for root in settings.CERTMATE_WEBROOT_ROOTS if TENANT_PLACEHOLDER in root]
    return [PurePosixPath(root.replace(TENANT_PLACEHOLDER, tenant_slug)) for root in roots]


def webroot_clean(value: str, *, tenant_slug: str) -> str:
    """The webroot as stored, or ValidationError (code ``invalid_webroot``) saying what is allowed."""
    roots = webroot_roots(tenant_slug)
    if not roots:
        raise ValidationError(
            "webroot mode is off on this platform (CERTMATE_WEBROOT_ROOTS names no folder): leave webroot empty and "
            "point the names' port 80 at certmate, or use dns-01",
            code="invalid_webroot",
        )
    allowed = ", ".join(str(root) for root in roots)
    if not isinstance(value, str) or len(value) > MAX_WEBROOT or not value.startswith("/"):
        raise ValidationError(f"webroot must be an absolute folder under {allowed}", code="invalid_webroot")
    segments = value.rstrip("/").split("/")[1:]
    if not segments or not all(_SEGMENT.fullmatch(segment) and segment not in ("..", ".") for segment in segments):
        raise ValidationError(
            f"webroot {value[:100]!r}: use plain folder names (letters, digits, '.', '-', '_') under {allowed}",
            code="invalid_webroot",
        )
    path = PurePosixPath("/", *segments)
    if not any(path == root or root in path.parents for root in roots):
        raise ValidationError(f"webroot {str(path)!r} is not under {allowed}", code="invalid_webroot")
    return str(path)


# -- writing the tokens (the worker, while an order runs) ----------------------------------------------
# A tenant's web server folder is the tenant's territory: a symbolic link planted anywhere on the path
# would make the worker write (or delete) where the link points. Every folder is opened from "/" one
# segment at a time without following a link, and the token file is created, never opened, likewise.
CHALLENGE_FOLDER = (".well-known", "acme-challenge")
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class WebrootError(Exception):
    """The token could not be written or removed; the message says where and what to do."""


def webroot_root_of(webroot: str, *, tenant_slug: str) -> str:
    """The platform root ``webroot`` lies under (what must exist already), or ValidationError."""
    path = PurePosixPath(webroot_clean(webroot, tenant_slug=tenant_slug))
    return str(next(root for root in webroot_roots(tenant_slug) if path == root or root in path.parents))


def _open_folders(segments: list[str], *, create_after: int) -> int:
    """A descriptor of the folder at "/" + segments; those past the first ``create_after`` are created
    (0755: the web server reads them) when missing."""
    fd = os.open("/", _FOLDER)
    walked = ""
    try:
        for index, segment in enumerate(segments):
            walked += "/" + segment
            try:
                inner = os.open(segment, _FOLDER, dir_fd=fd)
            except FileNotFoundError:
                if index < create_after:
                    message = f"{walked} does not exist: the platform's webroot folder must be made first"
                    raise WebrootError(message) from None
                os.mkdir(segment, 0o755, dir_fd=fd)
                inner = os.open(segment, _FOLDER, dir_fd=fd)
                os.fchmod(inner, 0o755)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise WebrootError(
                        f"{walked} is a symbolic link or not a folder: certmate follows no link in a webroot; "
                        "make it a plain folder"
                    ) from None
                raise WebrootError(f"{walked}: {exc.strerror}") from None
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _challenge_folder(webroot: str, root: str, *, create: bool) -> int:
    segments = [*PurePosixPath(webroot).parts[1:], *CHALLENGE_FOLDER]
    return _open_folders(segments, create_after=len(PurePosixPath(root).parts) - 1 if create else len(segments))


def webroot_token_write(webroot: str, root: str, token: str, content: str) -> None:
    """<webroot>/.well-known/acme-challenge/<token> holding ``content`` (0644), folders made as needed."""
    folder = _challenge_folder(webroot, root, create=True)
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(token, dir_fd=folder)  # a leftover of the same name (a link included) is replaced
        try:
            fd = os.open(token, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                         dir_fd=folder)  # fmt: skip
        except OSError as exc:
            raise WebrootError(f"{webroot}: the token file could not be written: {exc.strerror}") from None
        with os.fdopen(fd, "w") as handle:
            os.fchmod(fd, 0o644)
            handle.write(content)
    finally:
        os.close(folder)


def webroot_token_remove(webroot: str, root: str, token: str) -> None:
    """Remove the token's file (its folders stay: the web server may serve more from them)."""
    try:
        folder = _challenge_folder(webroot, root, create=False)
    except WebrootError:
        return  # no folder, or one that became a link: nothing of ours to remove there
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(token, dir_fd=folder)
    finally:
        os.close(folder)
