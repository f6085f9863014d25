"""Cleaning: values made comparable before they are validated and stored.

Short strings (names, codes) get NFKC, which turns full-width letters, digits and spaces into
their ordinary forms and collapses whitespace. Long text keeps its Chinese punctuation (NFKC would
turn `，` into `,`): only full-width letters and digits are narrowed and line noise removed.
Dates become ISO 8601, phone numbers the international format, e-mail addresses lower case.
Every function raises `CleaningError` with a reason a person can act on.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any

import phonenumbers

from kcrm.ontology.model import PropertySpec

TEXT_PROPERTIES = frozenset({"text", "description", "resolution", "definition"})
KINDS = ("name", "text", "email", "phone", "date", "datetime", "none")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FULLWIDTH_ALNUM = {code: code - 0xFEE0 for code in
                    [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
# Linear on any input: the domain's dot-separated parts can be split only one way, so a run of dots
# fails in one pass (the older `[^@\s]+\.[^@\s]+` took seconds on `a@` + 20,000 dots + `@`).
# ontology/shapes.ttl carries the same pattern (a unit test keeps them equal).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s](?:[^@\s.]*\.)+[^@\s.]+$"
_EMAIL = re.compile(EMAIL_PATTERN)
MAX_EMAIL_CHARS = 254  # RFC 5321's longest path; checked before parsing or matching anything
MAX_DATE_CHARS = 64
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                  r"(?:[ T]+(\d{1,2})[:时](\d{2})(?:[:分](\d{2})(?:\.\d+)?)?秒?)?\s*(Z|[+-]\d{2}:?\d{2})?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY_OR_MDY = re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_TRUE = frozenset({"true", "yes", "y", "1", "是", "真"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "假"})


class CleaningError(ValueError):
    """A value that cannot be cleaned into its property's form."""


def default_kind(spec: PropertySpec) -> str:
    """The cleaning a property gets unless its mapping says otherwise."""
    if spec.datatype == "date":
        return "date"
    if spec.datatype == "dateTime":
        return "datetime"
    if spec.datatype != "string":
        return "none"
    if spec.name in ("email", "phone"):
        return spec.name
    return "text" if spec.name in TEXT_PROPERTIES else "name"


def clean_name(value: str) -> str:
    """NFKC, control characters removed, whitespace runs collapsed to one space."""
    return " ".join(_CONTROL.sub("", unicodedata.normalize("NFKC", value)).split())


def clean_text(value: str) -> str:
    """NFC, full-width letters and digits narrowed, CRLF and trailing blanks and blank-line runs tidied."""
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).translate(_FULLWIDTH_ALNUM)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def clean_email(value: str) -> str:
    """The bare address, lower case: `"Li Na" <LiNa@Example.CN>` -> `lina@example.cn`."""
    if len(value) > MAX_EMAIL_CHARS + 80:  # room for a display name; never parse a megabyte cell
        raise CleaningError(f"{value[:60]!r}... has {len(value):,} characters: no e-mail address is longer than "
                            f"{MAX_EMAIL_CHARS}")
    raw = clean_name(value)
    raw = raw[7:] if raw.lower().startswith("mailto:") else raw
    address = parseaddr(raw)[1] or raw
    address = address.strip().lower()
    if len(address) > MAX_EMAIL_CHARS or not _EMAIL.match(address):
        raise CleaningError(f"{value[:60]!r} is not an e-mail address")
    return address


def clean_phone(value: str, region: str | None = None) -> str:
    """International format (`+86 27 5270 1824`) when the number parses, else tidied as written."""
    raw = clean_name(value)
    raw = raw[4:] if raw.lower().startswith("tel:") else raw
    if not re.search(r"\d", raw):
        raise CleaningError(f"{value[:60]!r} has no digits: not a phone number")
    if re.search(r"[^\d\s()+\-./x#*,;ext]", raw, re.IGNORECASE):
        raise CleaningError(f"{value[:60]!r} has characters a phone number cannot have")
    try:
        number = phonenumbers.parse(raw, region)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        pass
    return raw


