"""`kcrm export` round trip: the exported RDF ingests back as the same nodes, properties and edges.

Records of their own (a customer, its order with order-line properties, its case) are loaded,
exported with `kcrm export --since` (the real CLI), deleted from the graph, and the export file
is ingested again: the nodes, their ontology properties and their relationships (with edge
properties) must be what they were. pySHACL validates the exports against ontology/shapes.ttl.
Provenance is re-stamped by the re-import (it is the new source), so it is not compared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph

from kcrm import workflows
from kcrm.ontology.model import SHAPES_FILE
from kcrm.ontology.rdf import INTERNAL_PROPERTIES, PROVENANCE

pytestmark = pytest.mark.e2e

CLEANUP = "MATCH (n) WHERE n.uid STARTS WITH 'RDFX-' CALL (n) { DETACH DELETE n }"
STATE = """
MATCH (n) WHERE n.uid STARTS WITH 'RDFX-'
OPTIONAL MATCH (n)-[r]->(m)
RETURN n.uid AS uid, labels(n) AS labels, properties(n) AS props,
       collect([type(r), m.uid, properties(r)]) AS rels ORDER BY uid
"""


def state(graph) -> list[dict]:
    """The RDFX nodes as comparable data: ontology properties only, edges sorted, edge provenance dropped."""
    out = []
    for row in graph.read(STATE):
        props = {k: v for k, v in row["props"].items() if k not in INTERNAL_PROPERTIES | PROVENANCE}
        rels = sorted((t, m, {k: v for k, v in p.items() if k != "source"}) for t, m, p in row["rels"] if t)
        out.append({"uid": row["uid"], "labels": row["labels"], "props": props, "rels": rels})
    return out


def records(product: str) -> list[dict]:
    return [
        {"type": "Customer", "uid": "RDFX-CUS-1",
         "props": {"name": "Rdfx Export Ltd", "email": "ops@rdfx.example", "country": "DE", "language": "en",
                   "customerSince": "2020-02-29", "accessGroups": ["key-accounts"]}},
        {"type": "Transaction", "uid": "RDFX-ORD-1",
         "props": {"orderNumber": "RDFX-1", "orderedAt": "2026-10-01T08:00:00+00:00", "total": 250.5, "currency": "EUR"},
         "rels": [{"type": "PLACED", "from": "RDFX-CUS-1", "from_type": "Customer"},
                  {"type": "CONTAINS", "to": product, "to_type": "Product",
                   "props": {"quantity": 3, "unitPrice": 83.5, "lineNo": 1}}]},
        {"type": "SupportCase", "uid": "RDFX-CASE-1",
         "props": {"title": "Export round trip", "description": "Checks that RDF comes back unchanged.",
                   "status": "resolved", "priority": "low", "openedAt": "2026-10-02T08:00:00+00:00",
                   "language": "en"},
         "rels": [{"type": "RAISED", "from": "RDFX-CUS-1", "from_type": "Customer"}]},
    ]


def kcrm(settings, neo4j_uri: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, KCRM_DATA_DIR=str(settings.data_dir), NEO4J_URI=neo4j_uri,
               NEO4J_PASSWORD=settings.neo4j_password)
    return subprocess.run([sys.executable, "-m", "kcrm.cli", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def conforms(path: Path, fmt: str) -> tuple[bool, str]:
    data = Graph().parse(path, format=fmt)
    ok, _, text = pyshacl.validate(data, shacl_graph=Graph().parse(SHAPES_FILE, format="turtle"), inference="none")
    return ok, text


@pytest.mark.parametrize("fmt,suffix,rdflib_format", [("turtle", ".ttl", "turtle"), ("jsonld", ".jsonld", "json-ld")])
def test_export_ingests_back_as_the_same_graph(graph, loaded, e2e_settings, neo4j_uri, tmp_path, fmt, suffix,
                                               rdflib_format) -> None:
    settings = e2e_settings.model_copy(update={"ingest_enrich": False, "alerts_enabled": False})
    graph.write(CLEANUP)
    product = graph.read("MATCH (p:Product) RETURN p.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]
    source = tmp_path / "rdfx.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records(product)), encoding="utf-8")
    since = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    try:
        assert not workflows.ingest(settings, graph, source).rejected
        before = state(graph)
        assert len(before) == 3 and any(rel[0] == "CONTAINS" for node in before for rel in node["rels"])
        out = tmp_path / f"export{suffix}"
        result = kcrm(settings, neo4j_uri, "export", "--format", fmt, "--since", since, "--out", str(out))
        assert result.returncode == 0, result.stderr
        ok, report = conforms(out, rdflib_format)
        assert ok, report

        graph.write(CLEANUP)
        assert state(graph) == []
        again = workflows.ingest(settings, graph, out)
        assert not again.rejected, [p.as_dict() for p in again.rejected]
        assert state(graph) == before
    finally:
        graph.write(CLEANUP)


def test_a_class_of_the_sample_exports_valid_rdf(graph, loaded, e2e_settings, neo4j_uri, tmp_path) -> None:
    out = tmp_path / "customers.ttl"
    result = kcrm(e2e_settings, neo4j_uri, "export", "--type", "Customer", "--type", "Segment", "--out", str(out))
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stderr.strip().splitlines()[-1])
    expected = graph.read("MATCH (n) WHERE n:Customer OR n:Segment RETURN count(n) AS n")[0]["n"]
    assert counts["nodes"] == expected and counts["relationships"] > 0
    ok, report = conforms(out, "turtle")
    assert ok, report
    bad = kcrm(e2e_settings, neo4j_uri, "export", "--type", "NoSuchClass")
    assert bad.returncode == 2 and "unknown class 'NoSuchClass'" in bad.stderr
