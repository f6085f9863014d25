"""A corpus of malformed inputs: each gets a precise error and the graph holds exactly the valid records.

Every case is ingested through the real pipeline into the real Neo4j; the assertions compare the
complete list of problems (source, record, field, reason) and the complete set of uids written.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kcrm.ingest.pipeline import IngestOptions, ingest_path
from kcrm.ingest.readers.base import ReadLimits
from kcrm.kg.schema import apply_schema
from kcrm.ontology.model import load_ontology

pytestmark = pytest.mark.e2e

MAPPING = """\
name: malformed
null_values: ["", "NULL"]
sources:
  - file: "orders.*"
    entity:
      class: Transaction
      uid: "ING-{id}"
      properties: {orderedAt: placed}
      relationships:
        - type: PLACED
          from: {class: Customer, uid: "ING-{customer}"}
  - file: "[!o]*"  # every file but the orders: each source whose glob matches a file applies to it
    entity:
      class: Customer
      uid: "ING-{id}"
      properties:
        name: name
        email: email
        phone: phone
        customerSince: since
        language: language
"""
HEADER = "id,name,email,phone,since,language\n"
GOOD = "M1,Alpha,a@alpha.example,,2020-01-01,en\n"
CLEANUP = "MATCH (n) WHERE n.uid STARTS WITH 'ING-' OR n.source = 'ingtest-malformed' CALL (n) { DETACH DELETE n }"


@dataclass
class Case:
    id: str
    files: dict[str, str | bytes]
    problems: list[tuple[str, int, str, str]]
    uids: set[str] = field(default_factory=set)
    mapping: bool = True
    limits: ReadLimits = field(default_factory=ReadLimits)


def nested(depth: int) -> dict:
    node: dict = {"leaf": "x"}
    for _ in range(depth):
        node = {"a": node}
    return node


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * 5_000_000)
    return buffer.getvalue()


BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;">]><r><c><id>M1</id><name>&lol2;</name></c></r>')
XXE = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       '<r><c><id>M1</id><name>&xxe;</name></c></r>')
HOSTILE_NAME = "Robert'); MATCH (n) DETACH DELETE n; //"
TEMPLATE_NAME = "{{7*7}} <script>alert(1)</script> =cmd|' /C calc'!A0"

CASES = [
    Case("csv-extra-field", {"c.csv": HEADER + GOOD + "M2,Beta,b@beta.example,,2020-01-01,en,surplus\n"},
         [("c.csv", 2, "", "7 fields where the header has 6")], {"ING-M1"}),
    Case("csv-missing-fields", {"c.csv": HEADER + GOOD + "M2,Beta,b@beta.example\n"},
         [("c.csv", 2, "", "3 fields where the header has 6")], {"ING-M1"}),
    Case("csv-unclosed-quote", {"c.csv": HEADER + GOOD + 'M2,"Beta,b@beta.example,,2020-01-01,en\n'},
         [("c.csv", 2, "", "unexpected end of data; the rest of the file was not read")], {"ING-M1"}),
    Case("csv-latin-1", {"c.csv": (HEADER + "M1,Müller Café,m@x.example,,2020-01-01,en\n").encode("latin-1")},
         [("c.csv", 0, "", "cannot tell the encoding of c.csv: not UTF-8 (bad byte 0xfc")]),
    Case("csv-big5", {"c.csv": (HEADER + "M1,台灣積體電路製造股份有限公司,t@x.example,,2020-01-01,zh\n"
                                "M2,鴻海精密工業股份有限公司,h@x.example,,2020-01-01,zh\n").encode("big5")},
         [("c.csv", 0, "", "reads like big5")]),
    Case("csv-utf16-without-bom", {"c.csv": (HEADER + GOOD).encode("utf-16-le")},
         [("c.csv", 0, "", "UTF-16 without a byte-order mark")]),
    Case("csv-missing-column", {"c.csv": "id,email\nM1,a@alpha.example\n"},
         [("c.csv", 1, "props.name", "is required, but the record has no 'name'")]),
    Case("csv-empty-required-value", {"c.csv": HEADER + "M1,,a@alpha.example,,2020-01-01,en\n"},
         [("c.csv", 1, "props.name", "is required")]),
    Case("csv-missing-key", {"c.csv": HEADER + ",Alpha,a@alpha.example,,2020-01-01,en\n" + GOOD.replace("M1", "M2")},
         [("c.csv", 1, "uid", "'id' is empty")], {"ING-M2"}),
    Case("csv-bad-email", {"c.csv": HEADER + "M1,Alpha,alpha at example,,2020-01-01,en\n"},
         [("c.csv", 1, "props.email", "'alpha at example' is not an e-mail address")]),
    Case("csv-impossible-date", {"c.csv": HEADER + "M1,Alpha,a@alpha.example,,2024-13-45,en\n"},
         [("c.csv", 1, "props.customerSince", "is not a valid date: month must be in 1..12")]),
    Case("csv-ambiguous-date", {"c.csv": HEADER + "M1,Alpha,a@alpha.example,,03/05/2024,en\n"},
         [("c.csv", 1, "props.customerSince", "ambiguous (day/month order)")]),
    Case("csv-value-not-allowed", {"c.csv": HEADER + "M1,Alpha,a@alpha.example,,2020-01-01,fr\n"},
         [("c.csv", 1, "props.language", "'fr' is not one of en, zh")]),
    Case("csv-bad-phone", {"c.csv": HEADER + "M1,Alpha,a@alpha.example,call me maybe,2020-01-01,en\n"},
         [("c.csv", 1, "props.phone", "has no digits: not a phone number")]),
    Case("csv-huge-field", {"c.csv": HEADER + "M1," + "x" * 600 + ",a@alpha.example,,2020-01-01,en\n"},
         [("c.csv", 1, "name", "600 characters, over the field limit of 500")], limits=ReadLimits(max_field_chars=500)),
    Case("csv-field-beyond-the-reader", {"c.csv": HEADER + GOOD + "M2," + "x" * 5000 + ",b@x.example,,,en\n"},
         [("c.csv", 2, "", "over twice the field limit of 500 characters")], {"ING-M1"},
         limits=ReadLimits(max_field_chars=500)),
    Case("csv-name-over-shape-length", {"c.csv": HEADER + "M1," + "N" * 400 + ",a@alpha.example,,2020-01-01,en\n"},
         [("c.csv", 1, "props.name", "longer than 300 characters")]),
    Case("csv-file-over-size-limit", {"c.csv": HEADER + GOOD * 5},
         [("c.csv", 0, "", "over the limit of 100 bytes")], limits=ReadLimits(max_file_bytes=100)),
    Case("csv-empty-file", {"c.csv": ""}, [("c.csv", 0, "", "no header line: the file is empty")]),
    Case("csv-duplicate-header", {"c.csv": "id,name,name\nM1,A,B\n"}, [("c.csv", 0, "", "names column 'name' twice")]),
    Case("csv-repeated-uid-folds-into-one-node", {"c.csv": HEADER + GOOD + GOOD}, [], {"ING-M1"}),
    Case("csv-nul-byte", {"c.csv": HEADER + "M1,Al\0pha,a@alpha.example,,2020-01-01,en\n"},
         [("c.csv", 1, "name", "contains a NUL byte")]),
    Case("injection-strings-are-only-data", {"c.csv": HEADER + f'M1,"{HOSTILE_NAME}",a@alpha.example,,,en\n'
                                                      f'M2,"{TEMPLATE_NAME}",b@beta.example,,,en\n'},
         [], {"ING-M1", "ING-M2"}),
    Case("json-truncated", {"c.json": '[{"id": "M1", "name": "Alpha"}, {"id": "M2", "name": "Be'},
         [("c.json", 0, "", "truncated JSON at line 1 column")]),
    Case("json-not-objects", {"c.json": json.dumps([1, "M0", {"id": "M1", "name": "Alpha"}])},
         [("c.json", 1, "", "must be a JSON object, got a number"),
          ("c.json", 2, "", "must be a JSON object, got a string")], {"ING-M1"}),
    Case("json-object-for-a-string", {"c.json": json.dumps([{"id": "M1", "name": {"first": "A"}}])},
         [("c.json", 1, "props.name", "expected a string, got dict")]),
    Case("json-boolean-for-a-string", {"c.json": json.dumps([{"id": "M1", "name": True}])},
         [("c.json", 1, "props.name", "expected a string, got bool")]),
    Case("json-number-for-a-date", {"c.json": json.dumps([{"id": "M1", "name": "A", "since": 20240101}])},
         [("c.json", 1, "props.customerSince", "expected a date, got int")]),
    Case("json-nesting-bomb", {"c.json": "[" * 100_000 + "]" * 100_000},
         [("c.json", 0, "", "nested too deeply")]),
    Case("json-deep-record", {"c.json": json.dumps([{"id": "M1", "name": "A", "x": nested(80)}])},
         [("c.json", 1, "x.a.a*", "nested deeper than 64 levels")]),
    Case("jsonl-bad-line", {"c.jsonl": '{"id": "M1", "name": "Alpha"}\n{oops\n{"id": "M3", "name": "Gamma"}\n'},
         [("c.jsonl", 2, "", "malformed JSON at column 2")], {"ING-M1", "ING-M3"}),
    Case("jsonl-huge-string", {"c.jsonl": json.dumps({"id": "M1", "name": "y" * 700}) + "\n"},
         [("c.jsonl", 1, "name", "700 characters, over the field limit of 500")], limits=ReadLimits(max_field_chars=500)),
    Case("record-form-hostile-label", {"r.jsonl": json.dumps(
        {"type": "Customer`) DETACH DELETE n //", "uid": "ING-M1", "props": {"name": "x"}}) + "\n"},
         [("r.jsonl", 1, "type", "unknown class 'Customer`) DETACH DELETE n //'")], mapping=False),
    Case("record-form-unknown-property", {"r.jsonl": json.dumps(
        {"type": "Customer", "uid": "ING-M1", "props": {"name": "x", "password": "hunter2"}}) + "\n"},
         [("r.jsonl", 1, "props.password", "not a property of Customer")], mapping=False),
    Case("record-form-hostile-relationship", {"r.jsonl": json.dumps(
        {"type": "Customer", "uid": "ING-M1", "props": {"name": "x"},
         "rels": [{"type": "KNOWS]->() DETACH DELETE n //", "to": "ING-M0", "to_type": "Customer"}]}) + "\n"},
         [("r.jsonl", 1, "rels.KNOWS]->() DETACH DELETE n //", "unknown relationship type")], mapping=False),
    Case("record-form-missing-uid", {"r.jsonl": json.dumps({"type": "Customer", "props": {"name": "x"}}) + "\n"},
         [("r.jsonl", 1, "", "not in kcrm record form, and no mapping was given")], mapping=False),
    Case("xml-billion-laughs", {"c.xml": BOMB}, [("c.xml", 0, "", "declares the entity 'lol'")]),
    Case("xml-external-entity", {"c.xml": XXE}, [("c.xml", 0, "", "declares the entity 'xxe'")]),
    Case("xml-truncated", {"c.xml": "<r><c><id>M1</id><name>Alpha</name></c><c><id>M2</id><na"},
         [("c.xml", 2, "", "malformed XML: unclosed token")], {"ING-M1"}),
    Case("xml-deep-nesting", {"c.xml": "<r>" + "<a>" * 100 + "</a>" * 100 + "</r>"},
         [("c.xml", 1, "", "nested deeper than 64 levels")]),
    Case("turtle-syntax-error", {"g.ttl": "@prefix kcrm: <https://kcrm.dev/ontology#> .\n<urn:x> a kcrm:Customer ;\n"},
         [("g.ttl", 0, "", "not valid turtle")], mapping=False),
    Case("turtle-unknown-class", {"g.ttl": '@prefix kcrm: <https://kcrm.dev/ontology#> .\n'
                                           '<https://kcrm.dev/data/ING-M1> a kcrm:Spaceship ; kcrm:uid "ING-M1" .\n'},
         [("g.ttl", 1, "type", "unknown class 'Spaceship'")], mapping=False),
    Case("jsonld-remote-context", {"g.jsonld": json.dumps({"@context": "https://schema.org/", "@id": "urn:x"})},
         [("g.jsonld", 0, "", "uses the remote context 'https://schema.org/'")], mapping=False),
    Case("eml-without-headers", {"m.eml": "hello, this is no e-mail at all\n"},
         [("m.eml", 0, "", "no e-mail headers")], mapping=False),
    Case("mbox-message-without-date", {"m.mbox": "From a@x.example Mon May 13 09:00:00 2024\nFrom: a@x.example\n"
                                                 "Subject: No date here\nMessage-ID: <nd@x.example>\n\nBody\n"},
         [("m.mbox", 1, "props.openedAt", "is required")], mapping=False),
    Case("pdf-corrupt", {"d.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog"}, [("d.pdf", 0, "", "cannot read this PDF")],
         mapping=False),
    Case("docx-not-a-zip", {"d.docx": b"PK but not really"}, [("d.docx", 0, "", "not a DOCX (zip) file")],
         mapping=False),
    Case("docx-zip-bomb", {"d.docx": zip_bomb()}, [("d.docx", 0, "", "over the limit of 1,000,000 bytes")],
         mapping=False, limits=ReadLimits(max_file_bytes=1_000_000)),
    Case("text-without-text", {"d.txt": "  \n\n "}, [("d.txt", 1, "", "no extractable text")], mapping=False),
    Case("dangling-reference", {"c.csv": HEADER + GOOD, "orders.csv": "id,customer,placed\nM8,M1,2024-01-01\n"
                                                                      "M9,NOPE,2024-01-02\n"},
         [("orders.csv", 2, "rels.PLACED", "no Customer with uid 'ING-NOPE' in this run or in the graph")],
         {"ING-M1", "ING-M8"}),
    Case("rejection-cascades-to-references", {"c.csv": HEADER + "M2,Beta,not-mail,,,en\n",
                                              "orders.csv": "id,customer,placed\nM7,M2,2024-01-01\n"},
         [("c.csv", 1, "props.email", "is not an e-mail address"),
          ("orders.csv", 1, "rels.PLACED", "no Customer with uid 'ING-M2'")]),
]


def test_the_corpus_is_large_and_its_ids_unique() -> None:
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def schema_graph(graph):
    apply_schema(graph, load_ontology())
    return graph


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_is_rejected_precisely(case: Case, schema_graph, tmp_path: Path) -> None:
    graph = schema_graph
    source = tmp_path / "in"
    source.mkdir()
    for name, content in case.files.items():
        (source / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    mapping = None
    if case.mapping:
        mapping = tmp_path / "malformed.yaml"
        mapping.write_text(MAPPING, encoding="utf-8")
    graph.write(CLEANUP)
    nodes_before = graph.read("MATCH (n) RETURN count(n) AS n")[0]["n"]
    try:
        options = IngestOptions(mapping=mapping, source="ingtest-malformed", limits=case.limits)
        result = ingest_path(source, load_ontology(), graph, options, tmp_path / "run")
        found = sorted((p.source, p.line, p.field, p.reason) for p in result.rejected)
        expected = sorted(case.problems)
        assert len(found) == len(expected), found
        for (src, record, fld, reason), (want_src, want_record, want_field, want_reason) in zip(found, expected):
            assert (src, record) == (want_src, want_record), found
            assert fld.startswith(want_field[:-1]) if want_field.endswith("*") else fld == want_field, found
            assert want_reason in reason, found
        uids = {r["uid"] for r in graph.read("MATCH (n) WHERE n.uid STARTS WITH 'ING-' RETURN n.uid AS uid")}
        assert uids == case.uids
        assert graph.read("MATCH (n) RETURN count(n) AS n")[0]["n"] == nodes_before + len(case.uids)
        assert result.ok == (not case.problems)
        quarantined = [json.loads(line) for line in (tmp_path / "run" / "quarantine.jsonl").read_text(
            encoding="utf-8").splitlines()]
        assert {(q["source"], q["record"]) for q in quarantined} == {(p[0], p[1]) for p in case.problems}
        assert all("raw" in q or "file" in q for q in quarantined), quarantined
    finally:
        graph.write(CLEANUP)


def test_injection_strings_are_stored_verbatim(schema_graph, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "injection-strings-are-only-data")
    (tmp_path / "c.csv").write_text(str(case.files["c.csv"]), encoding="utf-8")
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    try:
        ingest_path(tmp_path / "c.csv", load_ontology(), schema_graph,
                    IngestOptions(mapping=tmp_path / "m.yaml", source="ingtest-malformed"), tmp_path / "run")
        names = {r["uid"]: r["name"] for r in schema_graph.read(
            "MATCH (c:Customer) WHERE c.uid IN ['ING-M1', 'ING-M2'] RETURN c.uid AS uid, c.name AS name")}
        assert names == {"ING-M1": HOSTILE_NAME, "ING-M2": TEMPLATE_NAME}
    finally:
        schema_graph.write(CLEANUP)
