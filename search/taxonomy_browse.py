"""Hierarchical browsing: the taxonomy tree with item counts at every node, and drill-down.

Items name their concept (a case's or document's topic; the category of the product it is
about) by the concept's English prefLabel. Counts come from the facet counts of a match set,
so the tree agrees with `facets=true` for the same query and filters; an item counts for its
concept and every ancestor. A `topic`/`category` filter value that names a concept (its uid,
English or Chinese prefLabel) selects that concept and all its descendants.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kcrm.foundation.errors import BadQuery
from kcrm.ontology.taxonomy import SCHEMES, Concept, load_concepts
from kcrm.search.filters import SearchFilter

if TYPE_CHECKING:
    from kcrm.search.hybrid import HybridSearch

log = logging.getLogger(__name__)

# Filter field -> the taxonomy scheme its values come from.
FIELD_SCHEME = {"topic": "topics", "category": "product-categories"}
SCHEME_FIELD = {scheme: name for name, scheme in FIELD_SCHEME.items()}


@dataclass
class TreeNode:
    """One concept with its count (its items and its descendants') and its children."""

    uid: str
    label_en: str
    label_zh: str
    count: int
    children: list[TreeNode]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, children nested."""
        return {"uid": self.uid, "label_en": self.label_en, "label_zh": self.label_zh, "count": self.count,
                "children": [child.as_dict() for child in self.children]}


class ConceptTree:
    """The concepts of both schemes, navigable by parent and child and findable by name."""

    def __init__(self, concepts: Iterable[Concept]) -> None:
        self.concepts = {c.uid: c for c in concepts}
        self.children: dict[str | None, list[str]] = {}
        self._by_name: dict[tuple[str, str], str] = {}
        for concept in self.concepts.values():  # parents before children (load_concepts order)
            self.children.setdefault(concept.broader, []).append(concept.uid)
            for name in (concept.uid, concept.label_en, concept.label_zh):
                if name:
                    self._by_name.setdefault((concept.scheme, name.strip().lower()), concept.uid)

    def find(self, scheme: str, name: str) -> str | None:
        """The uid of the concept of `scheme` named `name` (uid, English or Chinese label), if any."""
        return self._by_name.get((scheme, name.strip().lower()))

    def descendants(self, uid: str) -> list[str]:
        """`uid` and every concept below it."""
        out, stack = [], [uid]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(self.children.get(node, []))
        return out

    def roots(self, scheme: str) -> list[str]:
        """The top concepts of a scheme."""
        return [uid for uid in self.children.get(None, []) if self.concepts[uid].scheme == scheme]

    def resolve(self, flt: SearchFilter) -> SearchFilter:
        """`flt` with topic/category values that name a concept widened to it and its descendants.

        Values naming no concept stay as they are (matched by containment, as before).
        """
        fields = dict(flt.fields)
        changed = False
        for name, scheme in FIELD_SCHEME.items():
            values = fields.get(name)
            if not values:
                continue
            widened: set[str] = set()
            for value in values:
                uid = self.find(scheme, value)
                if uid is None:
                    widened.add(value)
                else:
                    widened.update(self.concepts[d].label_en.lower() for d in self.descendants(uid))
            if widened != set(values):
                fields[name], changed = frozenset(widened), True
        return SearchFilter(fields, flt.date_from, flt.date_to) if changed else flt

    def tree(self, scheme: str, counts: Mapping[str, int]) -> tuple[list[TreeNode], int]:
        """The scheme's tree with rolled-up counts from `counts` (concept English label -> items).

        Returns the roots and how many counted items named no concept of the scheme.
        """
        if scheme not in SCHEMES:
            raise BadQuery(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
        own: dict[str, int] = {}
        unplaced = 0
        for name, count in counts.items():
            uid = self.find(scheme, name)
            if uid is None:
                unplaced += count
            else:
                own[uid] = own.get(uid, 0) + count

        def build(uid: str) -> TreeNode:
            concept = self.concepts[uid]
            children = [build(child) for child in self.children.get(uid, [])]
            children.sort(key=lambda n: (-n.count, n.uid))
            total = own.get(uid, 0) + sum(child.count for child in children)
            return TreeNode(uid, concept.label_en, concept.label_zh, total, children)

        roots = sorted((build(uid) for uid in self.roots(scheme)), key=lambda n: (-n.count, n.uid))
        return roots, unplaced


@lru_cache(maxsize=1)
def default_tree() -> ConceptTree:
    """The shipped taxonomy as a tree (parsed once per process)."""
    return ConceptTree(load_concepts())


@dataclass
class Browse:
    """A scheme's tree over one match set: `total` items, `unclassified` of them outside the tree."""

    scheme: str
    total: int
    unclassified: int
    filters: SearchFilter
    nodes: list[TreeNode]


def browse(search: HybridSearch, scheme: str, query: str = "", filters: SearchFilter | None = None,
           mode: str = "hybrid", expand: bool = True, groups: list[str] | None = None) -> Browse:
    """The tree of `scheme` counted over what `query` and `filters` match (everything without them).

    The match set is the one `facets=true` counts for the same request, so a node's count is
    what drilling down to it (`topic=<uid>`) reports as `total`. `groups` trims the match set to
    what the caller may see (None: everything).
    """
    tree = default_tree()
    if scheme not in SCHEME_FIELD:
        raise BadQuery(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
    flt = filters or SearchFilter()
    if not query.strip() and flt.empty:
        everything = search.backend.browse(flt, None if groups is None else frozenset(groups), 0, True)
        counts, total = everything.facets or {}, everything.total
    else:
        page = search.page(query, k=1, mode=mode, filters=flt, facets=True, expand=expand, groups=groups)
        counts, total, flt = page.facets or {}, page.total, page.filters
    named = counts.get(SCHEME_FIELD[scheme], {})
    nodes, unplaced = tree.tree(scheme, named)
    return Browse(scheme, total, total - sum(named.values()) + unplaced, flt, nodes)
