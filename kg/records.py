"""The record form every source is turned into before it reaches the graph.

One JSON object per entity: `{"type", "uid", "props", "rels"}`, where each rel names the other
end with exactly one of `to`/`from` plus its class (`to_type`/`from_type`) and may carry `props`.
The shipped sample is written in this form, one JSON Lines file per class.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RelRef:
    """One relationship as seen from the record that declares it."""

    type: str
    other_uid: str
    other_type: str
    outgoing: bool
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """One entity with its properties and relationships, and where it came from."""

    type: str
    uid: str
    props: dict[str, Any]
    rels: tuple[RelRef, ...]
    source: str
    line: int
    rank: str | None = None  # the mapping's `latest_by` value: which of several rows for one uid is newest


@dataclass(frozen=True)
class Link:
    """A relationship declared on its own (an order line), between nodes that other records create."""

    type: str
    start_uid: str
    start_type: str
    end_uid: str
    end_type: str
    props: dict[str, Any]
    source: str
    line: int


@dataclass(frozen=True)
class Problem:
    """Why a record (or one of its fields) was rejected: which source, which record, which field."""

    source: str
    line: int
    uid: str
    field: str
    reason: str
    locator: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {"source": self.source, "line": self.line, "uid": self.uid, "field": self.field, "reason": self.reason}
        if self.locator:
            out["locator"] = self.locator
        return out


def _rel_from_json(raw: Any) -> RelRef:
    if not isinstance(raw, dict):
        raise ValueError("a rel must be an object")
    has_to, has_from = "to" in raw, "from" in raw
    if has_to == has_from:
        raise ValueError("a rel needs exactly one of 'to' or 'from'")
    end = "to" if has_to else "from"
    uid, other_type = raw.get(end), raw.get(f"{end}_type")
    if not isinstance(uid, str) or not uid or not isinstance(other_type, str) or not other_type:
        raise ValueError(f"a rel needs string '{end}' and '{end}_type'")
    if not isinstance(raw.get("type"), str):
        raise ValueError("a rel needs a string 'type'")
    props = raw.get("props") or {}
    if not isinstance(props, dict):
        raise ValueError("rel 'props' must be an object")
    return RelRef(type=raw["type"], other_uid=uid, other_type=other_type, outgoing=has_to, props=props)


def record_from_json(raw: Any, source: str, line: int) -> Record:
    """Build a `Record` from one decoded JSON value; ValueError says what is malformed."""
    if not isinstance(raw, dict):
        raise ValueError("a record must be a JSON object")
    unknown = set(raw) - {"type", "uid", "props", "rels"}
    if unknown:
        raise ValueError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    rtype, uid = raw.get("type"), raw.get("uid")
    if not isinstance(rtype, str) or not rtype:
        raise ValueError("missing string 'type'")
    if not isinstance(uid, str) or not uid.strip():
        raise ValueError("missing string 'uid'")
    props = raw.get("props") or {}
    if not isinstance(props, dict):
        raise ValueError("'props' must be an object")
    rels = raw.get("rels") or []
    if not isinstance(rels, list):
        raise ValueError("'rels' must be a list")
    return Record(type=rtype, uid=uid.strip(), props=props, rels=tuple(_rel_from_json(r) for r in rels),
                  source=source, line=line)


def read_jsonl(path: Path) -> Iterator[Record | Problem]:
    """Yield each line of a JSON Lines file as a Record, or a Problem where the line is malformed."""
    source = path.name
    with path.open("r", encoding="utf-8-sig", errors="strict") as handle:
        line_no = 0
        while True:
            try:
                text = handle.readline()
            except UnicodeDecodeError as exc:
                yield Problem(source, line_no + 1, "", "", f"not UTF-8: {exc.reason} at byte {exc.start}")
                return
            if not text:
                return
            line_no += 1
            if not text.strip():
                continue
            raw: Any = None
            try:
                raw = json.loads(text)
                yield record_from_json(raw, source, line_no)
            except (json.JSONDecodeError, ValueError) as exc:
                uid = raw.get("uid", "") if isinstance(raw, dict) else ""
                yield Problem(source, line_no, str(uid), "", str(exc))
