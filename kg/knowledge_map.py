"""The knowledge map: for each topic of the SKOS taxonomy, where its knowledge sits, and its gaps.

Why: an employee anywhere should see which topics are well documented, which live only in
resolved cases, and which have nobody left who knows them (issue 21). Per topic (a broader
topic covers its narrower ones) the map counts:

- **documents** filed under it, with the newest and oldest publication date and their age;
- **resolved cases** (status resolved or closed) filed under it;
- **people with evidence**: who resolved those cases or wrote those documents, and when last.

and flags three gaps:

- `cases_without_documents`: at least `min_cases` resolved cases and no document at all: the
  know-how lives only in case notes;
- `outdated_documents`: a document about a product published before that product's newest
  release. The ontology has no version property; release notes (`docType` "release-notes",
  `ABOUT_PRODUCT`) are how the data records versions, so the newest release notes date the
  product's current version. Release notes themselves are not flagged;
- `no_active_expert`: nobody has evidence on the topic dated within `active_days` of `as_of`
  (no one with evidence at all counts too).

Trimmed like every surface (`kcrm.kg.visibility`): restricted documents, cases, products and
employees neither count nor appear, so a count or a gap cannot reveal them. The rollup and the
gap rules are pure functions, tested without Neo4j.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from kcrm.foundation.errors import EntityNotFound
from kcrm.kg.connection import Graph
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

_O = load_ontology()
EMPLOYEE, TOPIC, CASE, DOC, PRODUCT = (_O.class_spec(n).name for n in ("Employee", "Topic", "SupportCase", "Document",
                                                                      "Product"))
RESOLVED_BY, AUTHORED, HAS_TOPIC, ABOUT_PRODUCT, BROADER = (
    _O.relationship(t).type for t in ("RESOLVED_BY", "AUTHORED", "HAS_TOPIC", "ABOUT_PRODUCT", "BROADER"))
DONE_STATUSES = ["resolved", "closed"]
RELEASE_NOTES = "release-notes"
MIN_CASES = 5
ACTIVE_DAYS = 365
SHOWN = 5  # documents, people and outdated documents listed per topic (counts are not capped)
GAPS = ("cases_without_documents", "outdated_documents", "no_active_expert")

TOPICS_QUERY = f"""
MATCH (t:{TOPIC}) WHERE {visible('t')}
OPTIONAL MATCH (t)-[:{BROADER}]->(p:{TOPIC})
RETURN t.uid AS uid, t.name AS name, t.nameZh AS nameZh, collect(p.uid) AS broader
"""

DOCUMENTS_QUERY = f"""
MATCH (d:{DOC})-[:{HAS_TOPIC}]->(t:{TOPIC}) WHERE {visible('d')}
RETURN t.uid AS topic, d.uid AS uid, d.title AS title, toString(d.publishedAt) AS at, d.docType AS docType,
       COLLECT {{ MATCH (d)-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) WHERE {visible('p')} RETURN p.uid }} AS products,
       COLLECT {{ MATCH (e:{EMPLOYEE})-[:{AUTHORED}]->(d) WHERE {visible('e')} RETURN e.uid }} AS people
"""

CASES_QUERY = f"""
MATCH (c:{CASE})-[:{HAS_TOPIC}]->(t:{TOPIC}) WHERE c.status IN $done AND {visible('c')}
RETURN t.uid AS topic, c.uid AS uid, toString(coalesce(c.closedAt, c.openedAt)) AS at,
       COLLECT {{ MATCH (c)-[:{RESOLVED_BY}]->(e:{EMPLOYEE}) WHERE {visible('e')} RETURN e.uid }} AS people
