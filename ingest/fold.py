"""Rows of one run that produce the same uid fold into one record; disagreements are kept and reported.

A flat export repeats its entities: every ticket row carries the customer who raised it and the
product it is about, so one customer's uid comes from many rows. Those rows are one node. Rows
that agree add nothing; a property only some rows carry is filled in from the first that has it;
rows that disagree on a property keep one value by a documented rule, and each disagreement is a
`Conflict` (uid, field, every value, the rows that gave them) in the run's report:

- without `latest_by` the first row seen wins (run order: file order, then row order);
- with the mapping's `latest_by: COLUMN` the row with the greatest value of that column wins
  (numbers compared as numbers, anything else as text, so write dates in ISO 8601); a row
  without a value in that column never beats one with it.

Relationships of the repeated rows are united (the same relationship twice is one). Pure logic:
`kcrm.ingest.run` feeds it the validated records of a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

from kcrm.kg.records import Record, RelRef


@dataclass
class Conflict:
    """Rows of one run that gave one uid different values for one property."""

    type: str
    uid: str
    field: str
    kept: Any
    values: list[Any] = default(default_factory=list)
    rows: list[str] = default(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "uid": self.uid, "field": self.field, "kept": self.kept, "values": self.values,
                "rows": self.rows}


def _rank_key(rank: str | None) -> tuple[int, float, str]:
    """Orders `latest_by` values: absent lowest, then numbers by value, then text."""
    if rank is None:
        return (0, 0.0, "")
    try:
        return (1, float(rank), "")
    except ValueError:
        return (2, 0.0, rank)


def _rel_key(rel: RelRef) -> tuple[str, str, str, bool]:
    return (rel.type, rel.other_uid, rel.other_type, rel.outgoing)


@dataclass
class _Folded:
    record: Record
    props: dict[str, Any]
    rels: dict[tuple[str, str, str, bool], RelRef]
    origin: dict[str, tuple[str, str | None]]  # property -> (row, rank) that gave the kept value
    rows: list[str]


class RunFold:
    """Collects a run's records; `add` folds a repeated uid into the record first seen with it."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], _Folded] = {}
        self._order: list[tuple[str, str]] = []
        self._conflicts: dict[tuple[str, str, str], Conflict] = {}

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._order)

    def first_row(self, key: tuple[str, str]) -> str:
        """Where the record with this (type, uid) was first seen, as `source:record`."""
        return self._by_key[key].rows[0]

    def add(self, record: Record) -> None:
        """Add a record, or fold it into the one this run already has with the same type and uid."""
        key, row = (record.type, record.uid), f"{record.source}:{record.line}"
        folded = self._by_key.get(key)
        if folded is None:
            self._by_key[key] = _Folded(record, dict(record.props), {_rel_key(r): r for r in record.rels},
                                        {name: (row, record.rank) for name in record.props}, [row])
            self._order.append(key)
            return
        folded.rows.append(row)
        for rel in record.rels:
            folded.rels.setdefault(_rel_key(rel), rel)
        for name, value in record.props.items():
            if name not in folded.props:
                folded.props[name] = value
                folded.origin[name] = (row, record.rank)
                continue
            kept = folded.props[name]
            if kept == value:
                continue
            kept_row, kept_rank = folded.origin[name]
            conflict = self._conflicts.get((*key, name))
            if conflict is None:
                conflict = self._conflicts[(*key, name)] = Conflict(record.type, record.uid, name, kept, [kept],
                                                                    [kept_row])
            if value not in conflict.values:
                conflict.values.append(value)
            conflict.rows.append(row)
            if _rank_key(record.rank) > _rank_key(kept_rank):  # only with latest_by: ranks are None otherwise
                folded.props[name] = value
                folded.origin[name] = (row, record.rank)
                conflict.kept = value

    def records(self) -> list[Record]:
        """One record per (type, uid), in the order first seen, with the folded properties and relationships."""
        out = []
        for key in self._order:
            folded = self._by_key[key]
            first = folded.record
            out.append(Record(first.type, first.uid, folded.props, tuple(folded.rels.values()), first.source,
                              first.line, first.rank))
        return out

    def conflicts(self) -> list[Conflict]:
        """Every property on which rows for one uid disagreed, with all the values and rows."""
        return list(self._conflicts.values())

    def repeated(self) -> int:
        """How many rows folded into a record seen before them."""
        return sum(len(f.rows) - 1 for f in self._by_key.values())


__all__ = ["Conflict", "RunFold"]
