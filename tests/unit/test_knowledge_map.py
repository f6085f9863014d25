"""Knowledge-map rollup and gap rules on a small hand-made taxonomy (no Neo4j)."""

from __future__ import annotations

from datetime import date

import pytest

from kcrm.foundation.errors import EntityNotFound
from kcrm.kg.knowledge_map import Concept, Item, Release, build_map, outdated

AS_OF = date(2026, 12, 1)
CONCEPTS = [Concept("root", "Root", "根"), Concept("a", "A", "甲", ("root",)), Concept("b", "B", "乙", ("root",)),
            Concept("c", "C", "丙", ("root",))]


def case(uid: str, person: str, at: str) -> Item:
    return Item(uid=uid, type="SupportCase", at=at, people=(person,))


def doc(uid: str, person: str, at: str, products: tuple[str, ...] = (), doc_type: str = "kb-article") -> Item:
    return Item(uid=uid, type="Document", at=at, people=(person,), title=uid, doc_type=doc_type, products=products)


DOCS = {"a": [doc("D1", "E1", "2024-01-10", ("P1",)), doc("D2", "E2", "2026-06-01", ("P1",))],
        "c": [doc("D3", "E3", "2025-01-01", ("P2",)), doc("R1", "E3", "2024-01-01", ("P2",), "release-notes")]}
CASES = {"a": [case("C1", "E1", "2026-10-01")],
         "b": [case(f"CB{i}", "E2", "2026-09-01") for i in range(5)],
         "c": [case("CC1", "E3", "2023-02-01")]}
RELEASES = {"P1": Release("P1", "R9", "2025-03-01"), "P2": Release("P2", "R1", "2024-01-01")}


def nodes(result):
    out = {}
    stack = list(result.roots)
    while stack:
        node = stack.pop()
        out[node.uid] = node
        stack.extend(node.children)
    return out


def test_rollup_counts_the_subtree_once() -> None:
    found = nodes(build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, AS_OF))
    assert (found["root"].documents, found["root"].resolved_cases, found["root"].people) == (4, 7, 3)
    assert (found["a"].documents, found["a"].resolved_cases, found["a"].people) == (2, 1, 2)
    assert found["root"].newest_document == "2026-06-01" and found["root"].oldest_document == "2024-01-01"
    assert found["a"].newest_document_age_days == (AS_OF - date(2026, 6, 1)).days
    assert [d["uid"] for d in found["a"].document_list] == ["D2", "D1"]


def test_cases_without_documents_needs_min_cases() -> None:
    found = nodes(build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, AS_OF))
    assert "cases_without_documents" in found["b"].gaps
    assert "cases_without_documents" not in nodes(build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, AS_OF,
                                                            min_cases=6))["b"].gaps


def test_outdated_documents_predate_the_newest_release_of_their_product() -> None:
    found = nodes(build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, AS_OF))
    assert [o["uid"] for o in found["a"].outdated] == ["D1"]  # D2 is newer than P1's release, D1 older
    assert found["a"].outdated[0]["release"] == "R9" and "outdated_documents" in found["a"].gaps
    assert "outdated_documents" not in found["c"].gaps  # D3 is newer than R1; R1 is the release itself


def test_release_notes_are_never_outdated() -> None:
    assert outdated(doc("R0", "E1", "2020-01-01", ("P1",), "release-notes"), RELEASES) == []


def test_no_active_expert_when_the_newest_evidence_is_old() -> None:
    found = nodes(build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, AS_OF, active_days=365))
    assert "no_active_expert" in found["c"].gaps  # newest evidence 2025-01-01, more than a year before AS_OF
    assert found["c"].active_people == 0 and found["c"].people == 1
    assert "no_active_expert" not in found["a"].gaps
    assert "no_active_expert" not in nodes(build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, AS_OF,
                                                     active_days=1000))["c"].gaps


def test_gap_counts_and_root_choice() -> None:
    result = build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, AS_OF)
    assert result.topics == 4
    assert result.gap_counts == {"cases_without_documents": 1, "outdated_documents": 2, "no_active_expert": 1}
    sub = build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, AS_OF, root="a")
    assert [r.uid for r in sub.roots] == ["a"] and sub.topics == 1
    with pytest.raises(EntityNotFound):
        build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, AS_OF, root="nope")


def test_a_topic_with_nothing_has_no_active_expert() -> None:
    result = build_map([Concept("x", "X", "X")], {}, {}, {}, {}, AS_OF)
    assert result.roots[0].gaps == ["no_active_expert"] and result.roots[0].documents == 0


def test_the_earliest_date_does_not_overflow() -> None:
    result = build_map(CONCEPTS, DOCS, CASES, RELEASES, {}, date.min, active_days=3650)
    assert result.topics == 4
