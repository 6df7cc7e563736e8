"""The rows of a batch, as a JSON list or a CSV upload: their shape checked up-front (unknown columns,
wrong types, too many rows are refused with the row's number before anything is recorded). What a row
asks for is checked when it is issued, where a refusal is that row's result."""

from __future__ import annotations

import csv
import hashlib
import io
import json

from django.core.exceptions import ValidationError

from apps.certificates.pki.names import SUBJECT_FIELDS

MAX_ROWS = 10_000
MAX_CSV_BYTES = 5 * 1024 * 1024
CSV_COLUMNS = (
    "common_name", "organization", "organizational_unit", "email", "san", "profile", "key_type", "days",
    "name", "usage", "notes",
)  # fmt: skip
TEXT_FIELDS = {"profile": 80, "key_type": 10, "name": 128, "usage": 40, "notes": 1000, "kind": 10}
ROW_FIELDS = {*SUBJECT_FIELDS, *TEXT_FIELDS, "subject", "alt_names", "san", "days"}
_FIELD_LENGTH = 1000
_MAX_NAMES = 100


def _refused(where: str, message: str) -> ValidationError:
    return ValidationError(f"{where}: {message}", code="invalid_rows")


def _names(row: str, value) -> list[str]:
    """alt_names / san: a list of strings, or one string of names separated by ';'."""
    if isinstance(value, str):
        value = [name.strip() for name in value.split(";")]
        value = [name for name in value if name]
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise _refused(row, "alt_names must be a list of names (or one string separated by ';')")
    if len(value) > _MAX_NAMES or any(len(name) > 300 for name in value):
        raise _refused(row, f"at most {_MAX_NAMES} alternative names of 300 characters each")
    return value


def _days(row: str, value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise _refused(row, "days must be a whole number of days")
    return value


def _text(row: str, name: str, value, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise _refused(row, f"{name} must be text of at most {limit} characters")
    return value.strip()


def row_clean(row, *, where: str) -> dict:
    """One row in its stored form: {subject, alt_names, days, profile, key_type, name, usage, notes, kind}
    with what was given (empty values left out). ``where`` starts a refusal ("row 3", "line 4")."""
    if not isinstance(row, dict):
        raise _refused(where, "each row must be an object of fields")
    unknown = sorted(str(key)[:40] for key in row if key not in ROW_FIELDS)
    if unknown:
        raise _refused(where, f"unknown columns {', '.join(unknown[:5])} (use {', '.join(sorted(ROW_FIELDS))})")
    if "alt_names" in row and "san" in row:
        raise _refused(where, "give alt_names or san, not both")
    subject = row.get("subject") or {}
    if (
        not isinstance(subject, dict)
        or len(subject) > len(SUBJECT_FIELDS)
        or any(not isinstance(v, str) or len(v) > _FIELD_LENGTH for v in subject.values())
    ):
        raise _refused(where, f"subject must be an object of up to {len(SUBJECT_FIELDS)} text fields")
    subject = {str(k)[:40]: v for k, v in subject.items()}
    for field in SUBJECT_FIELDS:
        if row.get(field) not in (None, ""):
            subject[field] = _text(where, field, row[field], _FIELD_LENGTH)
    cleaned: dict = {"subject": {k: v for k, v in subject.items() if v.strip()}}
    names = row.get("alt_names", row.get("san"))
    if names not in (None, ""):
        cleaned["alt_names"] = _names(where, names)
    days = _days(where, row.get("days"))
    if days is not None:
        cleaned["days"] = days
    for field, limit in TEXT_FIELDS.items():
        if row.get(field) not in (None, ""):
            cleaned[field] = _text(where, field, row[field], limit)
    return cleaned


def rows_clean(rows) -> list[dict]:
    """Every row cleaned, numbered from 1; a list of 1 to MAX_ROWS rows."""
    if not isinstance(rows, list) or not rows:
        raise ValidationError("rows must be a list of at least one row", code="invalid_rows")
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"at most {MAX_ROWS} rows in a batch (got {len(rows)})", code="too_many_rows")
    return [row_clean(row, where=f"row {number}") for number, row in enumerate(rows, start=1)]


def rows_sha256(rows: list[dict], *, authority_id: int, profile: str) -> str:
    """What makes two submissions the same batch: the cleaned rows, the CA and the default profile."""
    canonical = json.dumps({"authority": authority_id, "profile": profile, "rows": rows}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def batch_rows_from_csv(text: str | bytes) -> list[dict]:
    """Rows from a CSV upload with a header row of CSV_COLUMNS (any subset, any order; ``san`` holds
    names separated by ';'). Errors name the line (the header is line 1)."""
    if isinstance(text, bytes):
        if len(text) > MAX_CSV_BYTES:
            raise ValidationError(f"the CSV file is larger than {MAX_CSV_BYTES // 1024 // 1024} MiB", code="too_large")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("the CSV file must be UTF-8 text", code="invalid_csv") from None
    if len(text) > MAX_CSV_BYTES:
        raise ValidationError(f"the CSV file is larger than {MAX_CSV_BYTES // 1024 // 1024} MiB", code="too_large")
    if "\x00" in text:
        raise ValidationError("the CSV file must be text (it holds a NUL byte)", code="invalid_csv")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        if not header or not any(header):
            raise ValidationError("the CSV file is empty: its first line names the columns", code="invalid_csv")
        unknown = [column[:40] for column in header if column not in CSV_COLUMNS]
        if unknown or len(set(header)) != len(header):
            raise ValidationError(
                f"line 1: unknown or repeated columns {', '.join(unknown) or 'in the header'} "
                f"(use {', '.join(CSV_COLUMNS)})",
                code="invalid_csv",
            )
        rows = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue  # blank lines
            if len(values) != len(header):
                raise ValidationError(
                    f"line {reader.line_num}: {len(values)} values for {len(header)} columns", code="invalid_csv"
                )
            if len(rows) >= MAX_ROWS:
                raise ValidationError(f"at most {MAX_ROWS} rows in a batch", code="too_many_rows")
            row = {column: value.strip() for column, value in zip(header, values, strict=True) if value.strip()}
            row_clean(row, where=f"line {reader.line_num}")  # refused here with its line, not its row
            rows.append(row)
    except csv.Error as exc:
        raise ValidationError(f"line {reader.line_num}: not valid CSV ({exc})", code="invalid_csv") from None
    if not rows:
        raise ValidationError("the CSV file has no rows below its header", code="invalid_csv")
    return rows
