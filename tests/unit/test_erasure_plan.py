"""Erasure planning: the ontology's rules decide what is deleted, kept pseudonymised or redacted."""

from __future__ import annotations

from kcrm.kg.subject import PLACEHOLDER, SubjectGraph, plan_erasure
from kcrm.ontology.erasure import load_erasure_rules
from kcrm.ontology.model import load_ontology
from kcrm.ontology.rdf import GraphNode

NAME, EMAIL = "Anna Quell", "anna@quell.example"


def link(rel: str, label: str, uid: str, outgoing: bool, others: int = 0, **props) -> dict:
    return {"type": rel, "outgoing": outgoing, "props": {}, "labels": [label], "uid": uid, "nodeProps": props,
            "others": others}


def subject() -> SubjectGraph:
    return SubjectGraph(GraphNode("Customer", "C-1", {"name": NAME, "email": EMAIL, "city": "Oslo"}), [
        link("RAISED", "SupportCase", "CASE-own", True, title="Broken", description=f"{NAME} says it broke badly"),
        link("MENTIONS", "SupportCase", "CASE-own", False, title="Broken"),
        link("RAISED", "SupportCase", "CASE-shared", True, others=1, title="Joint", description="Two accounts"),
        link("PLACED", "Transaction", "ORD-1", True, orderNumber="O-1"),
        link("MENTIONS", "Document", "DOC-1", False, title="Guide", text=f"Ask {NAME} or write to {EMAIL}."),
        link("IN_SEGMENT", "Segment", "SEG-1", True, name="Enterprise"),
    ])


def test_rules_from_the_ontology_decide_each_linked_item() -> None:
    rules = load_erasure_rules()
    assert rules.rule("RAISED") == "delete-unless-shared" and rules.rule("IN_SEGMENT") is None
    assert {"name", "email", "phone"} <= rules.identifying <= rules.personal
    plan = plan_erasure(subject(), load_ontology(), rules)
    assert plan.deleted == [("SupportCase", "CASE-own")]  # RAISED decides before its own MENTIONS
    assert [(u, f) for _, u, f in plan.pseudonymised] == [("CASE-shared", ["description", "title"]),
                                                          ("ORD-1", [])]
    assert [(u, f) for _, u, f in plan.redacted] == [("DOC-1", ["text"])]
    changes = {c["uid"]: c["props"] for c in plan.changes}
    assert changes["CASE-shared"] == {"description": PLACEHOLDER, "title": PLACEHOLDER}
    assert changes["DOC-1"] == {"text": f"Ask {PLACEHOLDER} or write to {PLACEHOLDER}."}
    assert "SEG-1" not in changes and plan.unlinked == 6
    assert set(plan.strings) >= {NAME, EMAIL, f"{NAME} says it broke badly"} and "Oslo" not in plan.strings
    assert {u for _, u in plan.touched} == {"C-1", "CASE-own", "CASE-shared", "ORD-1"}


def test_items_quoting_the_customer_without_a_link_are_redacted() -> None:
    quoting = [{"uid": "CASE-other", "labels": ["SupportCase"], "props": {"description": f"Like {NAME} did"}}]
    plan = plan_erasure(subject(), load_ontology(), load_erasure_rules(), quoting)
    assert ("SupportCase", "CASE-other", ["description"]) in plan.redacted
    assert {"uid": "CASE-other", "props": {"description": f"Like {PLACEHOLDER} did"}} in plan.changes
