"""accessGroups as data: declared by the ontology, set by mappings, checked by validation, in the sample."""

from __future__ import annotations

import textwrap

from kcrm.ingest.mapper import RowMapper
from kcrm.ingest.mapping import parse_mapping
from kcrm.ingest.readers.base import RawRow
from kcrm.ingest.validate import validate_record
from kcrm.kg.records import Record
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import load_ontology
from kcrm.sample import build_sample
from kcrm.sample.access import INTERNAL, KEY_ACCOUNTS, key_accounts

ONTOLOGY = load_ontology()
MAPPING = """\
name: restricted
sources:
  - file: "cases.csv"
    entity:
      class: SupportCase
      uid: "RC-{id}"
      properties:
        title: title
        description: title
        status: {value: open}
        openedAt: opened
        accessGroups: {column: groups, split: ";"}
  - file: "hr.csv"
    entity:
      class: Document
      uid: "HR-{id}"
      properties:
        title: title
        text: title
        accessGroups: {value: [hr]}
"""


def test_every_class_may_carry_access_groups() -> None:
    for name, spec in ONTOLOGY.classes.items():
        assert "accessGroups" in spec.properties, name
        assert spec.properties["accessGroups"].many


def test_mappings_set_access_groups_from_a_column_or_a_constant() -> None:
    mapping = parse_mapping(textwrap.dedent(MAPPING), "restricted.yaml", ONTOLOGY)
    cases = RowMapper(mapping, mapping.sources[0], ONTOLOGY).map(
        RawRow("cases.csv", 1, {"id": "1", "title": "Outage", "opened": "2026-01-02T03:04:05+00:00",
                                "groups": "key-accounts;hr"}))
    assert not cases.problems and cases.records[0].props["accessGroups"] == ["key-accounts", "hr"]
    docs = RowMapper(mapping, mapping.sources[1], ONTOLOGY).map(RawRow("hr.csv", 1, {"id": "7", "title": "Pay"}))
    assert not docs.problems and docs.records[0].props["accessGroups"] == ["hr"]
    for record in (cases.records[0], docs.records[0]):
        checked, problems = validate_record(ONTOLOGY, record)
        assert checked is not None and not problems


def test_malformed_group_names_are_rejected_precisely() -> None:
    record = Record("Document", "D-1", {"title": "t", "text": "x", "accessGroups": ["ok", "no spaces"]}, (), "f", 3)
    checked, problems = validate_record(ONTOLOGY, record)
    assert checked is None and [(p.line, p.field) for p in problems] == [(3, "props.accessGroups")]


def test_sample_restricts_key_accounts_a_confidential_customer_and_runbooks() -> None:
    data = build_sample()
    accounts = set(key_accounts(data))
    restricted = {(t, r["uid"]) for t, rs in data.items() for r in rs if r["props"].get("accessGroups")}
    cases = {r["uid"] for r in data["SupportCase"]
             if any(rel.get("from") in accounts for rel in r["rels"] if rel["type"] == "RAISED")}
    assert {("SupportCase", uid) for uid in cases} <= restricted and len(cases) > 50
    assert len([1 for t, _ in restricted if t == "Customer"]) == 1
    groups = {g for rs in data.values() for r in rs for g in r["props"].get("accessGroups", [])}
    assert groups == {KEY_ACCOUNTS, INTERNAL}
    assert len(data["SupportCase"]) == 3000 and len(data["Document"]) == 150  # counts unchanged


def test_cypher_predicate_takes_groups_as_a_parameter() -> None:
    assert visible("n") == ("($groups IS NULL OR n.accessGroups IS NULL OR size(n.accessGroups) = 0 "
                            "OR any(g IN n.accessGroups WHERE g IN $groups))")
    assert query_groups(None) is None and query_groups(["hr"]) == ["hr", "public"]
