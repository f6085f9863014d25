"""One customer as a data subject in the graph: what the graph holds about it, and erasing it.

The subject access export and erasure both start from the same read: the customer, every
node linked to it (in either direction) with the relationship, and the order lines and topics of
its own orders and cases. Erasure applies the ontology's rules (`kcrm.ontology.erasure`) in one
transaction: the customer and what belongs only to it are deleted, what must stay for the
business is kept with its personal properties replaced, items that only mention the customer
have its name, e-mail and phone cut out, and every touched neighbour gets a new `updatedAt` so
the incremental search update re-reads it (facet values copied from the customer go too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kcrm.foundation.errors import EntityNotFound
from kcrm.kg.connection import Graph
from kcrm.ontology.erasure import ErasureRules
from kcrm.ontology.model import Ontology
from kcrm.ontology.rdf import GraphEdge, GraphNode

PLACEHOLDER = "[erased]"
# Strings shorter than this are not cut out of other texts ("Li" would damage every "Linux").
MIN_REDACT_CHARS = 4
# Texts of the customer's own items at least this long are purged from files and alerts too; a
# shorter one ("Printer noise") would also match other customers' records there.
MIN_TEXT_CHARS = 24

SUBJECT = """
MATCH (c:Customer {uid: $uid})
OPTIONAL MATCH (c)-[r]-(n) WHERE n.uid IS NOT NULL
WITH c, collect(CASE WHEN r IS NULL THEN NULL ELSE {
  type: type(r), outgoing: startNode(r) = c, props: properties(r), labels: labels(n), uid: n.uid,
  nodeProps: properties(n),
  others: COUNT { (n)--(o:Customer) WHERE o <> c }
} END) AS links
RETURN properties(c) AS props, links
"""
# The order lines and topics of the customer's own orders and cases, for the export.
SECOND_HOP = """
UNWIND $uids AS uid
MATCH (n {uid: uid})-[r]->(m) WHERE m.uid IS NOT NULL AND NOT m:Customer
RETURN n.uid AS start, labels(n) AS startLabels, type(r) AS type, m.uid AS end, labels(m) AS endLabels,
       properties(r) AS props, coalesce(m.name, m.title) AS endName
"""
# Items that quote the customer's name, e-mail or phone without a MENTIONS link (typed text).
QUOTING = """
UNWIND $strings AS s
MATCH (n) WHERE n.uid IS NOT NULL AND n.uid <> $uid
  AND any(k IN $keys WHERE n[k] IS :: STRING AND n[k] CONTAINS s)
RETURN DISTINCT n.uid AS uid, labels(n) AS labels, properties(n) AS props
"""
TOUCH_NEIGHBOURS = """
MATCH (c:Customer {uid: $uid})--(n) WHERE n.uid IS NOT NULL
SET n.updatedAt = $now
"""
REWRITE = """
UNWIND $changes AS change
MATCH (k {uid: change.uid})
SET k += change.props, k.updatedAt = $now
"""
DELETE_OWNED = """
UNWIND $uids AS uid
MATCH (g {uid: uid}) WHERE NOT g:Customer
DETACH DELETE g
"""
DELETE_CUSTOMER = """
MATCH (c:Customer {uid: $uid})
DETACH DELETE c
"""


@dataclass
class SubjectGraph:
    """What the graph holds about one customer."""

    customer: GraphNode
    links: list[dict[str, Any]]
    second_hop: list[dict[str, Any]] = field(default_factory=list)

    def nodes(self, ontology: Ontology) -> list[GraphNode]:
        out = [self.customer]
        seen = {self.customer.uid}
        for link in self.links:
            label = _label(link["labels"], ontology)
            if label and link["uid"] not in seen:
                seen.add(link["uid"])
                out.append(GraphNode(label, link["uid"], link["nodeProps"]))
        return out

    def edges(self, ontology: Ontology) -> list[GraphEdge]:
        out = []
        for link in self.links:
            label = _label(link["labels"], ontology)
            if label is None or link["type"] not in ontology.relationships:
                continue
            ends = (("Customer", self.customer.uid), (label, link["uid"]))
            (sl, su), (el, eu) = ends if link["outgoing"] else ends[::-1]
            out.append(GraphEdge(link["type"], sl, su, el, eu, link["props"]))
        for row in self.second_hop:
            start, end = _label(row["startLabels"], ontology), _label(row["endLabels"], ontology)
            if start and end and row["type"] in ontology.relationships:
                out.append(GraphEdge(row["type"], start, row["start"], end, row["end"], row["props"]))
        return out


def _label(labels: list[str], ontology: Ontology) -> str | None:
    return next((label for label in labels if label in ontology.classes), None)


def read_subject(graph: Graph, uid: str, second_hop: bool = True) -> SubjectGraph:
    """The customer and everything linked to it; EntityNotFound when there is no such customer."""
    rows = graph.read(SUBJECT, uid=uid)
    if not rows:
        raise EntityNotFound(f"no Customer with uid {uid!r}")
    links = [link for link in rows[0]["links"] if link is not None]
    subject = SubjectGraph(GraphNode("Customer", uid, rows[0]["props"]), links)
    if second_hop:
        own = sorted({link["uid"] for link in links if not link["outgoing"] or link["type"] in ("PLACED", "RAISED")})
        subject.second_hop = graph.read(SECOND_HOP, uids=own)
    return subject


@dataclass
class ErasurePlan:
    """What erasing one customer changes in the graph, per rule; `strings` are the texts to purge elsewhere."""

    uid: str
    deleted: list[tuple[str, str]] = field(default_factory=list)
    pseudonymised: list[tuple[str, str, list[str]]] = field(default_factory=list)
    redacted: list[tuple[str, str, list[str]]] = field(default_factory=list)
    unlinked: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)

    @property
    def touched(self) -> list[tuple[str, str]]:
        """(label, uid) of every node deleted or rewritten: their source keys go on the suppression list."""
        return ([("Customer", self.uid)] + self.deleted + [(lab, uid) for lab, uid, _ in self.pseudonymised])

    def summary(self) -> dict[str, Any]:
        return {
            "deleted": [{"type": lab, "uid": uid} for lab, uid in [("Customer", self.uid)] + self.deleted],
            "kept_pseudonymised": [{"type": lab, "uid": uid, "fields": f} for lab, uid, f in self.pseudonymised],
            "redacted": [{"type": lab, "uid": uid, "fields": f} for lab, uid, f in self.redacted],
            "relationships_removed": self.unlinked,
        }


def _personal_strings(props: dict[str, Any], rules: ErasureRules, names: frozenset[str] | None = None) -> list[str]:
    out = []
    for name in sorted(rules.personal if names is None else names):
        held = props.get(name)
        for value in held if isinstance(held, list) else [held]:
            if isinstance(value, str) and len(value.strip()) >= MIN_REDACT_CHARS:
                out.append(value.strip())
    return out


def _long_texts(props: dict[str, Any], rules: ErasureRules) -> list[str]:
    return [text for text in _personal_strings(props, rules) if len(text) >= MIN_TEXT_CHARS]


def _redact(text: str, strings: list[str]) -> str:
    for needle in sorted(strings, key=len, reverse=True):
        text = text.replace(needle, PLACEHOLDER)
    return text


def identity_strings(subject: SubjectGraph, rules: ErasureRules) -> list[str]:
    """The customer's identifying values (name, e-mail, phone...) long enough to cut out of other texts."""
    return _personal_strings(subject.customer.props, rules, rules.identifying)