"""

RELEASES_QUERY = f"""
MATCH (d:{DOC})-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) WHERE d.docType = $release AND {visible('d')} AND {visible('p')}
WITH p, d ORDER BY d.publishedAt DESC, d.uid
RETURN p.uid AS product, collect(d.uid)[0] AS uid, toString(collect(d.publishedAt)[0]) AS at
"""

EMPLOYEES_QUERY = f"MATCH (e:{EMPLOYEE}) WHERE {visible('e')} RETURN e.uid AS uid, e.name AS name, e.team AS team"


@dataclass(frozen=True)
class Item:
    """A document or resolved case filed under a topic, with the people it is evidence for."""

    uid: str
    type: str
    at: str | None
    people: tuple[str, ...] = ()
    title: str = ""
    doc_type: str = ""
    products: tuple[str, ...] = ()


@dataclass(frozen=True)
class Release:
    """The newest release notes of a product: they date its current version."""

    product: str
    uid: str
    at: str


@dataclass(frozen=True)
class Concept:
    """A topic of the taxonomy with its labels and broader topics."""

    uid: str
    label_en: str
    label_zh: str
    broader: tuple[str, ...] = ()


@dataclass
class MapNode:
    """One topic on the map: its knowledge, rolled up over its narrower topics, and its gaps."""

    uid: str
    label_en: str
    label_zh: str
    documents: int
    newest_document: str | None
    oldest_document: str | None
    newest_document_age_days: int | None
    resolved_cases: int
    latest_case: str | None
    people: int
    active_people: int
    gaps: list[str]
    document_list: list[dict[str, Any]] = field(default_factory=list)
    experts: list[dict[str, Any]] = field(default_factory=list)
    outdated: list[dict[str, Any]] = field(default_factory=list)
    children: list[MapNode] = field(default_factory=list)


@dataclass
class KnowledgeMap:
    """The map from `roots` down, with how many topics show each gap."""

    as_of: str
    active_days: int
    min_cases: int
    topics: int
    gap_counts: dict[str, int]
    roots: list[MapNode]


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def outdated(doc: Item, releases: Mapping[str, Release]) -> list[dict[str, Any]]:
    """The releases of the document's products that are newer than the document (none for release notes)."""
    if doc.doc_type == RELEASE_NOTES or not doc.at:
        return []
    out = []
    for product in doc.products:
        release = releases.get(product)
        if release and release.at[:10] > doc.at[:10]:
            out.append({"uid": doc.uid, "title": doc.title, "published": doc.at[:10], "product": product,
                        "release": release.uid, "released": release.at[:10]})
    return out


def subtree(uid: str, children: Mapping[str, list[str]]) -> set[str]:
    """`uid` and every topic narrower than it (cycles are harmless)."""
    seen: set[str] = set()
    stack = [uid]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(children.get(node, ()))
    return seen


def build_node(concept: Concept, topics: set[str], docs: Mapping[str, list[Item]], cases: Mapping[str, list[Item]],
               releases: Mapping[str, Release], people: Mapping[str, Mapping[str, Any]], as_of: date,
               active_days: int = ACTIVE_DAYS, min_cases: int = MIN_CASES) -> MapNode:
    """The map entry of `concept` over the items filed under any topic in `topics` (its subtree)."""
    doc_items = {d.uid: d for t in topics for d in docs.get(t, ())}
    case_items = {c.uid: c for t in topics for c in cases.get(t, ())}
    latest: dict[str, str] = {}
    count: dict[str, int] = defaultdict(int)
    for item in (*doc_items.values(), *case_items.values()):
        for person in item.people:
            count[person] += 1
            if item.at and item.at[:10] > latest.get(person, ""):
                latest[person] = item.at[:10]
    since = (as_of - min(timedelta(days=active_days), as_of - date.min)).isoformat()
    active = {p for p, day in latest.items() if day >= since}
    dates = sorted(d.at[:10] for d in doc_items.values() if d.at)
    newest = dates[-1] if dates else None
    stale = sorted((o for d in doc_items.values() for o in outdated(d, releases)),
                   key=lambda o: (o["published"], o["uid"], o["product"]))
    gaps = []
    if len(case_items) >= min_cases and not doc_items:
        gaps.append("cases_without_documents")
    if stale:
        gaps.append("outdated_documents")
    if not active:
        gaps.append("no_active_expert")
    newest_day = _day(newest)
    shown_docs = sorted(doc_items.values(), key=lambda d: (d.at or "", d.uid), reverse=True)[:SHOWN]
    ranked = sorted(count, key=lambda p: (-count[p], p))[:SHOWN]
    return MapNode(
        uid=concept.uid, label_en=concept.label_en, label_zh=concept.label_zh, documents=len(doc_items),
        newest_document=newest, oldest_document=dates[0] if dates else None,
        newest_document_age_days=(as_of - newest_day).days if newest_day else None,
        resolved_cases=len(case_items), latest_case=max((c.at[:10] for c in case_items.values() if c.at), default=None),
        people=len(count), active_people=len(active), gaps=gaps,
        document_list=[{"uid": d.uid, "title": d.title, "type": d.doc_type, "published": (d.at or "")[:10] or None,
                        "age_days": (as_of - day).days if (day := _day(d.at)) else None} for d in shown_docs],
        experts=[{"uid": p, "name": (people.get(p) or {}).get("name") or "", "items": count[p],
                  "latest": latest.get(p), "active": p in active} for p in ranked],
        outdated=stale[:SHOWN])


