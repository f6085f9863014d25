"""Rows of one run that repeat a uid fold into one record; disagreements kept by the documented rule."""

from __future__ import annotations

from kcrm.ingest.fold import RunFold
from kcrm.kg.records import Record, RelRef


def rec(uid: str, line: int, rank: str | None = None, rels: tuple[RelRef, ...] = (), **props) -> Record:
    return Record("Customer", uid, props, rels, "tickets.csv", line, rank)


def test_agreeing_rows_add_nothing_and_gaps_are_filled() -> None:
    fold = RunFold()
    fold.add(rec("C1", 1, name="Ann Lee", email="ann@x.example"))
    fold.add(rec("C1", 2, name="Ann Lee", phone="+1 555 0100"))
    fold.add(rec("C2", 3, name="Bo Chen"))
    [first, second] = fold.records()
    assert (first.uid, first.line) == ("C1", 1)
    assert first.props == {"name": "Ann Lee", "email": "ann@x.example", "phone": "+1 555 0100"}
    assert second.uid == "C2" and fold.conflicts() == [] and fold.repeated() == 1


def test_first_seen_wins_and_every_conflict_is_reported_per_field() -> None:
    fold = RunFold()
    fold.add(rec("C1", 1, name="Ann Lee"))
    fold.add(rec("C1", 5, name="ANN LEE"))
    fold.add(rec("C1", 9, name="Ann Lee-Smith"))
    fold.add(rec("C1", 12, name="ANN LEE"))
    assert fold.records()[0].props["name"] == "Ann Lee"
    [conflict] = fold.conflicts()
    assert conflict.as_dict() == {"type": "Customer", "uid": "C1", "field": "name", "kept": "Ann Lee",
                                  "values": ["Ann Lee", "ANN LEE", "Ann Lee-Smith"],
                                  "rows": ["tickets.csv:1", "tickets.csv:5", "tickets.csv:9", "tickets.csv:12"]}


def test_latest_by_keeps_the_value_of_the_newest_row_and_absent_never_wins() -> None:
    fold = RunFold()
    fold.add(rec("C1", 1, rank="2025-03-02", name="Old Name"))
    fold.add(rec("C1", 2, rank="2025-03-09", name="New Name"))
    fold.add(rec("C1", 3, rank="2025-03-05", name="Middle Name"))
    fold.add(rec("C1", 4, rank=None, name="No Date"))
    assert fold.records()[0].props["name"] == "New Name"
    assert fold.conflicts()[0].kept == "New Name"
    numbers = RunFold()
    numbers.add(rec("C2", 1, rank="9", name="nine"))
    numbers.add(rec("C2", 2, rank="10", name="ten"))  # 10 > 9 as numbers, not as text
    assert numbers.records()[0].props["name"] == "ten"


def test_relationships_of_repeated_rows_are_united_once_each() -> None:
    a = RelRef("PURCHASED", "P1", "Product", True)
    b = RelRef("PURCHASED", "P2", "Product", True)
    fold = RunFold()
    fold.add(rec("C1", 1, rels=(a,), name="Ann"))
    fold.add(rec("C1", 2, rels=(a, b), name="Ann"))
    assert fold.records()[0].rels == (a, b)
