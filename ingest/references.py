"""The reference check: a record is kept only if every node it points at exists, in the run or the graph.

Dropping a record can leave others pointing at nothing, so the check repeats until nothing more
is dropped; the graph is asked once per missing uid (in chunks). Each dropped record or link gets
a problem naming the relationship and the uid that was not found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from kcrm.kg.connection import Graph
from kcrm.kg.records import Link, Problem, Record
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import Ontology

# Trimmed by the caller's $groups (null: everything): a node the caller may not see is, for its
# records, absent (`kcrm.ingest.access_check`).
EXISTING_UIDS = f"UNWIND $uids AS uid MATCH (n:`{{label}}` {{{{uid: uid}}}}) WHERE {visible('n')} RETURN n.uid AS uid"
CHUNK = 5000
Lookup = Callable[[dict[str, set[str]]], set[tuple[str, str]]]


def graph_lookup(graph: Graph | None, ontology: Ontology, groups: Sequence[str] | None = None) -> Lookup:
    """Which of the wanted (class, uid)s exist in the graph, among those a caller seeing `groups` may
    see (None: all); without a graph (dry run) all are assumed to."""
    trim = query_groups(list(groups)) if groups is not None else None

    def lookup(wanted: dict[str, set[str]]) -> set[tuple[str, str]]:
        if graph is None:
            return {(label, uid) for label, uids in wanted.items() for uid in uids}
        found: set[tuple[str, str]] = set()
        for label, uids in wanted.items():
            cypher = EXISTING_UIDS.format(label=ontology.class_spec(label).name)
            ordered = sorted(uids)
            for start in range(0, len(ordered), CHUNK):
                found.update((label, row["uid"]) for row in graph.read(cypher, uids=ordered[start:start + CHUNK],
                                                                                  groups=trim))
        return found

    return lookup


def check_references(records: list[Record], links: list[Link], lookup: Lookup
                     ) -> tuple[list[Record], list[Link], list[Problem]]:
    """The records and links whose ends all exist, and a problem for each one dropped."""
    known: set[tuple[str, str]] = set()
    checked: set[tuple[str, str]] = set()
    problems: list[Problem] = []
    while True:
        produced = {(r.type, r.uid) for r in records}
        ends = {(rel.other_type, rel.other_uid) for r in records for rel in r.rels}
        ends |= {(l.start_type, l.start_uid) for l in links} | {(l.end_type, l.end_uid) for l in links}
        wanted: dict[str, set[str]] = defaultdict(set)
        for label, uid in ends - produced - checked:
            wanted[label].add(uid)
        known |= lookup(wanted)
        checked |= ends - produced
        present = produced | known
        bad_records = [r for r in records if any((x.other_type, x.other_uid) not in present for x in r.rels)]
        bad_links = [l for l in links
                     if (l.start_type, l.start_uid) not in present or (l.end_type, l.end_uid) not in present]
        if not bad_records and not bad_links:
            return records, links, problems
        for rec in bad_records:
            rel = next(x for x in rec.rels if (x.other_type, x.other_uid) not in present)
            problems.append(Problem(rec.source, rec.line, rec.uid, f"rels.{rel.type}",
                                    f"no {rel.other_type} with uid {rel.other_uid!r} in this run or in the graph"))
        for link in bad_links:
            end_type, end_uid = ((link.start_type, link.start_uid) if (link.start_type, link.start_uid)
                                 not in present else (link.end_type, link.end_uid))
            problems.append(Problem(link.source, link.line, f"{link.start_uid}->{link.end_uid}", f"rels.{link.type}",
                                    f"no {end_type} with uid {end_uid!r} in this run or in the graph"))
        dropped = {id(x) for x in bad_records} | {id(x) for x in bad_links}
        records = [r for r in records if id(r) not in dropped]
        links = [l for l in links if id(l) not in dropped]


__all__ = ["EXISTING_UIDS", "check_references", "graph_lookup"]
