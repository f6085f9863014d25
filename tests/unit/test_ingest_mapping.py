"""Mappings: checked against the ontology with line numbers, then applied to raw rows."""

from __future__ import annotations

import textwrap

import pytest

from kcrm.foundation.errors import MappingError
from kcrm.ingest.mapper import RowMapper, get_value
from kcrm.ingest.mapping import load_mapping, parse_mapping, shipped_mappings
from kcrm.ingest.readers.base import RawRow
from kcrm.ontology.model import load_ontology

ONTOLOGY = load_ontology()

GOOD = """\
name: test
null_values: ["", "NULL"]
sources:
  - file: "*.csv"
    entity:
      class: Customer
      uid: "T-{id|upper}"
      properties:
        name: {template: "{first} {last}"}
        email: mail
        language: {column: lang, values: {English: en, 中文: zh}}
      relationships:
        - type: IN_SEGMENT
          to: {class: Segment, uid: "SEG-{segment}"}
          optional: true
  - file: lines.csv
    link:
      type: CONTAINS
      from: {class: Transaction, uid: "TX-{order}"}
      to: {class: Product, uid: "P-{product}"}
      properties:
        quantity: qty
"""


def parse(text: str):
    return parse_mapping(textwrap.dedent(text), "test.yaml", ONTOLOGY)


def test_every_shipped_mapping_is_valid() -> None:
    assert {"northwind", "email", "documents"} <= set(shipped_mappings())
    for name in shipped_mappings():
        assert load_mapping(name, ONTOLOGY).name == name


@pytest.mark.parametrize(("edit", "line", "message"), [
    (("class: Customer", "class: Cusomer"), 6, "unknown class 'Cusomer'"),
    (("email: mail", "emial: mail"), 10, "'emial' is not a property of Customer"),
    (("type: IN_SEGMENT", "type: IN_SEGMNT"), 13, "unknown relationship type 'IN_SEGMNT'"),
    (("to: {class: Segment", "to: {class: Product"), 13, "Customer -[IN_SEGMENT]-> Product is not allowed"),
    (("quantity: qty", "price: qty"), 22, "'price' is not a property of relationship CONTAINS"),
    (("uid: \"T-{id|upper}\"", "uid: \"T-{id|shout}\""), 7, "unknown template filter 'shout'"),
    (("uid: \"T-{id|upper}\"", "uid: \"T-fixed\""), 7, "names no field"),
    (("        email: mail", "        email: {column: mail, value: x}"), 10, "exactly one of column"),
    (("      relationships:", "      extra: 1\n      relationships:"), 12, "Extra inputs are not permitted"),
    (("    link:", "    entity: {class: Product, uid: \"{x}\"}\n    link:"), 16, "exactly one of 'entity', 'entities' or 'link'"),
    (("        email: mail", "        email: {column: mail, clean: shout}"), 10, "unknown cleaning 'shout'"),
])
def test_mistakes_name_the_mapping_line(edit: tuple[str, str], line: int, message: str) -> None:
    text = GOOD.replace(*edit, 1)
    assert text != GOOD
    with pytest.raises(MappingError) as caught:
        parse(text)
    assert f"test.yaml line {line} " in str(caught.value) and message in str(caught.value), str(caught.value)


def test_unknown_mapping_name_lists_the_shipped_ones() -> None:
    with pytest.raises(MappingError, match="northwind"):
        load_mapping("nope", ONTOLOGY)
    with pytest.raises(MappingError, match="not valid YAML"):
        parse("name: [unclosed\n")


def test_globs_match_relative_paths() -> None:
    mapping = parse(GOOD)
    assert mapping.source_for("lines.csv").file == "*.csv"
    assert mapping.source_for("sub/customers.csv").file == "*.csv"
    assert mapping.source_for("notes.txt") is None


def mapper(index: int = 0) -> RowMapper:
    mapping = parse(GOOD)
    return RowMapper(mapping, mapping.sources[index], ONTOLOGY)


