"""Knowledge at risk: which topics, products and customers depend on one person.

Why: when a key employee leaves, the customer knowledge only they hold leaves with them (issue 21).
The graph already records who holds which know-how; this module counts it, per subject:

- **evidence** is what the graph can show, not what people claim: a resolved or closed case
  (`RESOLVED_BY`) and an authored document (`AUTHORED`) count for the topics they are filed
  under (and every broader topic), the product they are about and the customer who raised the
  case; owning an account or a product (`OWNS`) counts once for that customer or product.
  Declared skills (`HAS_SKILL`) are not evidence here: they are self-reported and say nothing
  about what was done. They still help pick the next best person (expert finding uses them).
- **top share**: the share of a subject's evidence items held by its top person;
- **holders**: how many people would have to leave before nobody with evidence remains.
  A subject with one holder loses its only expert when that person leaves.

Everything is read from the graph as it is now, trimmed by the caller's access groups
(`kcrm.kg.visibility`): a restricted case, document, customer or employee neither counts nor
appears as evidence, so counts cannot reveal what a caller may not see. The arithmetic is in
pure functions over `Evidence` rows, tested without Neo4j.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kcrm.foundation.errors import EntityNotFound
from kcrm.kg.connection import Graph
from kcrm.kg.experts import ExpertFinder, ExpertQuery
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import load_ontology

log = logging.getLogger(__name__)

_O = load_ontology()
EMPLOYEE, TOPIC, CASE, DOC = (_O.class_spec(n).name for n in ("Employee", "Topic", "SupportCase", "Document"))
PRODUCT, CUSTOMER = _O.class_spec("Product").name, _O.class_spec("Customer").name
RESOLVED_BY, AUTHORED, HAS_TOPIC, ABOUT_PRODUCT, RAISED, OWNS, BROADER = (
    _O.relationship(t).type for t in ("RESOLVED_BY", "AUTHORED", "HAS_TOPIC", "ABOUT_PRODUCT", "RAISED", "OWNS",
                                      "BROADER"))
DONE_STATUSES = ["resolved", "closed"]
KINDS = ("topic", "product", "customer")
KIND_LABEL = {"topic": TOPIC, "product": PRODUCT, "customer": CUSTOMER}
OWNERSHIP = "OWNS"  # the evidence type of an ownership edge (its item is the owned subject itself)

# One row per evidence item with everyone it is evidence for and the subjects it is about (topics as
# filed; `ancestors` rolls them up to every broader topic in Python, which is far cheaper than a
# variable-length match per item). Every node read is trimmed by `visible` ($groups null: no trimming).
ITEMS_QUERY = f"""
MATCH (c:{CASE})-[:{RESOLVED_BY}]->(e:{EMPLOYEE})
WHERE c.status IN $done AND {visible('c')} AND {visible('e')}
WITH c, collect(DISTINCT e.uid) AS employees
RETURN '{CASE}' AS type, c.uid AS item, c.title AS title, toString(coalesce(c.closedAt, c.openedAt)) AS at, employees,
       COLLECT {{ MATCH (c)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN t.uid }} AS topics,
       COLLECT {{ MATCH (c)-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) WHERE {visible('p')} RETURN [p.uid, p.name] }} AS products,
       COLLECT {{ MATCH (x:{CUSTOMER})-[:{RAISED}]->(c) WHERE {visible('x')} RETURN [x.uid, x.name] }} AS customers
UNION ALL
MATCH (e:{EMPLOYEE})-[:{AUTHORED}]->(d:{DOC}) WHERE {visible('d')} AND {visible('e')}
WITH d, collect(DISTINCT e.uid) AS employees
RETURN '{DOC}' AS type, d.uid AS item, d.title AS title, toString(d.publishedAt) AS at, employees,
       COLLECT {{ MATCH (d)-[:{HAS_TOPIC}]->(t:{TOPIC}) RETURN t.uid }} AS topics,
       COLLECT {{ MATCH (d)-[:{ABOUT_PRODUCT}]->(p:{PRODUCT}) WHERE {visible('p')} RETURN [p.uid, p.name] }} AS products,
       [] AS customers
