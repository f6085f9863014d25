"""Topic classification accuracy against a trivial baseline, measured in the same run.

1. The sample company: every support case carries its topic (HAS_TOPIC, 30 leaf topics, English
   and Chinese). A stratified 20 % is held out; the rest trains. Methods: the majority topic
   (baseline), the taxonomy labels found by the entity ruler (zero-shot), and kcrm's classifier
   (character n-gram TF-IDF + complement naive Bayes). Accuracy at the leaf and at the top level.
2. A harder public check of the same classifier: the Tobi-Bueck multilingual tickets
   (../shared/data/support_tickets_multilang_tobi_bueck, synthetic but not ours), routed to their
   queue (10 queues), held out the same way.
No Neo4j: the sample is generated in a temporary folder.

    .venv/bin/python benchmarks/classify.py [--json var/bench/classify.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

from kcrm.evaluation.topics import evaluate
from kcrm.nlp.extraction import EntityRuler, topic_terms
from kcrm.ontology.taxonomy import load_concepts
from kcrm.sample import generate_sample

TICKETS = Path(__file__).resolve().parents[2] / "shared" / "data" / "support_tickets_multilang_tobi_bueck"


def sample_cases(folder: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in (folder / "support_cases.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        topics = [r["to"] for r in record["rels"] if r["type"] == "HAS_TOPIC"]
        if len(topics) == 1:
            texts.append(f"{record['props']['title']}\n\n{record['props']['description']}")
            labels.append(topics[0])
    return texts, labels


def tickets() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for name in sorted(TICKETS.glob("*.csv")):
        with name.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("queue") and row.get("body"):
                    texts.append(f"{row.get('subject') or ''}\n\n{row['body']}")
                    labels.append(row["queue"])
    return texts, labels


def stride(texts: list[str], labels: list[str], limit: int) -> tuple[list[str], list[str]]:
    """Every k-th text so that `limit` remain (all when limit is 0): a smaller run keeps the mix."""
    if not limit or limit >= len(texts):
        return texts, labels
    step = len(texts) // limit
    return texts[::step][:limit], labels[::step][:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--limit", type=int, default=0,
                        help="Only N texts per data set, an even stride through them (0: all).")
    args = parser.parse_args()
    concepts = load_concepts()
    broader = {c.uid: c.broader for c in concepts}
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        generate_sample(Path(tmp))
        texts, labels = stride(*sample_cases(Path(tmp)), args.limit)
    started = time.perf_counter()
    figures["sample"] = evaluate(texts, labels, EntityRuler(topic_terms(concepts)), broader=broader)
    figures["sample"]["seconds"] = round(time.perf_counter() - started, 2)
    if TICKETS.is_dir():
        texts, labels = stride(*tickets(), args.limit)
        started = time.perf_counter()
        figures["tickets_queue"] = evaluate(texts, labels)
        figures["tickets_queue"]["seconds"] = round(time.perf_counter() - started, 2)
    for name, report in figures.items():
        print(f"{name}: {report['train']} train / {report['held_out']} held out, {report['topics']} classes "
              f"({report['seconds']} s)")
        base = report["methods"]["majority"]["accuracy"]
        for method, result in report["methods"].items():
            top = f", top level {result['top_level_accuracy']:.3f}" if "top_level_accuracy" in result else ""
            print(f"  {method:16s} accuracy {result['accuracy']:.3f}{top}  (x{result['accuracy'] / base:.1f} baseline)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
