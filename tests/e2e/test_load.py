"""Loading the sample company into the real Neo4j: complete, provenanced, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcrm import workflows

pytestmark = pytest.mark.e2e

# The service's own state (audit entries, jobs, keys) shares the database but is not customer
# knowledge, so the counts and the provenance check look at the customer model only.
COUNTS = """
MATCH (n) WHERE NOT n:KcrmService WITH count(n) AS nodes
MATCH (a)-[r]->() WHERE NOT a:KcrmService RETURN nodes, count(r) AS relationships
"""


def _counts(graph) -> tuple[int, int]:
    row = graph.read(COUNTS)[0]
    return row["nodes"], row["relationships"]


def test_the_sample_loads_without_rejections(loaded, graph, sample_dir: Path) -> None:
    assert loaded.rejected == []
    manifest = json.loads((sample_dir / "manifest.json").read_text(encoding="utf-8"))
    labels = {"customers": "Customer", "support_cases": "SupportCase", "documents": "Document",
              "employees": "Employee", "products": "Product", "policies": "Policy",
              "industry_rules": "IndustryRule", "transactions": "Transaction"}
    for file_stem, label in labels.items():
        lines = sum(1 for _ in (sample_dir / f"{file_stem}.jsonl").open(encoding="utf-8"))
        count = graph.read(f"MATCH (n:`{label}`) RETURN count(n) AS n")[0]["n"]
        assert count == lines, label
    assert manifest["counts"]


def test_every_node_has_provenance(loaded, graph) -> None:
    missing = graph.read(
        "MATCH (n) WHERE NOT n:KcrmService "
        "AND (n.uid IS NULL OR n.source IS NULL OR n.sourceRecord IS NULL OR n.ingestedAt IS NULL) "
        "RETURN count(n) AS n"
    )[0]["n"]
    assert missing == 0


def test_loading_twice_changes_nothing(loaded, graph, e2e_settings, sample_dir: Path) -> None:
    before = _counts(graph)
    stamps_before = graph.read("MATCH (c:SupportCase) RETURN c.uid AS uid, c.ingestedAt AS at, c.updatedAt AS up "
                               "ORDER BY uid LIMIT 50")
    report = workflows.load_records(e2e_settings, graph, sample_dir)
    assert _counts(graph) == before
    assert sum(report.created.values()) == 0 and sum(report.updated.values()) == 0
    # every record of the sample, counted from the session's first load: other test files may have
    # added nodes of their own by now (counting the graph's nodes made this test order-dependent)
    first = sum(loaded.created.values()) + sum(loaded.updated.values()) + sum(loaded.unchanged.values())
    assert sum(report.unchanged.values()) == first
    stamps_after = graph.read("MATCH (c:SupportCase) RETURN c.uid AS uid, c.ingestedAt AS at, c.updatedAt AS up "
                              "ORDER BY uid LIMIT 50")
    assert stamps_after == stamps_before


def test_invalid_records_are_rejected_precisely_and_valid_ones_kept(loaded, graph, e2e_settings,
                                                                    tmp_path: Path) -> None:
    good = {"type": "Customer", "uid": "TEST-CUS-1", "props": {"name": "Test Co", "language": "en"},
            "rels": [{"type": "IN_SEGMENT", "to": "SEG-NOPE", "to_type": "Segment"}]}
    bad_type = {"type": "Customer", "uid": "TEST-CUS-2", "props": {"name": "Bad Co", "language": "fr"}}
    hostile = {"type": "Customer`) DETACH DELETE n //", "uid": "TEST-CUS-3", "props": {"name": "x"}}
    lines = [json.dumps(good), json.dumps(bad_type), "{oops", json.dumps(hostile)]
    (tmp_path / "customers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = _counts(graph)
    try:
        report = workflows.load_records(e2e_settings, graph, tmp_path)
        rejected = sorted((p.line, p.field) for p in report.rejected)
        assert rejected == [(1, "rels.IN_SEGMENT"), (2, "props.language"), (3, ""), (4, "type")]
        assert "SEG-NOPE" in next(p.reason for p in report.rejected if p.line == 1)
        uids = {r["uid"] for r in graph.read("MATCH (c:Customer) WHERE c.uid STARTS WITH 'TEST-' RETURN c.uid AS uid")}
        assert uids == {"TEST-CUS-1"}
        assert _counts(graph) == (before[0] + 1, before[1])
    finally:
        graph.write("MATCH (c:Customer) WHERE c.uid STARTS WITH 'TEST-' DETACH DELETE c")


def test_reloading_a_changed_customer_replaces_source_properties_and_keeps_mined_ones(loaded, graph, e2e_settings,
                                                                                      tmp_path: Path) -> None:
    from kcrm.kg.mining.writeback import SET_CUSTOMERS, SOURCE, graph_names
    from kcrm.ontology.model import load_ontology

    def write(props: dict) -> None:
        record = {"type": "Customer", "uid": "TEST-MINED-1", "props": props}
        (tmp_path / "customers.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")

    node = "MATCH (c:Customer {uid: 'TEST-MINED-1'}) RETURN properties(c) AS p"
    try:
        write({"name": "Mined Co", "language": "en", "city": "Oslo", "country": "Norway"})
        assert workflows.load_records(e2e_settings, graph, tmp_path).created["Customer"] == 1
        # what `kcrm mine` writes, with its own statement
        graph.write(SET_CUSTOMERS.format(**graph_names(load_ontology())), source=SOURCE, now="2026-01-02T03:04:05+00:00",
                    rows=[{"uid": "TEST-MINED-1", "props": {"valueTier": "gold", "churnRisk": 0.42, "loyal": True}}])
        write({"name": "Mined Company", "language": "en", "country": "Sweden"})
        report = workflows.load_records(e2e_settings, graph, tmp_path)
        assert report.updated["Customer"] == 1 and not report.rejected
        props = graph.read(node)[0]["p"]
        assert props["name"] == "Mined Company" and props["country"] == "Sweden"
        assert "city" not in props  # the source dropped it: gone
        assert (props["valueTier"], props["churnRisk"], props["loyal"]) == ("gold", 0.42, True)  # mined: kept
        assert props["computedBy"] == SOURCE and props["computedAt"] == "2026-01-02T03:04:05+00:00"
        assert props["sourceKeys"] == ["country", "language", "name"]
        assert workflows.load_records(e2e_settings, graph, tmp_path).unchanged["Customer"] == 1
        journals = sorted((e2e_settings.data_dir / "ingest").glob("load-*/journal.jsonl"))
        events = [json.loads(line)["event"] for line in journals[-1].read_text(encoding="utf-8").splitlines()]
        assert events[0] == "start" and "batch" in events and events[-1] == "done"
    finally:
        graph.write("MATCH (c:Customer {uid: 'TEST-MINED-1'}) DETACH DELETE c")