UNION ALL
MATCH (e:{EMPLOYEE})-[:{OWNS}]->(x) WHERE (x:{PRODUCT} OR x:{CUSTOMER}) AND {visible('x')} AND {visible('e')}
WITH x, collect(DISTINCT e.uid) AS employees
RETURN '{OWNERSHIP}' AS type, x.uid AS item, null AS title, null AS at, employees, [] AS topics,
       CASE WHEN x:{PRODUCT} THEN [[x.uid, x.name]] ELSE [] END AS products,
       CASE WHEN x:{CUSTOMER} THEN [[x.uid, x.name]] ELSE [] END AS customers
"""

TOPICS_QUERY = f"""
MATCH (t:{TOPIC}) OPTIONAL MATCH (t)-[:{BROADER}]->(p:{TOPIC})
RETURN t.uid AS uid, t.name AS name, collect(p.uid) AS broader
"""

# The same rows for one customer (the customer 360's "who knows this customer").
CUSTOMER_EVIDENCE_QUERY = f"""
MATCH (x:{CUSTOMER} {{uid: $uid}}) WHERE {visible('x')}
CALL (x) {{
  OPTIONAL MATCH (x)-[:{RAISED}]->(c:{CASE})-[:{RESOLVED_BY}]->(e:{EMPLOYEE})
  WHERE c.status IN $done AND {visible('c')} AND {visible('e')}
  RETURN e.uid AS employee, '{CASE}' AS type, c.uid AS item, c.title AS title, coalesce(c.closedAt, c.openedAt) AS at
  UNION ALL
  OPTIONAL MATCH (e:{EMPLOYEE})-[:{OWNS}]->(x) WHERE {visible('e')}
  RETURN e.uid AS employee, '{OWNERSHIP}' AS type, x.uid AS item, null AS title, null AS at
}}
RETURN 'customer' AS kind, x.uid AS subject, x.name AS name, employee, type, item, title, at
"""

EMPLOYEES_QUERY = (f"MATCH (e:{EMPLOYEE}) WHERE {visible('e')} "
                   "RETURN e.uid AS uid, e.name AS name, e.team AS team")
EMPLOYEE_QUERY = f"MATCH (e:{EMPLOYEE} {{uid: $uid}}) WHERE {visible('e')} RETURN e.uid AS uid, e.name AS name, e.team AS team"


@dataclass(frozen=True)
class Evidence:
    """One evidence item tying `employee` to a subject (a topic, product or customer)."""

    kind: str
    subject: str
    employee: str
    type: str
    item: str
    title: str = ""
    at: str | None = None
    name: str = ""


@dataclass
class Holder:
    """A person with evidence on a subject: how many items, their share, and the newest items."""

    uid: str
    items: int
    share: float
    name: str = ""
    team: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Concentration:
    """How concentrated the know-how on one subject is, with the evidence behind the figures."""

    kind: str
    uid: str
    name: str
    evidence: int  # distinct evidence items
    holders: int  # people who would have to leave before nobody with evidence remains
    top_share: float  # share of the evidence items held by the top person
    people: list[Holder]

    @property
    def single_expert(self) -> bool:
        """True when one person holds all the evidence: their departure leaves nobody."""
        return self.holders == 1


@dataclass
class NextBest:
    """Who expert finding ranks highest once the leaver is set aside, and why."""

    uid: str
    name: str
    team: str
    score: float
    components: dict[str, float]


@dataclass
class Impact:
    """A subject that loses its only expert when the employee leaves."""

    concentration: Concentration
    next_best: NextBest | None = None
    looked_up: bool = False


@dataclass
class DepartureImpact:
    """What the company would lose if `employee` left: sole-expert subjects and who is next best."""

    employee: dict[str, Any]
    holds: dict[str, int]  # kind -> subjects this person holds any evidence on
    sole: list[Impact]


def _path(ev: Evidence) -> str:
    if ev.type == CASE:
        return f"({ev.employee})<-[:{RESOLVED_BY}]-({ev.item})"
    if ev.type == DOC:
        return f"({ev.employee})-[:{AUTHORED}]->({ev.item})"
    return f"({ev.employee})-[:{OWNS}]->({ev.item})"


def concentrations(rows: Iterable[Evidence], people: dict[str, dict[str, Any]] | None = None,
                   evidence_per_person: int = 3) -> list[Concentration]:
    """Per (kind, subject): evidence items, holders, top share and each holder's newest items.

    Sorted riskiest first: fewest holders (but at least one), then highest top share, then most
    evidence (the most know-how at stake), then uid.
    """
    people = people or {}
    items: dict[tuple[str, str], set[str]] = defaultdict(set)
    held: dict[tuple[str, str], dict[str, list[Evidence]]] = defaultdict(lambda: defaultdict(list))
    names: dict[tuple[str, str], str] = {}
    seen: set[tuple[str, str, str, str, str]] = set()
    for ev in rows:
        key = (ev.kind, ev.subject)
        names.setdefault(key, ev.name or "")
        items[key].add(f"{ev.type}:{ev.item}")
        if (*key, ev.employee, ev.type, ev.item) not in seen:
            seen.add((*key, ev.employee, ev.type, ev.item))
            held[key][ev.employee].append(ev)
    out = []
    for key, subject_items in items.items():
        total = len(subject_items)
        holders = []
        for uid, evs in held[key].items():
            newest = sorted(evs, key=lambda e: (e.at or "", e.item), reverse=True)[:evidence_per_person]
            person = people.get(uid, {})
            holders.append(Holder(uid=uid, items=len(evs), share=round(len(evs) / total, 4),
                                  name=person.get("name") or "", team=person.get("team") or "",
                                  evidence=[{"uid": e.item, "type": e.type, "title": e.title or "", "at": e.at,
                                             "path": _path(e)} for e in newest]))
        holders.sort(key=lambda h: (-h.items, h.uid))
        out.append(Concentration(kind=key[0], uid=key[1], name=names[key], evidence=total, holders=len(holders),
                                 top_share=holders[0].share if holders else 0.0, people=holders))
    out.sort(key=lambda c: (c.holders, -c.top_share, -c.evidence, c.kind, c.uid))
    return out


def sole_subjects(found: Iterable[Concentration], employee: str) -> list[Concentration]:
    """The subjects whose only holder is `employee`, most evidence first."""
    return sorted((c for c in found if c.holders == 1 and c.people[0].uid == employee),
                  key=lambda c: (-c.evidence, c.kind, c.uid))


def ancestors(broader: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Each topic with itself and every broader topic (cycles are harmless), so evidence rolls up."""
    out: dict[str, list[str]] = {}
    for uid in broader:
        seen: list[str] = []
        stack = [uid]
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.append(node)
                stack.extend(broader.get(node, ()))
        out[uid] = seen
    return out


