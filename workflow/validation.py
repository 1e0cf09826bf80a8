"""Cleaning of the free-text values people type, with the sentence shown when one is refused."""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidInput

MAX_TITLE = 300
MAX_BODY = 200_000
MAX_SUMMARY = 500
MAX_REASON = 4_000
MAX_COMMENT = 20_000
MAX_QUOTE = 2_000

# Control characters other than tab, newline and carriage return have no place in text a person
# wrote, and some (NUL) are refused by PostgreSQL outright. Lone surrogates (from "\ud800" in
# JSON) are not text at all and no database driver can store them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

#: The largest id or number an `integer` column holds on both databases. Anything larger names
#: nothing that exists, and must not reach the database, which would fail on it.
DB_INT_MAX = 2**31 - 1


def fits_db_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -DB_INT_MAX - 1 <= value <= DB_INT_MAX


def is_clean(value: str) -> bool:
    """Whether a string can be stored or looked up as it is (no control characters or
    surrogates)."""
    return not _CONTROL.search(value)


def clean_lookup(value: str | None, field: str) -> str | None:
    """A value used to look something up (a filter, a code): refused if it holds characters
    no stored value can have."""
    if value is None:
        return None
    if not is_clean(value):
        raise InvalidInput(f"The {field} contains characters that are not allowed.", code="invalid_text")
    return value


def _text(value: object, field: str, *, limit: int, required: bool, single_line: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {field} must be text.", code="invalid_type")
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(value):
        raise InvalidInput(f"The {field} contains control characters.", code="invalid_text")
    if single_line:
        value = " ".join(value.split())
    else:
        value = value.strip("\n")
    if required and not value.strip():
        raise InvalidInput(f"The {field} must not be empty.", code=f"{field}_required")
    if len(value) > limit:
        raise InvalidInput(
            f"The {field} is too long: at most {limit:,} characters.", code=f"{field}_too_long"
        )
    return value


def clean_title(value: object) -> str:
    return _text(value, "title", limit=MAX_TITLE, required=True, single_line=True)


def clean_body(value: object, *, required: bool = False) -> str:
    return _text(value, "body", limit=MAX_BODY, required=required, single_line=False)


def clean_summary(value: object) -> str:
    return _text(value, "summary", limit=MAX_SUMMARY, required=False, single_line=True)


def clean_comment(value: object) -> str:
    return _text(value, "comment", limit=MAX_COMMENT, required=True, single_line=False)


def clean_quote(value: object) -> str:
    return _text(value, "quote", limit=MAX_QUOTE, required=True, single_line=False)


def clean_reason(value: object, *, required: bool) -> str | None:
    reason = _text(value, "reason", limit=MAX_REASON, required=required, single_line=False)
    return reason or None


def clean_name(value: object, field: str, *, limit: int = 200) -> str:
    return _text(value, field, limit=limit, required=True, single_line=True)