def test_an_entity_row_maps_templates_values_and_relationships() -> None:
    row = RawRow("c.csv", 4, {"id": "c9", "first": "Ｌｉ", "last": "Na ", "mail": "LI@X.CN", "lang": "中文",
                              "segment": "SMB"}, "line 5")
    out = mapper().map(row)
    (record,) = out.records
    assert not out.problems
    assert record.uid == "T-C9" and record.line == 4 and record.source == "c.csv"
    assert record.props == {"name": "Li Na", "email": "li@x.cn", "language": "zh"}
    assert [(r.type, r.other_uid, r.outgoing) for r in record.rels] == [("IN_SEGMENT", "SEG-SMB", True)]


def test_optional_relationships_are_skipped_when_their_key_is_empty() -> None:
    out = mapper().map(RawRow("c.csv", 1, {"id": "x", "first": "A", "last": "B", "segment": "NULL"}))
    assert out.records[0].rels == ()


def test_missing_and_bad_values_are_problems_naming_the_field() -> None:
    out = mapper().map(RawRow("c.csv", 2, {"first": "A", "last": "B"}, "line 3"))
    assert [(p.line, p.field, p.reason) for p in out.problems] == [(2, "uid", "the record has no 'id'")]
    out = mapper().map(RawRow("c.csv", 3, {"id": "y", "first": "A", "last": "NULL", "mail": "nope"}))
    assert {(p.field, p.reason) for p in out.problems} == {
        ("props.name", "'last' is empty"), ("props.email", "'nope' is not an e-mail address")}
    assert out.records == []


def test_a_link_row_maps_to_a_relationship_with_typed_properties() -> None:
    out = mapper(1).map(RawRow("lines.csv", 1, {"order": "1", "product": "7", "qty": "３"}))
    (link,) = out.links
    assert (link.start_uid, link.end_uid, link.props) == ("TX-1", "P-7", {"quantity": 3})
    bad = mapper(1).map(RawRow("lines.csv", 2, {"order": "1", "product": "7", "qty": "three"}))
    assert [(p.uid, p.field) for p in bad.problems] == [("TX-1->P-7", "rels.CONTAINS.quantity")]


def test_paths_reach_into_nested_rows() -> None:
    row = {"a": {"b": [{"c": 1}, {"c": 2}]}, "x.y": "dotted column", "n": {"@lang": "en", "#text": "t"}}
    assert get_value(row, "a.b[1].c") == 2
    assert get_value(row, "x.y") == "dotted column"
    assert get_value(row, "n") == "t"


FLAT = """\
name: flat
sources:
  - file: "tickets*.csv"
    entities:
      - class: Customer
        uid: "C-{email|lower|digest}"
        latest_by: updated
        properties: {name: customer, email: email}
      - class: Product
        uid: "P-{product|slug}"
        properties: {name: product}
  - file: "tickets*.csv"
    entity:
      class: SupportCase
      uid: "T-{id}"
      properties: {title: subject, description: subject, status: {value: open}, openedAt: at}
      relationships:
        - type: RAISED
          from: {class: Customer, uid: "C-{email|lower|digest}"}
  - file: "*.csv"
    entities:
      - class: Product
        uid: "P-{nope}"
        properties: {name: nope, colour: red}
"""


def test_every_matching_source_applies_and_a_source_may_make_several_entities() -> None:
    with pytest.raises(MappingError, match=r"line 24 \(sources\[2\]\.entities\[0\]\.properties\.colour\)"):
        parse(FLAT)
    mapping = parse(FLAT.rsplit("  - file: \"*.csv\"", 1)[0])
    assert [s.entity_maps[0].cls for s in mapping.sources_for("tickets_2025.csv")] == ["Customer", "SupportCase"]
    assert mapping.sources_for("orders.csv") == []
    row = RawRow("tickets_2025.csv", 3, {"customer": "Ann Lee", "email": "ANN@x.example", "product": "Router X2",
                                          "updated": "2025-03-04", "id": "7", "subject": "Broken", "at": "2025-03-04"})
    mapped = RowMapper(mapping, mapping.sources[0], ONTOLOGY).map(row)
    assert [(r.type, r.uid.split("-")[0]) for r in mapped.records] == [("Customer", "C"), ("Product", "P")]
    assert mapped.records[0].rank == "2025-03-04" and mapped.records[1].uid == "P-router-x2"
    broken = RowMapper(mapping, mapping.sources[0], ONTOLOGY).map(RawRow("t.csv", 4, {"email": "a@b.example"}))
    assert broken.records == [] and "uid" in {p.field for p in broken.problems}  # one bad entity: the row is out
