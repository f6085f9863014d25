"""What crash safety costs: journaled whole batches vs the plain loader, and what a resume costs.

Loads the same synthetic records (customers -> segments/products, cases -> customers) into Neo4j,
measured in the same process:
- baseline: the former plain loader (all nodes, then all relationships, one statement per batch;
  no journal), kept here as `node_then_edge` now that `kcrm load` uses the journaled batches too;
- journaled: `kcrm.ingest.batches` (each batch's nodes with their edges in one transaction,
  a fsync'd journal line per commit), into a wiped graph;
- resume: the same plan again with every batch journaled (verified and skipped) vs re-applied.
Runs against the Neo4j named by --bolt-port/--data-dir (its own by default) and removes what it loaded.

    .venv/bin/python benchmarks/ingest_journal.py [--records 20000] [--batch-size 500]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kcrm import workflows
from kcrm.foundation.config import Settings
from kcrm.ingest.batches import BatchWriter, plan_batches
from kcrm.ingest.journal import Journal
from kcrm.kg.loader import UPSERT_NODES, UPSERT_RELATIONSHIPS, LoadReport
from kcrm.kg.records import Record, RelRef
from kcrm.kg.schema import apply_schema
from kcrm.kg.server import LocalNeo4j
from kcrm.ontology.model import load_ontology

SOURCE = "bench-journal"
CLEANUP = "MATCH (n {source: $source}) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n"


def records(total: int) -> list[Record]:
    """Customers (60%) pointing at segments and products read later, cases (20%) raised by them."""
    customers, products = int(total * 0.6), max(1, int(total * 0.2))
    out = [Record("Segment", f"BJ-SEG-{i}", {"name": f"Segment {i}"}, (), "seg.jsonl", i + 1) for i in range(5)]
    out += [Record("Customer", f"BJ-C{i}", {"name": f"Customer {i}", "country": "Norway", "language": "en"},
                   (RelRef("IN_SEGMENT", f"BJ-SEG-{i % 5}", "Segment", True),
                    RelRef("PURCHASED", f"BJ-P{i % products}", "Product", True, {"quantity": i % 9 + 1})),
                   "c.jsonl", i + 1) for i in range(customers)]
    out += [Record("Product", f"BJ-P{i}", {"name": f"Widget {i}"}, (), "p.jsonl", i + 1) for i in range(products)]
    cases = total - len(out)
    out += [Record("SupportCase", f"BJ-CASE-{i}", {"title": f"Case {i}", "description": "Widget broke.",
                                                   "language": "en", "status": "open",
                                                   "openedAt": "2025-01-01T00:00:00+00:00"},
                   (RelRef("RAISED", f"BJ-C{i % customers}", "Customer", False),), "case.jsonl", i + 1)
            for i in range(max(0, cases))]
    return out


def node_then_edge(graph, ontology, data: list[Record], batch_size: int) -> None:
    """The baseline: every node batch in its own transaction, then every relationship batch."""
    batches = plan_batches(ontology, data, [], batch_size)
    for batch in batches:
        for label, rows in batch.nodes.items():
            graph.write(UPSERT_NODES.format(label=label), rows=rows, source=SOURCE, now="2025-01-01T00:00:00+00:00")
    for batch in batches:
        for (start, rel_type, end), rows in batch.rels.items():
            graph.write(UPSERT_RELATIONSHIPS.format(start=start, type=rel_type, end=end), rows=rows, source=SOURCE)


def wipe(graph) -> None:
    while graph.write(CLEANUP, source=SOURCE)[0]["n"]:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--data-dir", type=Path, default=Path("var/bench-journal"))
    parser.add_argument("--bolt-port", type=int, default=27731)
    parser.add_argument("--http-port", type=int, default=27732)
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir, neo4j_bolt_port=args.bolt_port, neo4j_http_port=args.http_port)
    server = LocalNeo4j(settings)
    was_running = server.status().running
    graph = workflows.open_graph(settings)
    ontology = load_ontology()
    apply_schema(graph, ontology)
    data = records(args.records)
    items = len(data) + sum(len(r.rels) for r in data)
    baseline = journaled = float("inf")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for attempt in range(2):  # alternate, best of two: neither side pays the cold start alone
                wipe(graph)
                start = time.perf_counter()
                node_then_edge(graph, ontology, data, args.batch_size)
                baseline = min(baseline, time.perf_counter() - start)
                wipe(graph)
                journal = Journal.open(Path(tmp) / str(attempt))
                start = time.perf_counter()
                batches = plan_batches(ontology, data, [], args.batch_size)
                BatchWriter(graph, ontology, SOURCE, journal).write_all(batches, LoadReport())
                journaled = min(journaled, time.perf_counter() - start)
            start = time.perf_counter()
            skipped = BatchWriter(graph, ontology, SOURCE, journal).write_all(batches, LoadReport())
            resume = time.perf_counter() - start
            start = time.perf_counter()
            BatchWriter(graph, ontology, SOURCE, None).write_all(batches, LoadReport())
            reapply = time.perf_counter() - start
    finally:
        wipe(graph)
        graph.close()
        if not was_running:
            server.stop()
    print(f"{len(data):,} records, {items - len(data):,} relationships, batch size {args.batch_size}, "
          f"{len(batches)} batches")
    print(f"  plain loader (baseline)   {len(data) / baseline:>9,.0f} rec/s")
    print(f"  journaled whole batches   {len(data) / journaled:>9,.0f} rec/s   (x{baseline / journaled:.2f} of baseline)")
    print(f"  resume, all {skipped} journaled  {len(data) / resume:>9,.0f} rec/s   "
          f"(re-applying instead: {len(data) / reapply:,.0f} rec/s, x{reapply / resume:.2f} slower)")


if __name__ == "__main__":
    main()
