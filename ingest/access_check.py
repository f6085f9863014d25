"""Ingest respects access groups: a caller writes only what its groups let it see.

Why (issue 13, finding 12): records are upserted by uid, so an `app` key without group G could
overwrite G's nodes (their `accessGroups` included) just by naming their uids. Each record is
checked before anything is written: a uid the graph holds under the same label but the caller
may not see is refused, and so is an `accessGroups` naming a group the caller does not hold.
The reference check and the customer resolver are trimmed the same way (`graph_lookup`,
`find_merges` take the groups), so a record can neither link to nor be merged into a node the
caller cannot see: such a node is, for it, absent. `groups=None` (CLI, admin keys with all
groups) checks nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from kcrm.kg.connection import Graph
from kcrm.kg.records import Problem, Record
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import Ontology
from kcrm.security.access import PUBLIC_GROUP

HIDDEN_UIDS = f"""
UNWIND $uids AS uid
MATCH (n:`{{label}}` {{{{uid: uid}}}}) WHERE NOT {visible("n")}
RETURN n.uid AS uid
"""
CHUNK = 5000


def assigned_groups(record: Record) -> list[str]:
    """The access groups a record sets (empty when it sets none)."""
    value = record.props.get("accessGroups")
    if value is None or value == "":
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def refuse_outside_groups(records: Sequence[Record], graph: Graph | None, ontology: Ontology,
                          groups: Sequence[str] | None) -> tuple[list[Record], list[Problem]]:
    """The records a caller seeing `groups` may write, and a problem for each one refused."""
    if groups is None:
        return list(records), []
    allowed = set(query_groups(list(groups)) or ())
    problems: list[Problem] = []
    kept: list[Record] = []
    for record in records:
        foreign = sorted(set(assigned_groups(record)) - allowed)
        if foreign:
            problems.append(Problem(record.source, record.line, record.uid, "props.accessGroups",
                                    f"this key may not assign access group(s) {', '.join(foreign)}: "
                                    f"it holds {', '.join(sorted(allowed - {PUBLIC_GROUP})) or 'none'}"))
        else:
            kept.append(record)
    hidden = _hidden(graph, ontology, kept, sorted(allowed))
    out = []
    for record in kept:
        if (record.type, record.uid) in hidden:
            problems.append(Problem(record.source, record.line, record.uid, "uid",
                                    f"{record.type} {record.uid!r} belongs to access groups this key does not "
                                    "hold: it may not be changed by this key"))
        else:
            out.append(record)
    return out, problems


def _hidden(graph: Graph | None, ontology: Ontology, records: Sequence[Record], groups: list[str]
            ) -> set[tuple[str, str]]:
    """(class, uid) of the records whose node exists but is invisible to `groups`."""
    if graph is None:
        return set()
    wanted: dict[str, set[str]] = defaultdict(set)
    for record in records:
        wanted[record.type].add(record.uid)
    found: set[tuple[str, str]] = set()
    for kind, uids in wanted.items():
        cypher = HIDDEN_UIDS.format(label=ontology.class_spec(kind).name)
        ordered = sorted(uids)
        for start in range(0, len(ordered), CHUNK):
            found.update((kind, row["uid"]) for row in graph.read(cypher, uids=ordered[start:start + CHUNK],
                                                                  groups=groups))
    return found