def quoting_items(graph: Graph, subject: SubjectGraph, rules: ErasureRules) -> list[dict[str, Any]]:
    """Nodes whose personal properties quote the customer's identifying values (a scan of the graph)."""
    strings = identity_strings(subject, rules)
    if not strings:
        return []
    return graph.read(QUOTING, strings=strings, uid=subject.customer.uid, keys=sorted(rules.personal))


def plan_erasure(subject: SubjectGraph, ontology: Ontology, rules: ErasureRules,
                 quoting: Sequence[dict[str, Any]] = ()) -> ErasurePlan:
    """Apply the rules to what the graph holds (`quoting`: see `quoting_items`); nothing is written."""
    plan = ErasurePlan(subject.customer.uid)
    identity = identity_strings(subject, rules)
    plan.strings = list(identity)
    plan.unlinked = len(subject.links)
    decided: set[str] = set()
    # a case the customer RAISED and that also MENTIONS it is decided by RAISED: stronger rules first
    strength = {"delete-unless-shared": 0, "keep-pseudonymised": 1, "redact": 2}
    for link in sorted(subject.links, key=lambda link: strength.get(rules.rule(link["type"]) or "", 3)):
        label, uid, props = _label(link["labels"], ontology), link["uid"], link["nodeProps"]
        rule = rules.rule(link["type"])
        if label is None or rule is None or uid in decided:
            continue
        decided.add(uid)
        if rule == "delete-unless-shared" and link["others"] == 0:
            plan.deleted.append((label, uid))
            plan.strings += _long_texts(props, rules)
        elif rule in ("delete-unless-shared", "keep-pseudonymised"):
            fields = sorted(k for k in props if k in rules.personal and props[k] not in (None, "", []))
            plan.strings += _long_texts(props, rules)
            plan.pseudonymised.append((label, uid, fields))
            plan.changes.append({"uid": uid, "props": {k: PLACEHOLDER for k in fields}})
        elif rule == "redact":
            new = {k: _redact(v, identity) for k, v in props.items()
                   if k in rules.personal and isinstance(v, str) and _redact(v, identity) != v}
            plan.redacted.append((label, uid, sorted(new)))
            if new:
                plan.changes.append({"uid": uid, "props": new})
    for item in quoting:
        label = _label(item["labels"], ontology)
        if label is None or item["uid"] in decided:
            continue
        decided.add(item["uid"])
        props = item["props"]
        new = {k: _redact(v, identity) for k, v in props.items()
               if k in rules.personal and isinstance(v, str) and _redact(v, identity) != v}
        if new:
            plan.redacted.append((label, item["uid"], sorted(new)))
            plan.changes.append({"uid": item["uid"], "props": new})
    plan.strings = sorted(set(plan.strings), key=len, reverse=True)
    return plan


def apply_erasure(graph: Graph, plan: ErasurePlan) -> None:
    """Write the plan in one transaction: rewrite kept items, delete the owned ones and the customer."""
    statements = [(TOUCH_NEIGHBOURS, {"uid": plan.uid, "now": datetime.now(UTC).isoformat()}),
                  (REWRITE, {"changes": plan.changes, "now": datetime.now(UTC).isoformat()}),
                  (DELETE_OWNED, {"uids": [uid for _, uid in plan.deleted]}),
                  (DELETE_CUSTOMER, {"uid": plan.uid})]

    graph.write_all(statements)
