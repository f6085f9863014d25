"""A per-process cache of the graph facts that change only when data is ingested.

Expert finding and the case assistant read the same slowly changing facts on every request:
employee profiles (skills, ownership, case counts), the topic taxonomy, the dictionary of product
and customer names. They are cached here under the graph's watermark: the newest `updatedAt`
(the loader stamps every node it writes or rewrites) and the node count of the labels these facts
come from. A load that adds, changes or prunes any such node moves the watermark, and the next
request rebuilds what it needs.

Reading the watermark is itself a scan, so it is re-read at most every `check_every_s` seconds:
after an ingest commits, answers reflect it within that time (1 s by default). `invalidate()`
drops everything at once (tests, or a caller that has just written).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kcrm.kg.connection import Graph
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

T = TypeVar("T")
_O = load_ontology()
WATCHED = tuple(_O.class_spec(n).name for n in ("Employee", "SupportCase", "Document", "Product", "Customer", "Topic"))
WATERMARK_QUERY = ("MATCH (n) WHERE " + " OR ".join(f"n:{label}" for label in WATCHED)
                   + " RETURN max(n.updatedAt) AS mark, count(n) AS n")
CHECK_EVERY_S = 1.0


@dataclass
class _Entry:
    mark: str
    checked_at: float
    values: dict[str, Any] = field(default_factory=dict)


_lock = threading.Lock()
_entries: dict[str, _Entry] = {}
stats = {"hits": 0, "loads": 0, "watermark_reads": 0}
_enabled = True


def graph_key(graph: Graph) -> str:
    """Which database a cache entry belongs to (one process may talk to several)."""
    return f"{getattr(graph, 'uri', id(graph))}|{getattr(graph, 'database', '')}"


def watermark(graph: Graph) -> str:
    """Newest `updatedAt` and node count over the watched labels."""
    row = graph.read(WATERMARK_QUERY)[0]
    stats["watermark_reads"] += 1
    return f"{row['mark'] or ''}|{row['n']}"


def _entry(graph: Graph, check_every_s: float) -> _Entry:
    key, now = graph_key(graph), time.monotonic()
    with _lock:
        entry = _entries.get(key)
    if entry is not None and now - entry.checked_at < check_every_s:
        return entry
    mark = watermark(graph)
    with _lock:
        entry = _entries.get(key)
        if entry is None or entry.mark != mark:
            if entry is not None:
                log.info("graph changed (%s -> %s): cached facts dropped", entry.mark, mark)
            entry = _Entry(mark=mark, checked_at=now)
            _entries[key] = entry
        else:
            entry.checked_at = now
        return entry


def cached(graph: Graph, name: str, load: Callable[[], T], check_every_s: float = CHECK_EVERY_S) -> T:
    """The value `load()` returns for this graph, recomputed only after the watermark moved."""
    if not _enabled:
        return load()
    entry = _entry(graph, check_every_s)
    with _lock:
        if name in entry.values:
            stats["hits"] += 1
            return entry.values[name]
    value = load()
    with _lock:
        entry.values[name] = value
        stats["loads"] += 1
    return value


@contextmanager
def disabled() -> Iterator[None]:
    """Within this block every `cached` call loads afresh (benchmarks compare with and without)."""
    global _enabled
    _enabled = False
    try:
        yield
    finally:
        _enabled = True


def invalidate(graph: Graph | None = None) -> None:
    """Forget the cached facts of one graph, or of every graph."""
    with _lock:
        if graph is None:
            _entries.clear()
        else:
            _entries.pop(graph_key(graph), None)
