"""Ingest throughput: records per second to parse, to map+clean+validate, and to upsert.

Measured on the Northwind CSVs (shared/data/northwind, ~3,200 rows) and on a copy scaled N times
(ids suffixed, so every copy is new data). Baselines, measured in the same process:
- parse: kcrm's CSV reader (encoding detection, per-field limits) vs the stdlib csv.DictReader;
- map+clean+validate: the whole dry run vs validating the already-mapped records alone;
- upsert: the first load vs an idempotent re-load of the same data (which writes nothing);
- link (`--link`, on the sample company's 3,150 cases and documents): the whole `kcrm link` pass
  (read texts, run the entity ruler, write MENTIONS) vs the ruler alone over the same texts, and a
  second, idempotent pass; topic classification of the same nodes beside it.
Runs against the Neo4j named by --bolt-port/--data-dir (default: its own, var/bench-ingest on 27721)
and removes what it loaded.

    .venv/bin/python benchmarks/ingest.py [--scale 10] [--link] [--json var/bench/ingest.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

from kcrm import workflows
from kcrm.foundation.config import Settings
from kcrm.ingest.pipeline import IngestOptions, IngestRun
from kcrm.ingest.readers import get_reader
from kcrm.ingest.readers.base import RawRow, ReadLimits
from kcrm.ingest.validate import validate_link, validate_record
from kcrm.kg.server import LocalNeo4j
from kcrm.ontology.model import load_ontology

NORTHWIND = Path(__file__).resolve().parents[2] / "shared" / "data" / "northwind"
FILES = ("categories.csv", "customers.csv", "employees.csv", "products.csv", "orders.csv", "order-details.csv")
KEYS = ("categoryID", "customerID", "employeeID", "productID", "orderID")


def scaled_copy(target: Path, scale: int) -> Path:
    """Northwind with every row repeated `scale` times under suffixed ids (foreign keys follow)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        with (NORTHWIND / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        with (target / name).open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            for copy in range(scale):
                for row in rows:
                    writer.writerow({k: (f"{v}x{copy}" if k in KEYS and v not in ("", "NULL") else v)
                                     for k, v in row.items()})
    return target


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def parse_rates(folder: Path) -> dict[str, float]:
    reader = get_reader("csv")
    rows, kcrm_s = timed(lambda: sum(isinstance(i, RawRow) for name in FILES
                                     for i in reader.read(folder / name, name, ReadLimits(), {})))

    def stdlib() -> int:
        count = 0
        for name in FILES:
            with (folder / name).open(encoding="utf-8", newline="") as handle:
                count += sum(1 for _ in csv.DictReader(handle))
        return count

    _, stdlib_s = timed(stdlib)
    return {"rows": rows, "parse_rps": rows / kcrm_s, "stdlib_parse_rps": rows / stdlib_s}


def validate_rates(folder: Path, parse_rps: float) -> dict[str, float]:
    ontology = load_ontology()
    run = IngestRun(folder, ontology, None, IngestOptions(mapping="northwind", dry_run=True), "bench")
    result, dry_s = timed(run.execute)
    rows = result.records + result.links
    _, validate_s = timed(lambda: ([validate_record(ontology, r) for r in run.records],
                                   [validate_link(ontology, link) for link in run.links]))
    mapping_s = max(dry_s - rows / parse_rps, 1e-9)
    return {"accepted": rows, "rejected": len(result.rejected), "dry_run_rps": rows / dry_s,
            "map_clean_validate_rps": rows / mapping_s, "validate_only_rps": rows / validate_s}


def upsert_rates(settings: Settings, folder: Path, source: str) -> dict[str, float]:
    graph = workflows.open_graph(settings)
    cleanup = "MATCH (n {source: $source}) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"
    try:
        with graph.driver.session(database=graph.database) as session:
            session.run(cleanup, source=source).consume()
        first, first_s = timed(lambda: workflows.ingest(settings, graph, folder, mapping="northwind", source=source))
        _, again_s = timed(lambda: workflows.ingest(settings, graph, folder, mapping="northwind", source=source))
        rows = first.records + first.links
        return {"ingest_rps": rows / first_s, "reingest_rps": rows / again_s, "ingest_s": first_s,
                "reingest_s": again_s}
    finally:
        with graph.driver.session(database=graph.database) as session:
            session.run(cleanup, source=source).consume()
        graph.close()


def link_rates(settings: Settings) -> dict[str, float]:
    """Records per second for entity linking (and classification) of the sample's cases and documents."""
    from kcrm.nlp.linking import TEXT_CLASSES, Linker, build_ruler, joined_text
    from kcrm.nlp.topics import TopicClassifier
    from kcrm.sample import generate_sample

    graph = workflows.open_graph(settings)
    from kcrm.ingest.taxonomy_records import TAXONOMY_SOURCE

    sources = ["bench-sample", TAXONOMY_SOURCE]
    cleanup = ("MATCH (n) WHERE n.source IN $sources CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "bench-sample"
            generate_sample(folder)
            workflows.load_records(settings, graph, folder)
        ontology = load_ontology()
        ruler, build_s = timed(lambda: build_ruler(graph, ontology))
        texts = []
        for name in TEXT_CLASSES:
            label = ontology.class_spec(name).name
            texts += [(joined_text(r["parts"]), r["language"]) for r in graph.read(
                f"MATCH (n:`{label}`) RETURN n.language AS language, [n.title, n.description, n.text, n.resolution] "
                "AS parts")]
        found, ruler_s = timed(lambda: list(ruler.extract_many(texts)))
        first, first_s = timed(lambda: Linker(graph, ruler=ruler).link())
        _, again_s = timed(lambda: Linker(graph, ruler=ruler).link())
        classified, classify_s = timed(lambda: TopicClassifier(graph, Path(tmp_model_dir()) / "topics.pkl").classify())
        return {"texts": len(texts), "mentions": sum(len(m) for m in found), "edges": first.edges,
                "ruler_build_s": build_s, "ruler_only_rps": len(texts) / ruler_s, "link_rps": first.nodes / first_s,
                "relink_rps": first.nodes / again_s, "classify_rps": classified.nodes / classify_s,
                "classify_trained": classified.trained}
    finally:
        with graph.driver.session(database=graph.database) as session:
            session.run(cleanup, sources=sources).consume()
        graph.close()


def tmp_model_dir() -> str:
    return tempfile.mkdtemp(prefix="kcrm-bench-model-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--data-dir", type=Path, default=Path("var/bench-ingest"))
    parser.add_argument("--bolt-port", type=int, default=27721)
    parser.add_argument("--http-port", type=int, default=27722)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--link", action="store_true", help="Also measure entity linking on the sample company.")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir, neo4j_bolt_port=args.bolt_port, neo4j_http_port=args.http_port)
    server = LocalNeo4j(settings)
    was_running = server.status().running
    figures: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            datasets = {"northwind": NORTHWIND, f"northwind_x{args.scale}": scaled_copy(Path(tmp), args.scale)}
            for name, folder in datasets.items():
                parse = parse_rates(folder)
                figures[name] = {**parse, **validate_rates(folder, parse["parse_rps"]),
                                 **upsert_rates(settings, folder, f"bench-{name}")}
        if args.link:
            figures["link"] = link_rates(settings)
    finally:
        if not was_running:
            server.stop()
    for name, f in figures.items():
        if name == "link":
            print(f"link: sample company, {f['texts']:,} cases and documents -> {f['mentions']:,} mentions, "
                  f"{f['edges']:,} MENTIONS edges (ruler built in {f['ruler_build_s']:.1f} s)")
            print(f"  kcrm link        {f['link_rps']:>10,.0f} rec/s    (entity ruler alone {f['ruler_only_rps']:,.0f}/s, "
                  f"ratio {f['link_rps'] / f['ruler_only_rps']:.2f})")
            print(f"  relink (same)    {f['relink_rps']:>10,.0f} rec/s")
            print(f"  classify         {f['classify_rps']:>10,.0f} rec/s    (training included: {f['classify_trained']})")
            continue
        print(f"{name}: {f['rows']:,} rows -> {f['accepted']:,} records+links, {f['rejected']} rejected")
        print(f"  parse            {f['parse_rps']:>10,.0f} rows/s   (stdlib csv {f['stdlib_parse_rps']:,.0f}/s, "
              f"ratio {f['parse_rps'] / f['stdlib_parse_rps']:.2f})")
        print(f"  map+clean+valid. {f['map_clean_validate_rps']:>10,.0f} rec/s    (validate alone "
              f"{f['validate_only_rps']:,.0f}/s, ratio {f['map_clean_validate_rps'] / f['validate_only_rps']:.2f})")
        print(f"  dry run (all)    {f['dry_run_rps']:>10,.0f} rec/s")
        print(f"  ingest to Neo4j  {f['ingest_rps']:>10,.0f} rec/s    (idempotent re-ingest {f['reingest_rps']:,.0f}/s, "
              f"ratio {f['ingest_rps'] / f['reingest_rps']:.2f})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
