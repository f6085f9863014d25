"""Per-item field values as arrays: filter masks and facet counts in a few numpy operations.

Built once from the lexical index's records (one per item). Each filterable field becomes a
column of small integer codes; a filter becomes a boolean mask over items, and facet counts over
any set of items are one `bincount` per field. Dates (a case's opening, a document's
publication, a policy's effective date) are ISO days, so ranges compare as strings, and the
date histogram counts items per month.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kcrm.search.filters import FILTER_FIELDS, SearchFilter
from kcrm.search.trimming import GroupColumn
from kcrm.search.vector_index import ChunkRecord

DATE_KEYS = ("openedAt", "publishedAt", "effectiveFrom")
# Names are matched by containment (`product:X200` finds "Skylark X200 Router"); codes exactly.
CONTAINS_FIELDS = frozenset({"product", "customer", "topic", "category"})
MONTH_FACET = "month"


def field_value(record: ChunkRecord, name: str) -> str | None:
    """The record's value for a filter field, as stored (None when it has none)."""
    if name == "type":
        return record.type
    if name == "language":
        return record.language or None
    value = record.meta.get(name)
    return str(value) if value not in (None, "") else None


def record_date(record: ChunkRecord) -> str:
    """The item's ISO day ('' when it has no date)."""
    for key in DATE_KEYS:
        value = record.meta.get(key)
        if value:
            return str(value)[:10]
    return ""


class FacetTable:
    """Filterable fields of every item, aligned with the records they came from."""

    def __init__(self, records: Sequence[ChunkRecord]) -> None:
        self.size = len(records)
        self.row_of_uid = {record.uid: row for row, record in enumerate(records)}
        self.uids = [record.uid for record in records]
        self.values: dict[str, list[str]] = {}
        self.codes: dict[str, np.ndarray] = {}
        for name in FILTER_FIELDS:
            index: dict[str, int] = {}
            codes = np.full(self.size, -1, dtype=np.int32)
            for row, record in enumerate(records):
                value = field_value(record, name)
                if value is not None:
                    codes[row] = index.setdefault(value, len(index))
            self.values[name] = list(index)
            self.codes[name] = codes
        self.dates = np.array([record_date(record) for record in records], dtype="<U10")
        # the same dates as integers (YYYYMMDD, 0: undated) and months as small codes: comparisons,
        # sorts and the month histogram run on numbers, not strings
        self.days = np.array([int(d.replace("-", "")) if len(d) == 10 and d[:4].isdigit() else 0
                              for d in self.dates.tolist()], dtype=np.int32)
        month_index: dict[str, int] = {}
        self.month_codes = np.fromiter((month_index.setdefault(d[:7], len(month_index)) if d.strip() else -1
                                        for d in self.dates.tolist()), dtype=np.int32, count=self.size)
        self.months = list(month_index)
        self.access = GroupColumn(records)  # security trimming: who may see each item

    def _allowed_codes(self, name: str, wanted: frozenset[str]) -> list[int]:
        if name in CONTAINS_FIELDS:
            return [code for code, value in enumerate(self.values[name])
                    if any(w in value.lower() for w in wanted)]
        return [code for code, value in enumerate(self.values[name]) if value.lower() in wanted]

    def mask(self, flt: SearchFilter | None) -> np.ndarray | None:
        """Which items pass `flt` (None: no filter, all pass)."""
        if flt is None or flt.empty:
            return None
        mask = np.ones(self.size, dtype=bool)
        for name, wanted in flt.fields.items():
            allowed = np.zeros(len(self.values[name]) + 1, dtype=bool)  # the last slot: code -1 (no value)
            allowed[self._allowed_codes(name, wanted)] = True
            mask &= allowed[self.codes[name]]  # one gather, not a sort (np.isin)
        if flt.date_from or flt.date_to:
            mask &= self.days > 0
            if flt.date_from:
                mask &= self.days >= int(flt.date_from.replace("-", ""))
            if flt.date_to:
                mask &= self.days <= int(flt.date_to.replace("-", ""))
        return mask

    def counts(self, rows: np.ndarray) -> dict[str, dict[str, int]]:
        """Facet counts over the given items (a boolean mask or row indexes), largest first."""
        selected = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, dtype=np.int64)
        out: dict[str, dict[str, int]] = {}
        for name in FILTER_FIELDS:
            codes = self.codes[name][selected]
            codes = codes[codes >= 0]
            tally = np.bincount(codes, minlength=len(self.values[name]))
            order = sorted(np.flatnonzero(tally).tolist(), key=lambda c: (-tally[c], self.values[name][c]))
            out[name] = {self.values[name][c]: int(tally[c]) for c in order}
        codes = self.month_codes[selected]
        tally = np.bincount(codes[codes >= 0], minlength=len(self.months))
        out[MONTH_FACET] = {self.months[c]: int(tally[c]) for c in sorted(np.flatnonzero(tally).tolist(),
                                                                          key=self.months.__getitem__)}
        return out

    def newest_first(self, mask: np.ndarray | None) -> np.ndarray:
        """Rows passing `mask`, newest date first (undated last), for browsing without words."""
        rows = np.arange(self.size) if mask is None else np.flatnonzero(mask)
        return rows[np.lexsort((-rows, self.days[rows]))[::-1]]
