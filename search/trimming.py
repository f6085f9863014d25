"""Security trimming of search: which indexed items a caller's access groups let it see.

Each item's `accessGroups` (stored in its record's meta by `from_graph`) becomes a small integer
code per distinct group set, so the visibility of every item for a caller is one `np.isin`, and
the mask joins the field filters before ranking and counting: hits, totals, facets, the date
histogram and taxonomy counts are computed over visible items only, as if the others did not
exist. The rule is `kcrm.security.access`'s: no groups, or "public" among them, is visible to everyone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np

from kcrm.search.vector_index import ChunkRecord
from kcrm.security.access import PUBLIC_GROUP

GROUPS_KEY = "accessGroups"


def item_groups(meta: dict[str, object]) -> frozenset[str]:
    """The access groups an item's meta names (empty: no restriction)."""
    value = meta.get(GROUPS_KEY)
    if value is None or value == "":
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(str(v) for v in value if isinstance(v, str))  # type: ignore[union-attr,attr-defined]


def is_public(groups: frozenset[str]) -> bool:
    """True when an item with these groups is visible to every caller."""
    return not groups or PUBLIC_GROUP in groups


def visible_to(item: frozenset[str], groups: Iterable[str] | None) -> bool:
    """True when an item with groups `item` may be shown to a caller seeing `groups` (None: all)."""
    return groups is None or is_public(item) or bool(item & set(groups))


class GroupColumn:
    """Access groups of every record, as codes aligned with the records they came from."""

    def __init__(self, records: Sequence[ChunkRecord]) -> None:
        sets: dict[frozenset[str], int] = {}
        self.codes = np.fromiter((sets.setdefault(item_groups(r.meta), len(sets)) for r in records),
                                 dtype=np.int32, count=len(records))
        self.sets = list(sets)
        self.restricted = any(not is_public(s) for s in self.sets)
        self._masks: dict[frozenset[str], np.ndarray | None] = {}
        self._lock = threading.Lock()

    def mask(self, groups: Iterable[str] | None) -> np.ndarray | None:
        """Which records a caller seeing `groups` may see; None when it may see them all."""
        if groups is None or not self.restricted:
            return None
        key = frozenset(groups)
        with self._lock:
            if key in self._masks:
                return self._masks[key]
        allowed = [code for code, item in enumerate(self.sets) if visible_to(item, key)]
        mask = None if len(allowed) == len(self.sets) else np.isin(self.codes, allowed)
        with self._lock:
            self._masks[key] = mask
        return mask


def combine(*masks: np.ndarray | None) -> np.ndarray | None:
    """The AND of the masks given (None stands for all-true)."""
    out: np.ndarray | None = None
    for mask in masks:
        if mask is not None:
            out = mask if out is None else out & mask
    return out
