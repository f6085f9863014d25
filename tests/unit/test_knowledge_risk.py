"""Knowledge concentration arithmetic on hand-checkable evidence rows (no Neo4j)."""

from __future__ import annotations

import pytest

from kcrm.kg.knowledge_risk import Evidence, concentrations, sole_subjects


def ev(subject: str, employee: str, item: str, kind: str = "topic", type: str = "SupportCase",
       at: str | None = None) -> Evidence:
    return Evidence(kind=kind, subject=subject, employee=employee, type=type, item=item, at=at)


ROWS = [
    # topic-a: only EMP-1 (two cases, one document)
    ev("topic-a", "EMP-1", "C1"), ev("topic-a", "EMP-1", "C2"), ev("topic-a", "EMP-1", "D1", type="Document"),
    # topic-b: EMP-1 three items, EMP-2 one
    ev("topic-b", "EMP-1", "C3"), ev("topic-b", "EMP-1", "C4"), ev("topic-b", "EMP-1", "C5"), ev("topic-b", "EMP-2", "C6"),
    # topic-c: three people, one item each
    ev("topic-c", "EMP-1", "C7"), ev("topic-c", "EMP-2", "C8"), ev("topic-c", "EMP-3", "C9"),
    # customer X: EMP-2 only, through a case and ownership
    ev("CUS-X", "EMP-2", "C6", kind="customer"), ev("CUS-X", "EMP-2", "CUS-X", kind="customer", type="OWNS"),
]


def by_uid(found):
    return {c.uid: c for c in found}


def test_holders_and_top_share_per_subject() -> None:
    found = by_uid(concentrations(ROWS))
    assert (found["topic-a"].evidence, found["topic-a"].holders, found["topic-a"].top_share) == (3, 1, 1.0)
    assert (found["topic-b"].evidence, found["topic-b"].holders, found["topic-b"].top_share) == (4, 2, 0.75)
    assert (found["topic-c"].evidence, found["topic-c"].holders) == (3, 3)
    assert found["topic-c"].top_share == pytest.approx(1 / 3, abs=1e-4)
    assert found["CUS-X"].single_expert and found["CUS-X"].evidence == 2
    assert [h.uid for h in found["topic-b"].people] == ["EMP-1", "EMP-2"]
    assert [h.items for h in found["topic-b"].people] == [3, 1]


def test_riskiest_first_and_single_expert_flag() -> None:
    found = concentrations(ROWS)
    assert [c.uid for c in found] == ["topic-a", "CUS-X", "topic-b", "topic-c"]
    assert [c.uid for c in found if c.single_expert] == ["topic-a", "CUS-X"]


def test_a_repeated_row_counts_once_and_a_shared_item_counts_for_both() -> None:
    rows = [ev("t", "EMP-1", "C1"), ev("t", "EMP-1", "C1"), ev("t", "EMP-2", "C1")]
    (found,) = concentrations(rows)
    assert found.evidence == 1 and found.holders == 2
    assert [h.share for h in found.people] == [1.0, 1.0]


def test_evidence_shown_newest_first_and_capped_with_paths() -> None:
    rows = [ev("t", "EMP-1", f"C{i}", at=f"2026-0{i}-01") for i in range(1, 6)]
    rows.append(ev("t", "EMP-1", "D1", type="Document", at="2026-09-01"))
    (found,) = concentrations(rows, evidence_per_person=2)
    assert found.people[0].items == 6
    assert [e["uid"] for e in found.people[0].evidence] == ["D1", "C5"]
    assert found.people[0].evidence[0]["path"] == "(EMP-1)-[:AUTHORED]->(D1)"
    assert found.people[0].evidence[1]["path"] == "(EMP-1)<-[:RESOLVED_BY]-(C5)"


def test_sole_subjects_of_a_leaver() -> None:
    found = concentrations(ROWS)
    assert [c.uid for c in sole_subjects(found, "EMP-1")] == ["topic-a"]
    assert [c.uid for c in sole_subjects(found, "EMP-2")] == ["CUS-X"]
    assert sole_subjects(found, "EMP-3") == []


def test_names_and_teams_come_from_the_people_table() -> None:
    (found,) = concentrations([ev("t", "EMP-1", "C1")], {"EMP-1": {"name": "Ann", "team": "Billing"}})
    assert (found.people[0].name, found.people[0].team) == ("Ann", "Billing")


def test_items_expand_to_every_subject_with_topics_rolled_up() -> None:
    from kcrm.kg.knowledge_risk import ancestors, expand

    up = ancestors({"leaf": ["mid"], "mid": ["top"], "top": [], "loop": ["loop"]})
    assert up["leaf"] == ["leaf", "mid", "top"] and up["loop"] == ["loop"]
    rows = [{"type": "SupportCase", "item": "C1", "title": "t", "at": "2026-01-01", "employees": ["E1", "E2"],
             "topics": ["leaf"], "products": [["P1", "Widget"]], "customers": [["X1", "Acme"]]}]
    found = expand(rows, up, {"top": "Top"})
    assert {(e.kind, e.subject, e.employee) for e in found} == {
        (k, s, e) for k, s in (("topic", "leaf"), ("topic", "mid"), ("topic", "top"), ("product", "P1"),
                               ("customer", "X1")) for e in ("E1", "E2")}
    assert {e.name for e in found if e.subject in ("top", "P1", "X1")} == {"Top", "Widget", "Acme"}
