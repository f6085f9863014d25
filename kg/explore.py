"""Graph exploration without Cypher: an entity's neighbours by relationship type, and explaining paths.

Relationship types and directions asked for are checked against the ontology before they reach a
query (and even then go in as parameters); hop bounds are validated integers picking one of a
few fixed query texts, since Cypher cannot take a path length as a parameter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from kcrm.foundation.errors import BadQuery, EntityNotFound
from kcrm.kg.connection import Graph
from kcrm.kg.field_access import mined_params, node_properties, not_mined
from kcrm.kg.visibility import path_visible, query_groups, visible
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

Direction = Literal["out", "in"]
MAX_HOPS = 4
MAX_PATHS = 20
_O = load_ontology()
_HIDDEN = ("contentHash", "sourceRecord", "ingestedAt", "updatedAt", "source")


def _find(var: str, param: str, carry: str = "") -> str:
    """A subquery finding the node whose uid is $param under any ontology label (each uses its uid index)."""
    branches = " UNION ".join(f"MATCH ({var}:{_O.class_spec(name).name} {{uid: ${param}}}) RETURN {var}"
                              for name in sorted(_O.classes))
    return f"CALL () {{ {branches} }} WITH {carry}{var} LIMIT 1"


# Trimmed by the caller's $groups (null: none): an invisible node is not found, and invisible
# neighbours are neither listed nor counted; a path never runs through an invisible node. What
# mining wrote (mined segments, RECOMMENDED and mined IN_SEGMENT edges) is invisible in the same
# way to a caller without `$minedOk` (`kg.field_access`).
NEIGHBOURS_QUERY = f"""
{_find("n", "uid")}
WITH n WHERE {visible("n")} AND {not_mined("n")}
OPTIONAL CALL (n) {{
  MATCH (n)-[r]->(m) WHERE ($type IS NULL OR type(r) = $type) AND coalesce($direction, 'out') = 'out'
    AND {visible("m")} AND {not_mined("r")} AND {not_mined("m")}
  RETURN type(r) AS type, 'out' AS direction, r, m
  UNION ALL
  MATCH (n)<-[r]-(m) WHERE ($type IS NULL OR type(r) = $type) AND coalesce($direction, 'in') = 'in'
    AND {visible("m")} AND {not_mined("r")} AND {not_mined("m")}
  RETURN type(r) AS type, 'in' AS direction, r, m
}}
WITH n, type, direction, r, m ORDER BY type, direction, m.uid
WITH n, type, direction, count(m) AS total,
     collect({{uid: m.uid, labels: labels(m), name: coalesce(m.name, m.title), edge: properties(r)}}) AS all
RETURN n{{.*}} AS node, labels(n) AS labels,
       collect(CASE WHEN total > 0 THEN {{type: type, direction: direction, total: total,
                                        items: all[$offset..$offset + $limit]}} END) AS groups
"""

PATH_QUERIES = {hops: f"""
{_find("a", "source")}
{_find("b", "target", carry="a, ")}
MATCH p = allShortestPaths((a)-[*..{hops}]-(b))
WHERE {path_visible("p")} AND all(x IN nodes(p) WHERE {not_mined("x")})
  AND all(r IN relationships(p) WHERE {not_mined("r")})
RETURN [x IN nodes(p) | {{uid: x.uid, labels: labels(x), name: coalesce(x.name, x.title)}}] AS nodes,
       [r IN relationships(p) | {{type: type(r), start: startNode(r).uid, end: endNode(r).uid}}] AS relationships
LIMIT $limit
""" for hops in range(1, MAX_HOPS + 1)}

ENDPOINTS_QUERY = f"""
OPTIONAL CALL () {{ {_find("a", "source")} RETURN a }}
OPTIONAL CALL () {{ {_find("b", "target")} RETURN b }}
RETURN a IS NOT NULL AND {visible("a")} AND {not_mined("a")} AS source,
       b IS NOT NULL AND {visible("b")} AND {not_mined("b")} AS target