def build_map(concepts: Iterable[Concept], docs: Mapping[str, list[Item]], cases: Mapping[str, list[Item]],
              releases: Mapping[str, Release], people: Mapping[str, Mapping[str, Any]], as_of: date,
              root: str | None = None, active_days: int = ACTIVE_DAYS, min_cases: int = MIN_CASES) -> KnowledgeMap:
    """The map below `root` (None: every top concept), each node rolled up over its subtree.

    EntityNotFound when `root` is not a topic.
    """
    by_uid = {c.uid: c for c in concepts}
    children: dict[str, list[str]] = defaultdict(list)
    for c in by_uid.values():
        for parent in c.broader:
            if parent in by_uid:
                children[parent].append(c.uid)
    if root is not None and root not in by_uid:
        raise EntityNotFound(f"no topic with uid {root!r} in the graph")
    tops = [root] if root else sorted(u for u, c in by_uid.items() if not any(p in by_uid for p in c.broader))
    gap_topics: dict[str, set[str]] = {g: set() for g in GAPS}
    seen: set[str] = set()

    def node(uid: str, path: frozenset[str]) -> MapNode:
        entry = build_node(by_uid[uid], subtree(uid, children), docs, cases, releases, people, as_of,
                           active_days, min_cases)
        seen.add(uid)
        for gap in entry.gaps:
            gap_topics[gap].add(uid)
        entry.children = [node(child, path | {uid}) for child in sorted(children.get(uid, ())) if child not in path]
        return entry

    roots = [node(uid, frozenset()) for uid in tops]
    return KnowledgeMap(as_of=as_of.isoformat(), active_days=active_days, min_cases=min_cases, topics=len(seen),
                        gap_counts={g: len(u) for g, u in gap_topics.items()}, roots=roots)


def read_map(graph: Graph, groups: list[str] | None, as_of: date, root: str | None = None,
             active_days: int = ACTIVE_DAYS, min_cases: int = MIN_CASES) -> KnowledgeMap:
    """The knowledge map as a caller seeing `groups` (None: everything) may see it, in four graph reads."""
    params = {"groups": query_groups(groups)}
    concepts = [Concept(uid=r["uid"], label_en=r["name"] or r["uid"], label_zh=r["nameZh"] or r["name"] or r["uid"],
                        broader=tuple(r["broader"])) for r in graph.read(TOPICS_QUERY, **params)]
    docs: dict[str, list[Item]] = defaultdict(list)
    for r in graph.read(DOCUMENTS_QUERY, **params):
        docs[r["topic"]].append(Item(uid=r["uid"], type=DOC, at=r["at"], people=tuple(r["people"]),
                                     title=r["title"] or "", doc_type=r["docType"] or "", products=tuple(r["products"])))
    cases: dict[str, list[Item]] = defaultdict(list)
    for r in graph.read(CASES_QUERY, done=DONE_STATUSES, **params):
        cases[r["topic"]].append(Item(uid=r["uid"], type=CASE, at=r["at"], people=tuple(r["people"])))
    releases = {r["product"]: Release(product=r["product"], uid=r["uid"], at=r["at"])
                for r in graph.read(RELEASES_QUERY, release=RELEASE_NOTES, **params) if r["at"]}
    people = {r["uid"]: r for r in graph.read(EMPLOYEES_QUERY, **params)}
    return build_map(concepts, docs, cases, releases, people, as_of, root, active_days, min_cases)