def expand(rows: Iterable[Mapping[str, Any]], up: Mapping[str, list[str]], topic_names: Mapping[str, str]
           ) -> list[Evidence]:
    """Item rows (item, employees, topics, products, customers) as one Evidence per subject and employee."""
    out = []
    for row in rows:
        subjects: dict[tuple[str, str], str] = {}
        for topic in row["topics"]:
            for uid in up.get(topic, [topic]):
                subjects[("topic", uid)] = topic_names.get(uid, "")
        for kind in ("product", "customer"):
            for uid, name in row[f"{kind}s"]:
                subjects[(kind, uid)] = name or ""
        at = None if row.get("at") is None else str(row["at"])
        for (kind, uid), name in subjects.items():
            for employee in row["employees"]:
                out.append(Evidence(kind=kind, subject=uid, employee=employee, type=row["type"], item=row["item"],
                                    title=row.get("title") or "", at=at, name=name))
    return out


def _evidence(row: dict[str, Any]) -> Evidence:
    return Evidence(kind=row["kind"], subject=row["subject"], employee=row["employee"], type=row["type"],
                    item=row["item"], title=row.get("title") or "", at=None if row.get("at") is None else str(row["at"]),
                    name=row.get("name") or "")


class KnowledgeRisk:
    """Knowledge concentration and departure impact as one caller (its access groups) may see them."""

    def __init__(self, graph: Graph, groups: list[str] | None = None) -> None:
        self.graph = graph
        self.caller_groups = groups
        self.groups = query_groups(groups)

    def people(self) -> dict[str, dict[str, Any]]:
        """Visible employees: uid -> name and team."""
        return {r["uid"]: r for r in self.graph.read(EMPLOYEES_QUERY, groups=self.groups)}

    def evidence(self) -> list[Evidence]:
        """Every evidence row the caller may see, topics rolled up to their broader topics."""
        topics = self.graph.read(TOPICS_QUERY)
        up = ancestors({r["uid"]: r["broader"] for r in topics})
        rows = self.graph.read(ITEMS_QUERY, done=DONE_STATUSES, groups=self.groups)
        return expand(rows, up, {r["uid"]: r["name"] or "" for r in topics})

    def concentrations(self, kinds: Iterable[str] = KINDS, evidence_per_person: int = 3) -> list[Concentration]:
        """Concentration of every subject of `kinds` that has evidence, riskiest first."""
        wanted = set(kinds)
        return concentrations((e for e in self.evidence() if e.kind in wanted), self.people(), evidence_per_person)

    def customer(self, uid: str, evidence_per_person: int = 3) -> Concentration:
        """Who knows customer `uid` (EntityNotFound when absent or hidden from the caller)."""
        rows = self.graph.read(CUSTOMER_EVIDENCE_QUERY, uid=uid, done=DONE_STATUSES, groups=self.groups)
        if not rows:
            raise EntityNotFound(f"no customer with uid {uid!r} in the graph")
        found = concentrations([_evidence(r) for r in rows if r["employee"]], self.people(), evidence_per_person)
        return found[0] if found else Concentration(kind="customer", uid=uid, name=rows[0]["name"] or "", evidence=0,
                                                    holders=0, top_share=0.0, people=[])

    def departure(self, employee: str, next_best: int = 20, evidence_per_person: int = 3) -> DepartureImpact:
        """What is lost if `employee` leaves; the next best person for the first `next_best` subjects.

        Next best comes from expert finding (`kcrm.kg.experts`) asked about the subject, with the
        leaver set aside; it is looked up for the subjects with the most evidence first, since each
        lookup is a few graph reads.
        """
        found = self.graph.read(EMPLOYEE_QUERY, uid=employee, groups=self.groups)
        if not found:
            raise EntityNotFound(f"no employee with uid {employee!r} in the graph")
        all_subjects = self.concentrations(evidence_per_person=evidence_per_person)
        holds: dict[str, int] = dict.fromkeys(KINDS, 0)
        for c in all_subjects:
            if any(h.uid == employee for h in c.people):
                holds[c.kind] += 1
        finder = ExpertFinder(self.graph, None, groups=self.caller_groups)
        impacts = []
        for i, c in enumerate(sole_subjects(all_subjects, employee)):
            impact = Impact(concentration=c)
            if i < next_best:
                impact.looked_up = True
                impact.next_best = self._next_best(finder, c, employee)
            impacts.append(impact)
        return DepartureImpact(employee=found[0], holds=holds, sole=impacts)

    @staticmethod
    def _next_best(finder: ExpertFinder, subject: Concentration, leaver: str) -> NextBest | None:
        query = ExpertQuery(topic=subject.uid if subject.kind == "topic" else None,
                            product=subject.uid if subject.kind == "product" else None,
                            customer=subject.uid if subject.kind == "customer" else None, k=5)
        try:
            result = finder.find(query)
        except EntityNotFound:
            return None
        for expert in result.experts:
            if expert.uid != leaver:
                return NextBest(uid=expert.uid, name=expert.name, team=expert.team, score=expert.score,
                                components=expert.components)
        return None
