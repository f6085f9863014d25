"""Field filters: from the query string (`status:open product:"X200"`) and from parameters.

A filter names fields and the values allowed for each: values of one field are alternatives
(OR), different fields must all hold (AND), and a date range bounds the item's date (a case's
opening, a document's publication, a policy's effective date). Filters narrow the candidates
before any ranking, so `k` hits are `k` matching items, and facets count only what passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from kcrm.foundation.errors import BadQuery

FILTER_FIELDS = ("type", "status", "priority", "language", "product", "customer", "topic", "category",
                 "tier", "churn_risk")  # the last two: mined on the case's customer by `kcrm mine`
DATE_FIELD = "date"
# Short names people type for item types.
TYPE_ALIASES = {"case": "SupportCase", "supportcase": "SupportCase", "document": "Document", "doc": "Document",
                "policy": "Policy", "rule": "IndustryRule", "industryrule": "IndustryRule"}

_IN_QUERY = re.compile(
    rf'(?<!\S)({"|".join(FILTER_FIELDS + (DATE_FIELD,))}):(?:"([^"]*)"|(\S+))', re.IGNORECASE
)
_DAY = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class SearchFilter:
    """Allowed values per field (lower-cased) and an inclusive ISO date range."""

    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    date_from: str | None = None
    date_to: str | None = None

    @property
    def empty(self) -> bool:
        """True when the filter lets everything through."""
        return not self.fields and self.date_from is None and self.date_to is None

    def merged(self, other: SearchFilter) -> SearchFilter:
        """Both filters at once: values of a field named by both must satisfy both."""
        fields = dict(self.fields)
        for name, values in other.fields.items():
            fields[name] = fields[name] & values if name in fields else values
        date_from = max((d for d in (self.date_from, other.date_from) if d), default=None)
        date_to = min((d for d in (self.date_to, other.date_to) if d), default=None)
        return SearchFilter(fields, date_from, date_to)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, for echoing back what was applied."""
        out: dict[str, object] = {name: sorted(values) for name, values in sorted(self.fields.items())}
        if self.date_from:
            out["date_from"] = self.date_from
        if self.date_to:
            out["date_to"] = self.date_to
        return out


def _normalise(name: str, value: str) -> str:
    value = " ".join(value.split()).lower()
    if name == "type":
        return TYPE_ALIASES.get(value, value).lower()
    return value


def _bound(text: str, upper: bool) -> str:
    """'2024' / '2024-03' / '2024-03-07' as the first (or last) day it covers."""
    match = _DAY.match(text)
    if not match:
        raise BadQuery(f"date {text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(match[1]), int(match[2] or (12 if upper else 1)), match[3]
    try:
        if day:
            return date(year, month, int(day)).isoformat()
        if not upper:
            return date(year, month, 1).isoformat()
        following = date(year + (month == 12), month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1).isoformat()
    except ValueError:
        raise BadQuery(f"date {text!r} does not exist") from None


def date_range(text: str) -> tuple[str | None, str | None]:
    """`2024`, `2024-03`, `2024-01-01..2024-06-30`, `2024..` or `..2024-06` as inclusive bounds."""
    if ".." in text:
        low, high = text.split("..", 1)
        bounds = (_bound(low, False) if low else None, _bound(high, True) if high else None)
    else:
        bounds = (_bound(text, False), _bound(text, True))
    if bounds[0] and bounds[1] and bounds[0] > bounds[1]:
        raise BadQuery(f"date range {text!r} ends before it starts")
    return bounds


def make_filter(values: Mapping[str, Iterable[str] | None] | None = None, date_from: str | None = None,
                date_to: str | None = None) -> SearchFilter:
    """A filter from parameters: field -> allowed values, plus optional date bounds."""
    fields: dict[str, frozenset[str]] = {}
    for name, given in (values or {}).items():
        if name not in FILTER_FIELDS:
            raise BadQuery(f"unknown filter field {name!r}; use one of {', '.join(FILTER_FIELDS)}")
        cleaned = frozenset(_normalise(name, v) for v in (given or []) if v and v.strip())
        if cleaned:
            fields[name] = cleaned
    low = _bound(date_from, False) if date_from else None
    high = _bound(date_to, True) if date_to else None
    if low and high and low > high:
        raise BadQuery(f"date_from {date_from} is after date_to {date_to}")
    return SearchFilter(fields, low, high)


def parse_query(query: str) -> tuple[str, SearchFilter]:
    """Split `field:value` terms off a query: (the remaining words, the filter they make)."""
    values: dict[str, set[str]] = {}
    bounds: list[tuple[str | None, str | None]] = []
    for match in _IN_QUERY.finditer(query):
        name, value = match[1].lower(), match[2] if match[2] is not None else match[3]
        if name == DATE_FIELD:
            bounds.append(date_range(value))
        elif value.strip():
            values.setdefault(name, set()).add(value)
    text = " ".join(_IN_QUERY.sub(" ", query).split())
    parsed = make_filter(values)
    for low, high in bounds:
        parsed = parsed.merged(SearchFilter({}, low, high))
    return text, parsed
