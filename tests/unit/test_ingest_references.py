"""The reference check and the choice of prunable files: pure logic, with the graph replaced by a set."""

from __future__ import annotations

from kcrm.ingest.prune import prunable_files
from kcrm.ingest.references import check_references
from kcrm.ingest.report import FileOutcome
from kcrm.kg.records import Link, Problem, Record, RelRef


def record(uid: str, type_: str = "Customer", rels: tuple[RelRef, ...] = ()) -> Record:
    return Record(type_, uid, {"name": uid}, rels, "c.jsonl", int(uid[-1]))


def test_dangling_references_drop_records_transitively_and_say_why() -> None:
    graph = {("Segment", "SEG-1")}
    asked: list[dict] = []

    def lookup(wanted):
        asked.append({k: set(v) for k, v in wanted.items()})
        return {(label, uid) for label, uids in wanted.items() for uid in uids if (label, uid) in graph}

    records = [
        record("C1", rels=(RelRef("IN_SEGMENT", "SEG-1", "Segment", True),)),        # in the graph: kept
        record("C2", rels=(RelRef("IN_SEGMENT", "SEG-9", "Segment", True),)),        # nowhere: dropped
        record("K3", "SupportCase", (RelRef("RAISED", "C2", "Customer", False),)),   # pointed at C2: dropped next
        record("K4", "SupportCase", (RelRef("RAISED", "C1", "Customer", False),)),   # fine
    ]
    links = [Link("PLACED", "C2", "Customer", "T1", "Transaction", {}, "o.csv", 7)]
    kept, kept_links, problems = check_references(records, links, lookup)
    assert [r.uid for r in kept] == ["C1", "K4"] and kept_links == []
    reasons = {(p.uid, p.field): p.reason for p in problems}
    assert reasons[("C2", "rels.IN_SEGMENT")] == "no Segment with uid 'SEG-9' in this run or in the graph"
    assert reasons[("K3", "rels.RAISED")] == "no Customer with uid 'C2' in this run or in the graph"
    assert "no Transaction with uid 'T1'" in reasons[("C2->T1", "rels.PLACED")]
    assert all(("Segment", "SEG-1") not in {(k, u) for k, v in a.items() for u in v} for a in asked[1:])  # asked once


def test_only_whole_files_read_without_unparseable_rows_are_pruned() -> None:
    outcomes = {name: FileOutcome(name, "csv", None) for name in ("a.csv", "b.csv", "c.csv", "d.csv", "x.zip:e.csv")}
    outcomes["d.csv"].skipped = "no reader"
    rejected = [Problem("a.csv", 3, "C3", "props.email", "bad"), Problem("b.csv", 4, "", "", "torn row")]
    assert prunable_files(outcomes, rejected, broken={"c.csv"}) == ["a.csv"]