def _build_datetime(parts: tuple[str | None, ...], original: str) -> datetime:
    year, month, day, hour, minute, second, zone = parts
    try:
        stamp = datetime(int(year or ""), int(month or ""), int(day or ""), int(hour or 0), int(minute or 0),
                         int(second or 0))
    except ValueError as exc:
        raise CleaningError(f"{original[:40]!r} is not a valid date: {exc}") from None
    if zone:
        stamp = datetime.fromisoformat(stamp.isoformat() + ("+00:00" if zone == "Z" else
                                                            zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"))
    return stamp


def parse_datetime(value: Any, date_format: str | None = None) -> tuple[datetime, bool]:
    """(moment, whether a time of day was given) from the common ways people write dates."""
    if isinstance(value, datetime):
        return value, True
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day), False
    if not isinstance(value, str):
        raise CleaningError(f"expected a date, got {type(value).__name__}")
    if len(value) > MAX_DATE_CHARS:
        raise CleaningError(f"{value[:40]!r}... has {len(value):,} characters: too long for a date "
                            f"(at most {MAX_DATE_CHARS})")
    text = clean_name(value)
    if date_format:
        try:
            parsed = datetime.strptime(text, date_format)
        except ValueError:
            raise CleaningError(f"{text[:40]!r} does not match the date format {date_format!r}") from None
        return parsed, any(code in date_format for code in ("%H", "%I", "%M", "%S"))
    found = _YMD.match(text) or _COMPACT.match(text)
    if found:
        parts = tuple(found.groups()) + (None,) * (7 - len(found.groups()))
        return _build_datetime(parts, text), parts[3] is not None
    if _DMY_OR_MDY.match(text):
        raise CleaningError(f"{text[:40]!r} is ambiguous (day/month order): write YYYY-MM-DD or set "
                            "date_format in the mapping")
    try:
        return parsedate_to_datetime(text), True
    except (TypeError, ValueError, IndexError):
        pass
    try:
        parsed = datetime.fromisoformat(text)
        return parsed, "T" in text or " " in text
    except ValueError:
        raise CleaningError(f"{text[:40]!r} is not a date") from None


def clean_date(value: Any, date_format: str | None = None) -> str:
    """YYYY-MM-DD."""
    return parse_datetime(value, date_format)[0].date().isoformat()


def clean_datetime(value: Any, date_format: str | None = None) -> str:
    """ISO 8601 date-time (midnight when only a date was given)."""
    return parse_datetime(value, date_format)[0].isoformat()


def clean(kind: str, value: Any, phone_region: str | None = None, date_format: str | None = None) -> Any:
    """Apply one kind of cleaning to a value (lists item by item); non-strings pass through names/text."""
    if isinstance(value, list):
        return [clean(kind, item, phone_region, date_format) for item in value]
    if kind == "date":
        return clean_date(value, date_format)
    if kind == "datetime":
        return clean_datetime(value, date_format)
    if not isinstance(value, str) or kind == "none":
        return value
    if kind == "name":
        return clean_name(value)
    if kind == "text":
        return clean_text(value)
    if kind == "email":
        return clean_email(value)
    if kind == "phone":
        return clean_phone(value, phone_region)
    raise CleaningError(f"unknown cleaning {kind!r}; known: {', '.join(KINDS)}")


def coerce(datatype: str, value: Any) -> Any:
    """Turn source text into the property's type (`"１２.50"` -> 12.5); raise CleaningError if it is not one."""
    if not isinstance(value, str):
        if datatype in ("decimal", "double", "float") and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value
    text = unicodedata.normalize("NFKC", value).strip()
    if datatype in ("decimal", "double", "float"):
        number = text.lstrip("$¥€£").replace(" ", "")
        if _THOUSANDS.match(number):
            number = number.replace(",", "")
        try:
            result = float(number)
        except ValueError:
            raise CleaningError(f"{value[:40]!r} is not a number") from None
        if not math.isfinite(result):
            raise CleaningError(f"{value[:40]!r} is not a finite number")
        return result
    if datatype == "integer":
        if not re.fullmatch(r"[+-]?\d+", text):
            raise CleaningError(f"{value[:40]!r} is not a whole number")
        return int(text)
    if datatype == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise CleaningError(f"{value[:40]!r} is not true or false")
    return value
