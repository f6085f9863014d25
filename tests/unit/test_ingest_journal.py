"""The ingest journal and the whole-batch plan: pure logic, no Neo4j."""

from __future__ import annotations

from pathlib import Path

from kcrm.ingest.batches import plan_batches
from kcrm.ingest.journal import Journal, find_unfinished, run_key
from kcrm.kg.records import Link, Record, RelRef
from kcrm.ontology.model import load_ontology


def customer(uid: str, *rels: RelRef) -> Record:
    return Record("Customer", uid, {"name": uid}, tuple(rels), "c.jsonl", int(uid[1:]))


def test_a_relationship_goes_to_the_batch_of_its_later_end() -> None:
    ontology = load_ontology()
    records = [customer("C1", RelRef("IN_SEGMENT", "S1", "Segment", True)),
               customer("C2", RelRef("IN_SEGMENT", "OLD", "Segment", True)),
               customer("C3"),
               Record("Segment", "S1", {"name": "S"}, (), "s.jsonl", 1)]
    links = [Link("PURCHASED", "C1", "Customer", "P-OLD", "Product", {}, "l.csv", 1)]
    batches = plan_batches(ontology, records, links, batch_size=2)
    assert [b.uids for b in batches] == [["C1", "C2"], ["C3", "S1"]]
    # C1 -> S1: S1 is in batch 1, so the edge is written with it; C2 -> OLD (already in the graph) with C2
    assert [(r["start"], r["end"]) for rows in batches[1].rels.values() for r in rows] == [("C1", "S1")]
    first = {(r["start"], r["end"]) for rows in batches[0].rels.values() for r in rows}
    assert first == {("C2", "OLD"), ("C1", "P-OLD")}


def test_equal_plans_have_equal_digests_and_a_change_changes_one() -> None:
    ontology = load_ontology()
    records = [customer(f"C{i}") for i in range(1, 6)]
    first = [b.digest() for b in plan_batches(ontology, records, [], 2)]
    assert first == [b.digest() for b in plan_batches(ontology, records, [], 2)]
    changed = [*records[:3], Record("Customer", "C4", {"name": "renamed"}, (), "c.jsonl", 4), records[4]]
    second = [b.digest() for b in plan_batches(ontology, changed, [], 2)]
    assert [a == b for a, b in zip(first, second)] == [True, False, True]


def test_the_journal_survives_a_torn_last_line_and_finds_the_unfinished_run(tmp_path: Path) -> None:
    key = run_key(tmp_path / "src", "crm", {"fmt": None})
    assert key != run_key(tmp_path / "src", "erp", {"fmt": None})
    done = Journal.open(tmp_path / "20260101T000000000000Z")
    done.append("start", key=key)
    done.append("done", ok=True)
    killed = Journal.open(tmp_path / "20260102T000000000000Z")
    killed.append("start", key=key)
    killed.append("batch", index=0, digest="d0", nodes=["C1"], relationships=0)
    with killed.path.open("a", encoding="utf-8") as handle:
        handle.write('{"event": "batch", "index": 1, "dig')
    assert find_unfinished(tmp_path, key) == "20260102T000000000000Z"
    assert find_unfinished(tmp_path, "another") is None
    reopened = Journal.open(killed.path.parent)
    assert reopened.committed() == {0: "d0"} and reopened.key == key and not reopened.finished
    reopened.append("batch", index=1, digest="d1", nodes=["C2"], relationships=0)
    assert Journal.open(killed.path.parent).committed() == {0: "d0", 1: "d1"}
