"""The duplicate workflow: list possible duplicates a caller may see, merge or dismiss one, undo a merge.

Shared by `kcrm duplicates` and `/v1/duplicates`. A pair is shown only when the caller may see
both customers (a customer merged away is judged by the access groups its `mergeLog` entry
kept), so a possible duplicate never reveals a customer outside the caller's groups.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kcrm.duplicates.store import DuplicateDecided, DuplicateStore, PossiblePair
from kcrm.foundation.errors import EntityNotFound
from kcrm.kg.connection import Graph
from kcrm.kg.merge import MERGED_CLASS, MergeOutcome, log_entries, merge_nodes, unmerge
from kcrm.ontology.model import Ontology
from kcrm.security.access import PUBLIC_GROUP

log = logging.getLogger(__name__)

CUSTOMERS = """
MATCH (c:`{label}`) WHERE c.uid IN $uids
RETURN c.uid AS uid, c.name AS name, c.email AS email, c.phone AS phone, c.source AS source,
       c.accessGroups AS groups, c.mergeLog AS mergeLog
"""


@dataclass(frozen=True)
class Side:
    """One customer of a pair as the caller sees it."""

    uid: str
    name: str | None
    email: str | None
    phone: str | None
    source: str | None
    exists: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _may_see(groups: list[str] | None, item_groups: Any) -> bool:
    if groups is None:
        return True
    wanted = set(item_groups or ())
    return not wanted or PUBLIC_GROUP in wanted or bool(wanted & set(groups))


def _sides(graph: Graph, ontology: Ontology, uids: set[str]) -> dict[str, tuple[Side, Any]]:
    """Each uid as a Side with its access groups; one merged away is read from its kept node's mergeLog."""
    label = ontology.class_spec(MERGED_CLASS).name
    rows = graph.read(CUSTOMERS.format(label=label), uids=sorted(uids))
    out: dict[str, tuple[Side, Any]] = {}
    for row in rows:
        out[row["uid"]] = (Side(row["uid"], row["name"], row["email"], row["phone"], row["source"], True),
                           row["groups"])
    for row in rows:
        for entry in log_entries(row["mergeLog"]):
            uid, props = entry.get("merged"), entry.get("props") or {}
            if uid in uids and uid not in out:
                out[uid] = (Side(uid, props.get("name"), props.get("email"), props.get("phone"),
                                 entry.get("source"), False), props.get("accessGroups"))
    return out


def visible_pairs(graph: Graph, ontology: Ontology, store: DuplicateStore, groups: list[str] | None,
                  status: str | None = "open", uid: str | None = None) -> list[dict[str, Any]]:
    """The pairs (with both customers) the caller may see; `groups` None sees everything."""
    pairs = store.list(status, uid)
    sides = _sides(graph, ontology, {u for p in pairs for u in (p.existing, p.incoming)})
    out = []
    for pair in pairs:
        known = [sides.get(pair.existing), sides.get(pair.incoming)]
        if any(k is None for k in known) or not all(_may_see(groups, k[1]) for k in known):  # type: ignore[index]
            continue
        out.append({**pair.as_dict(), "customers": [k[0].as_dict() for k in known]})  # type: ignore[index]
    return out


def visible_pair(graph: Graph, ontology: Ontology, store: DuplicateStore, pair: str,
                 groups: list[str] | None) -> PossiblePair:
    """One pair, or EntityNotFound when it does not exist or the caller may not see both customers."""
    found = store.get(pair)
    if not any(p["id"] == pair for p in visible_pairs(graph, ontology, store, groups, found.status,
                                                         found.existing)):
        raise EntityNotFound(f"no possible duplicate {pair!r}")
    return found


def merge_pair(graph: Graph, ontology: Ontology, store: DuplicateStore, pair: str, by: str,
               groups: list[str] | None = None) -> MergeOutcome:
    """A person decided the two are one: the incoming customer folds into the existing one (undoable)."""
    found = visible_pair(graph, ontology, store, pair, groups)
    if found.status != "open":
        raise DuplicateDecided(f"possible duplicate {pair} is already {found.status}")
    outcome = merge_nodes(graph, ontology, found.existing, found.incoming, "manual", found.score, by,
                          evidence=found.evidence)
    store.decide(pair, "merged", by)
    return outcome


def dismiss_pair(graph: Graph, ontology: Ontology, store: DuplicateStore, pair: str, by: str,
                 groups: list[str] | None = None) -> PossiblePair:
    """A person decided the two are different customers: never suggested or merged again."""
    visible_pair(graph, ontology, store, pair, groups)
    return store.decide(pair, "dismissed", by)


def unmerge_pair(graph: Graph, ontology: Ontology, store: DuplicateStore, keep: str, merged: str,
                 by: str) -> MergeOutcome:
    """Undo a merge (manual or automatic) from the kept node's mergeLog; the pair is then kept apart."""
    outcome = unmerge(graph, ontology, keep, merged)
    store.record_unmerge(keep, merged, by)
    return outcome


__all__ = ["Side", "dismiss_pair", "merge_pair", "unmerge_pair", "visible_pair", "visible_pairs"]