"""


@dataclass
class NeighbourGroup:
    """The neighbours along one relationship type in one direction: total, and one page of them."""

    type: str
    direction: str
    total: int
    items: list[dict[str, Any]]


@dataclass
class EntityView:
    """A node's properties and labels, with its neighbourhood grouped by relationship."""

    uid: str
    labels: list[str]
    properties: dict[str, Any]
    groups: list[NeighbourGroup] = field(default_factory=list)


@dataclass
class GraphPath:
    """One shortest path: its nodes in order and the relationships between them (with their direction)."""

    nodes: list[dict[str, Any]]
    relationships: list[dict[str, Any]]

    @property
    def length(self) -> int:
        return len(self.relationships)


def check_relationship(rel_type: str | None) -> str | None:
    """The type itself when the ontology has it; OntologyError (422) otherwise."""
    return _O.relationship(rel_type).type if rel_type else None


def entity(graph: Graph, uid: str, rel_type: str | None = None, direction: Direction | None = None,
           limit: int = 20, offset: int = 0, groups: list[str] | None = None, mined: bool = True) -> EntityView:
    """The node `uid` with one page of neighbours per (relationship type, direction).

    `groups` trims to what the caller may see (None: everything): an invisible node is
    EntityNotFound, like an absent one; invisible neighbours are neither listed nor counted.
    Without `mined` (`kg.field_access.reads_mined`) what mining wrote is invisible the same way,
    and mined properties are dropped from the node.
    """
    if direction not in (None, "out", "in"):
        raise BadQuery(f"direction must be 'out' or 'in', not {direction!r}")
    if limit < 1 or offset < 0:
        raise BadQuery("limit must be at least 1 and offset at least 0")
    rows = graph.read(NEIGHBOURS_QUERY, uid=uid, type=check_relationship(rel_type), direction=direction,
                      limit=limit, offset=offset, groups=query_groups(groups), **mined_params(mined))
    if not rows:
        raise EntityNotFound(f"no entity with uid {uid!r} in the graph")
    row = rows[0]
    props = node_properties({k: v for k, v in row["node"].items() if k not in _HIDDEN}, mined)
    found = [NeighbourGroup(**g) for g in row["groups"]]
    for group in found:
        for item in group.items:
            item["edge"] = {k: v for k, v in (item["edge"] or {}).items() if k not in _HIDDEN}
    return EntityView(uid=uid, labels=row["labels"], properties=props, groups=found)


def paths(graph: Graph, source: str, target: str, max_hops: int = 3, limit: int = 5,
          groups: list[str] | None = None, mined: bool = True) -> list[GraphPath]:
    """The shortest paths between two entities, no longer than `max_hops` (at most 4), at most `limit`.

    With `groups` (the caller's), only paths whose every node the caller may see; an invisible
    endpoint is EntityNotFound, like an absent one. Without `mined`, no path runs through what
    mining wrote (a RECOMMENDED edge would reveal a recommendation).
    """
    if not 1 <= max_hops <= MAX_HOPS:
        raise BadQuery(f"max_hops must be between 1 and {MAX_HOPS}, not {max_hops}")
    if not 1 <= limit <= MAX_PATHS:
        raise BadQuery(f"limit must be between 1 and {MAX_PATHS}, not {limit}")
    if source == target:
        raise BadQuery("from and to must be different entities")
    trim = query_groups(groups)
    found = graph.read(ENDPOINTS_QUERY, source=source, target=target, groups=trim, **mined_params(mined))[0]
    for name, uid in (("source", source), ("target", target)):
        if not found[name]:
            raise EntityNotFound(f"no entity with uid {uid!r} in the graph ({'from' if name == 'source' else 'to'})")
    rows = graph.read(PATH_QUERIES[max_hops], source=source, target=target, limit=limit, groups=trim,
                      **mined_params(mined))
    return [GraphPath(nodes=r["nodes"], relationships=r["relationships"]) for r in rows]
