"""A CertMate backup zip uploaded through the admin: copied to a size-bounded temporary file outside
every tenant's area, imported, and removed. The zip itself is read in place (see source.py)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # a CertMate backup of 10,000 certificates is far smaller


@contextlib.contextmanager
def uploaded_zip(upload: UploadedFile, *, limit: int = MAX_UPLOAD_BYTES) -> Iterator[Path]:
    """The upload as a temporary file (0600, removed afterwards), or ValidationError when it is too large."""
    if upload.size is not None and upload.size > limit:
        raise ValidationError(f"the file is {upload.size} bytes; at most {limit} are taken", code="too_large")
    with tempfile.NamedTemporaryFile(prefix="certmate-import-", suffix=".zip") as handle:
        written = 0
        for chunk in upload.chunks():
            written += len(chunk)
            if written > limit:
                raise ValidationError(f"the file is over {limit} bytes", code="too_large")
            handle.write(chunk)
        handle.flush()
        yield Path(handle.name)
