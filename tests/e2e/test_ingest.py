"""Ingesting real files of every format into the real Neo4j: cleaned, linked, provenanced, idempotent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kcrm import workflows

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
NORTHWIND = Path(__file__).resolve().parents[3] / "shared" / "data" / "northwind"
CLEANUP = ("MATCH (n) WHERE n.uid STARTS WITH 'ING-' OR n.source STARTS WITH 'ingtest-' "
           "CALL (n) { DETACH DELETE n } RETURN count(*) AS n")


@pytest.fixture
def clean(graph):
    graph.write(CLEANUP)
    yield graph
    graph.write(CLEANUP)


def ingest_fixtures(settings, graph) -> dict:
    runs = {
        "acme": workflows.ingest(settings, graph, FIXTURES / "acme", mapping=str(FIXTURES / "acme.yaml"),
                                 source="ingtest-acme"),
        "docs": workflows.ingest(settings, graph, FIXTURES / "docs", source="ingtest-docs"),
        "mail": workflows.ingest(settings, graph, FIXTURES / "mail", source="ingtest-mail"),
        "rdf": workflows.ingest(settings, graph, FIXTURES / "rdf", source="ingtest-rdf"),
        "records": workflows.ingest(settings, graph, FIXTURES / "records", source="ingtest-records"),
    }
    for name, result in runs.items():
        assert result.ok, (name, result.rejected)
    return runs


def test_a_real_file_of_every_format_lands_in_the_graph(clean, e2e_settings) -> None:
    runs = ingest_fixtures(e2e_settings, clean)
    formats = {f.format for r in runs.values() for f in r.files}
    assert formats == {"csv", "tsv", "json", "jsonl", "xml", "turtle", "jsonld", "email", "text", "markdown",
                       "html", "pdf", "docx"}
    customers = {r["uid"]: r for r in clean.read(
        "MATCH (c:Customer) WHERE c.uid STARTS WITH 'ING-' RETURN c.uid AS uid, c.name AS name, c.email AS email, "
        "c.customerSince AS since, c.sourceRecord AS record, c.source AS source")}
    assert set(customers) == {f"ING-C{n}" for n in range(1, 8)}
    assert customers["ING-C1"]["name"] == "ACME Trading Ltd" and customers["ING-C1"]["email"] == "sales@acme.example.com"
    assert customers["ING-C3"]["since"] == "2019-07-01"
    assert customers["ING-C5"]["name"] == "上海电气集团股份有限公司"
    assert customers["ING-C5"]["record"] == "customers_gbk.csv:1" and customers["ING-C5"]["source"] == "ingtest-acme"
    lines = clean.read("MATCH (t:Transaction)-[r:CONTAINS]->(p:Product) WHERE t.uid STARTS WITH 'ING-' "
                       "RETURN t.uid AS t, p.uid AS p, p.name AS name, r.quantity AS q ORDER BY t, p")
    assert [(x["t"], x["p"], x["q"]) for x in lines] == [("ING-O1", "ING-P1", 2), ("ING-O1", "ING-P3", 1),
                                                         ("ING-O2", "ING-P4", 5)]
    assert lines[1]["name"] == "Docking Station D3"
    case = clean.read("MATCH (c:Customer)-[:RAISED]->(s:SupportCase {uid: 'ING-T1'})-[:ABOUT_PRODUCT]->(p:Product) "
                      "RETURN c.uid AS c, p.uid AS p, s.priority AS priority")
    assert case == [{"c": "ING-C1", "p": "ING-P1", "priority": "urgent"}]
    docs = clean.read("MATCH (d:Document {source: 'ingtest-docs'}) RETURN d.title AS title ORDER BY title")
    assert [d["title"] for d in docs] == ["Cloud storage FAQ", "Docking station guide",
                                          "Employee handbook: escalations", "L2 datasheet", "Router AX1 quick start"]
    mails = clean.read("MATCH (s:SupportCase {source: 'ingtest-mail'}) RETURN s.title AS title, "
                       "s.description AS text, s.language AS language ORDER BY s.openedAt")
    assert [m["title"] for m in mails] == ["Invoice shows wrong VAT", "打印机无法连接", "Docking station flickers"]
    assert mails[0]["text"].count("From: ") == 2 and mails[1]["language"] == "zh"
    rdf = clean.read("MATCH (c:Customer {uid: 'ING-C7'})-[:IN_SEGMENT]->(s:Segment) RETURN s.name AS s")
    assert rdf == [{"s": "Enterprise (RDF)"}]
    assert clean.read("MATCH (p:Policy {uid: 'ING-POL-1'}) RETURN p.title AS t") == [{"t": "Returns within 30 days"}]
    missing = clean.read("MATCH (n) WHERE n.source STARTS WITH 'ingtest-' AND (n.sourceRecord IS NULL OR "
                         "n.ingestedAt IS NULL OR n.contentHash IS NULL) RETURN count(n) AS n")
    assert missing == [{"n": 0}]


def test_ingesting_the_same_sources_again_changes_nothing(clean, e2e_settings) -> None:
    ingest_fixtures(e2e_settings, clean)
    before = clean.read("MATCH (n) WHERE n.source STARTS WITH 'ingtest-' RETURN count(n) AS n, "
                        "collect(n.updatedAt) AS stamps")
    again = ingest_fixtures(e2e_settings, clean)
    after = clean.read("MATCH (n) WHERE n.source STARTS WITH 'ingtest-' RETURN count(n) AS n, "
                       "collect(n.updatedAt) AS stamps")
    assert after == before
    for result in again.values():
        assert sum(result.load.created.values()) == 0 and sum(result.load.updated.values()) == 0


@pytest.mark.skipif(not NORTHWIND.is_dir(), reason="shared/data/northwind is not checked out beside the repo")
def test_northwind_loads_with_its_mapping_and_reproduces_the_known_revenue(graph, e2e_settings) -> None:
    cleanup = "MATCH (n {source: 'ingtest-northwind'}) CALL (n) { DETACH DELETE n } RETURN count(*) AS n"
    graph.write(cleanup)
    try:
        result = workflows.ingest(e2e_settings, graph, NORTHWIND, mapping="northwind", source="ingtest-northwind")
        assert result.ok, result.rejected[:5]
        skipped = {f.source for f in result.files if f.skipped}
        assert {"regions.csv", "original/orders.csv"} <= skipped
        counts = graph.read("MATCH (n {source: 'ingtest-northwind'}) RETURN labels(n)[0] AS label, count(*) AS n")
        assert {r["label"]: r["n"] for r in counts} == {"Customer": 91, "Product": 77, "Transaction": 830,
                                                         "Employee": 9, "ProductCategory": 8}
        revenue = graph.read(
            "MATCH (t:Transaction {source: 'ingtest-northwind'})-[r:CONTAINS]->(:Product) "
            "RETURN count(r) AS lines, sum(r.unitPrice * r.quantity * (1 - r.discount)) AS revenue")[0]
        assert revenue["lines"] == 2155
        assert round(revenue["revenue"], 2) == 1265793.04
        buyers = graph.read("MATCH (c:Customer {source: 'ingtest-northwind'}) WHERE (c)-[:PLACED]->() "
                            "RETURN count(c) AS n")
        assert buyers == [{"n": 89}]
    finally:
        graph.write(cleanup)


def run_cli(e2e_settings, neo4j_uri: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, KCRM_DATA_DIR=str(data_dir), NEO4J_URI=neo4j_uri,
               NEO4J_PASSWORD=e2e_settings.neo4j_password, KCRM_LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "kcrm.cli", "ingest", *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_cli_reports_rejections_quarantines_them_and_exits_1(clean, e2e_settings, neo4j_uri, tmp_path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "customers.csv").write_text(
        "id,name,city,country,email,phone,since,language\n"
        "K1,Kite Ltd,Oslo,Norway,k@kite.example,,2020-01-01,en\n"
        "K2,Bad Mail Ltd,Oslo,Norway,not-an-address,,2020-01-01,en\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    done = run_cli(e2e_settings, neo4j_uri, data_dir, str(source), "--mapping", str(FIXTURES / "acme.yaml"),
                   "--source", "ingtest-cli")
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["accepted"]["records"] == 1 and summary["rejected"]["records"] == 1
    assert "customers.csv:2 (line 3) uid=ING-K2 props.email: 'not-an-address' is not an e-mail address" in done.stderr
    report = json.loads(Path(summary["report"]).read_text(encoding="utf-8"))
    assert report["rejected"] == [{"source": "customers.csv", "record": 2, "locator": "line 3", "uid": "ING-K2",
                                   "field": "props.email", "reason": "'not-an-address' is not an e-mail address"}]
    (quarantined,) = [json.loads(x) for x in Path(summary["quarantine"]).read_text(encoding="utf-8").splitlines()]
    assert quarantined["raw"]["email"] == "not-an-address" and quarantined["record"] == 2
    uids = clean.read("MATCH (c:Customer) WHERE c.uid IN ['ING-K1', 'ING-K2'] RETURN c.uid AS uid")
    assert uids == [{"uid": "ING-K1"}]
    (source / "customers.csv").write_text("id,name\nK3,Kestrel AS\n", encoding="utf-8")
    dry = run_cli(e2e_settings, neo4j_uri, data_dir, str(source), "--mapping", str(FIXTURES / "acme.yaml"),
                  "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert clean.read("MATCH (c:Customer {uid: 'ING-K3'}) RETURN count(c) AS n") == [{"n": 0}]
    bad_mapping = run_cli(e2e_settings, neo4j_uri, data_dir, str(source), "--mapping", "no-such-mapping")
    assert bad_mapping.returncode == 2 and "shipped mappings" in bad_mapping.stderr


def test_reingest_with_prune_removes_deleted_records_and_only_those(clean, e2e_settings, tmp_path) -> None:
    header = "id,name,city,country,email,phone,since,language\n"
    rows = {"P1": "P1,Puffin AS,Oslo,Norway,,,,en\n", "P2": "P2,Petrel AB,Malmö,Sweden,,,,en\n",
            "P3": "P3,Plover Oy,Espoo,Finland,,,,en\n"}
    source = tmp_path / "crm"
    source.mkdir()
    target = source / "customers.csv"
    mapping = str(FIXTURES / "acme.yaml")

    def uids() -> dict[str, str]:
        return {r["uid"]: r["city"] for r in clean.read(
            "MATCH (c:Customer {source: 'ingtest-prune'}) RETURN c.uid AS uid, c.city AS city")}

    target.write_text(header + "".join(rows.values()), encoding="utf-8")
    workflows.ingest(e2e_settings, clean, source, mapping=mapping, source="ingtest-prune")
    assert uids() == {"ING-P1": "Oslo", "ING-P2": "Malmö", "ING-P3": "Espoo"}
    target.write_text(header + "P3,Plover Oy,Turku,Finland,,,,en\nP4,Broken,,,,,,xx\n", encoding="utf-8")
    rejected_run = workflows.ingest(e2e_settings, clean, source, mapping=mapping, source="ingtest-prune", prune=True)
    assert rejected_run.deleted == 2 and not rejected_run.ok
    journal = (rejected_run.report_path.parent / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    pruned = [uid for e in map(json.loads, journal) if e["event"] == "prune" for uid in e["deleted"]]
    assert sorted(pruned) == ["ING-P1", "ING-P2"]  # each prune chunk journaled as it commits
    assert uids() == {"ING-P3": "Turku"}
    target.write_text(header + rows["P1"] + 'P9,"unclosed\n', encoding="utf-8")
    broken = workflows.ingest(e2e_settings, clean, source, mapping=mapping, source="ingtest-prune", prune=True)
    assert broken.deleted == 0, "a file that could not be read to the end must not prune"
    assert uids() == {"ING-P1": "Oslo", "ING-P3": "Turku"}
