"""Record validation: precise rejections, and agreement with pySHACL on the same shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcrm.ingest.shacl import shacl_validate
from kcrm.ingest.validate import validate_record
from kcrm.kg.records import Record, read_jsonl, record_from_json
from kcrm.ontology.model import load_ontology

GOOD_CASE = {
    "type": "SupportCase", "uid": "CASE-T1",
    "props": {"title": "Refund missing", "description": "I returned the router and got no refund.",
              "status": "open", "priority": "high", "openedAt": "2026-03-01T09:30:00+00:00", "language": "en"},
    "rels": [{"type": "ABOUT_PRODUCT", "to": "PRD-1", "to_type": "Product"},
             {"type": "RAISED", "from": "CUS-1", "from_type": "Customer"}],
}


def _record(raw: dict) -> Record:
    return record_from_json(raw, "test.jsonl", 1)


def _with(**props) -> dict:
    raw = json.loads(json.dumps(GOOD_CASE))
    raw["props"].update(props)
    return raw


def test_a_good_record_passes_and_keeps_its_values() -> None:
    record, problems = validate_record(load_ontology(), _record(GOOD_CASE))
    assert problems == []
    assert record is not None and record.props["status"] == "open"
    assert len(record.rels) == 2


@pytest.mark.parametrize(("props", "field", "words"), [
    ({"status": "lost"}, "props.status", "not one of"),
    ({"openedAt": "yesterday"}, "props.openedAt", "ISO 8601"),
    ({"title": 42}, "props.title", "expected a string"),
    ({"shoeSize": 43}, "props.shoeSize", "not a property of SupportCase"),
    ({"title": ["a", "b"]}, "props.title", "single value"),
    ({"title": "   "}, "props.title", "must not be empty"),
])
def test_bad_values_are_rejected_with_field_and_reason(props: dict, field: str, words: str) -> None:
    record, problems = validate_record(load_ontology(), _record(_with(**props)))
    assert record is None
    assert [(p.field, p.line, p.uid) for p in problems] == [(field, 1, "CASE-T1")]
    assert words in problems[0].reason


def test_missing_required_property_is_named() -> None:
    raw = _with()
    del raw["props"]["description"]
    _, problems = validate_record(load_ontology(), _record(raw))
    assert [(p.field, p.reason) for p in problems] == [("props.description", "is required")]


@pytest.mark.parametrize(("rel", "words"), [
    ({"type": "RESOLVED_BY", "to": "CUS-1", "to_type": "Customer"}, "not allowed by the ontology"),
    ({"type": "LIKES", "to": "PRD-1", "to_type": "Product"}, "unknown relationship type"),
    ({"type": "ABOUT_PRODUCT", "to": "PRD-1", "to_type": "Gadget"}, "unknown class"),
])
def test_relationships_not_in_the_ontology_are_rejected(rel: dict, words: str) -> None:
    raw = _with()
    raw["rels"] = [rel]
    _, problems = validate_record(load_ontology(), _record(raw))
    assert len(problems) == 1 and words in problems[0].reason


def test_unknown_class_is_rejected() -> None:
    raw = dict(GOOD_CASE, type="Spaceship")
    _, problems = validate_record(load_ontology(), _record(raw))
    assert problems[0].field == "type" and "unknown class" in problems[0].reason


def test_malformed_lines_are_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join([
        json.dumps(GOOD_CASE), "{not json", json.dumps({"type": "SupportCase"}), "[1, 2]",
        json.dumps(dict(GOOD_CASE, extra=1)),
    ]) + "\n", encoding="utf-8")
    items = list(read_jsonl(path))
    assert isinstance(items[0], Record)
    assert [(p.line, p.reason.split(":")[0]) for p in items[1:]] == [
        (2, "Expecting property name enclosed in double quotes"),
        (3, "missing string 'uid'"),
        (4, "a record must be a JSON object"),
        (5, "unknown top-level keys"),
    ]


def test_non_utf8_file_is_reported_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "gbk.jsonl"
    raw = json.dumps(_with(title="退款没有到账"), ensure_ascii=False)
    path.write_bytes(raw.encode("gbk") + b"\n")
    items = list(read_jsonl(path))
    assert len(items) == 1 and "not UTF-8" in items[0].reason


def test_pyshacl_agrees_with_the_fast_validator() -> None:
    """The same bad values fail both validators; a good record passes both."""
    ontology = load_ontology()
    good = _record(GOOD_CASE)
    assert shacl_validate(ontology, [good]) == []
    bad = [
        record_from_json(_with(status="lost"), "t.jsonl", 2),
        record_from_json(dict(_with(), uid="CASE-T3", props={k: v for k, v in GOOD_CASE["props"].items()
                                                             if k != "description"}), "t.jsonl", 3),
        record_from_json(dict(_with(openedAt="2026-13-45T00:00:00"), uid="CASE-T4"), "t.jsonl", 4),
    ]
    shacl_fields = {(p.line, p.field) for p in shacl_validate(ontology, bad)}
    fast_fields = {(p.line, p.field) for r in bad for p in validate_record(ontology, r)[1]}
    assert shacl_fields == fast_fields == {(2, "props.status"), (3, "props.description"), (4, "props.openedAt")}
