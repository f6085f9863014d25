"""The RDF serializer reads back through kcrm's own RDF reader and passes the SHACL shapes."""

from __future__ import annotations

from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph

from kcrm.ingest.run import IngestOptions, IngestRun
from kcrm.ontology.model import SHAPES_FILE, load_ontology
from kcrm.ontology.rdf import GraphEdge, GraphNode, serialize, to_rdf

NODES = [
    GraphNode("Customer", "C-1", {"name": "Anna Li", "email": "anna@example.com", "country": "CN",
                                  "accessGroups": ["key-accounts"], "contentHash": "x", "source": "crm.csv",
                                  "customerSince": "2021-03-04", "loyal": True, "churnRisk": 0.25}),
    GraphNode("Transaction", "T/1 #2", {"orderedAt": "2026-01-02T03:04:05+00:00", "total": 12.5, "currency": "EUR"}),
    GraphNode("Product", "P-1", {"name": "Printer", "price": 99.0, "currency": "EUR"}),
]
EDGES = [
    GraphEdge("PLACED", "Customer", "C-1", "Transaction", "T/1 #2", {"source": "orders.json"}),
    GraphEdge("CONTAINS", "Transaction", "T/1 #2", "Product", "P-1", {"quantity": 3, "unitPrice": 4.5}),
]


def read_back(path: Path) -> IngestRun:
    run = IngestRun(path, load_ontology(), None, IngestOptions(dry_run=True), "test")
    run.execute()
    return run


@pytest.mark.parametrize("fmt,suffix", [("turtle", ".ttl"), ("jsonld", ".jsonld")])
def test_export_reads_back_as_the_same_records(tmp_path: Path, fmt: str, suffix: str) -> None:
    path = tmp_path / f"export{suffix}"
    path.write_text(serialize(to_rdf(load_ontology(), NODES, EDGES), fmt), encoding="utf-8")
    run = read_back(path)
    assert run.result.rejected == []
    records = {r.uid: r for r in run.records}
    assert set(records) == {"C-1", "T/1 #2", "P-1"}
    customer = records["C-1"]
    assert customer.props["name"] == "Anna Li" and customer.props["accessGroups"] == ["key-accounts"]
    assert customer.props["loyal"] is True and customer.props["churnRisk"] == 0.25
    assert "contentHash" not in customer.props and "source" not in customer.props
    rels = {(r.type, r.other_uid): r for r in records["T/1 #2"].rels}
    assert rels[("CONTAINS", "P-1")].props == {"quantity": 3, "unitPrice": 4.5}
    assert ("PLACED", "T/1 #2") in {(r.type, r.other_uid) for r in customer.rels}


def test_export_conforms_to_the_shapes_and_a_broken_one_does_not() -> None:
    shapes = Graph().parse(SHAPES_FILE, format="turtle")
    good = to_rdf(load_ontology(), NODES, EDGES)
    conforms, _, text = pyshacl.validate(good, shacl_graph=shapes, inference="none")
    assert conforms, text
    broken = to_rdf(load_ontology(), [GraphNode("Customer", "C-2", {"email": "not-an-address"})])
    conforms, _, _ = pyshacl.validate(broken, shacl_graph=shapes, inference="none")
    assert not conforms  # no name, bad e-mail: the check can fail
