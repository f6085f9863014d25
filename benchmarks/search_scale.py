"""Search at 100k and 1M chunks: server-side latency, recall, build time and memory, against a baseline.

The corpus is synthesised from a published sample index (`kcrm reindex` output): each synthetic
item copies a real item's passage with its words perturbed (some dropped, some borrowed from
other items) and its facet fields and date re-drawn from other items, so BM25 and facets run over
real, varied text; about one item in twenty is restricted to `key-accounts`. The dense side uses
the real passage's vector plus Gaussian noise, re-normalised. The corpus is built once and cached
as a published generation under `--cache` (var/bench/scale-<chunks>), so later runs load it.

Queries are embedded by the real embedder, so latencies include query embedding; searches run as
`kcrm serve` runs them (taxonomy expansion and spelling on), once as an admin (sees everything)
and once as an agent key without groups (access trimming on every query).

The baseline is today's implementation before issue 15 (commit `--baseline`, exported with
`git archive` under var/bench/) run by this same script in a child process over the same cached
corpus, with the index kind that implementation chooses (exact below 200k chunks). Figures print
side by side with ratios. Run one at a time on a quiet machine; say when it was not.

    .venv/bin/python benchmarks/search_scale.py --chunks 100000 --source var/index --queries 200
    .venv/bin/python benchmarks/search_scale.py --chunks 1000000 --source var/index --queries 100 --no-baseline
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "f47e3f8"  # main before issue 15: numpy masks over the collection, exact search below 200k
QUERIES = [
    "refund policy", "退款", "printer driver fails after update", "打印机驱动更新后无法打印",
    "router keeps dropping wifi", "路由器经常断网", "invoice is wrong", "发票开错了", "cannot log in two-factor",
    "无法登录 验证码", "laptop battery drains fast", "笔记本电池耗电快", "GDPR data export request",
    "个人信息 删除 请求", "order delayed shipping", "快递延误", "license activation failed", "激活失败",
    "warranty claim for broken screen", "保修 屏幕 损坏", "status:open refund", "priority:high router",
]
FIELDS = ("status", "priority", "product", "customer", "topic", "category", "tier", "churn_risk")
GROUP = "key-accounts"
AGENT_GROUPS = ["public"]  # what an agent key without groups passes (Principal.visible_groups)


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.array(values)
    return {"p50_ms": round(float(np.percentile(array, 50)), 2), "p99_ms": round(float(np.percentile(array, 99)), 2),
            "mean_ms": round(float(array.mean()), 2)}


def memory_mb() -> dict[str, float]:
    """Resident memory now and at its peak (Linux /proc)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out["rss_mb" if line.startswith("VmRSS") else "peak_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
    return out


def synthesise(source: Path, chunks: int, cache: Path, seed: int = 1) -> dict:
    """Build the synthetic corpus once and publish it under `cache` (exact dense index)."""
    from kcrm.foundation.config import Settings
    from kcrm.search import generation
    from kcrm.search.embedder import make_embedder
    from kcrm.search.lexical import BM25Index
    from kcrm.search.vector_index import ChunkRecord, FaissVectorIndex

    embedder = make_embedder(Settings())
    dense, lexical, _ = generation.load(source, embedder)
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    ids = np.asarray(sorted(dense._records), dtype=np.int64)  # noqa: SLF001 - a benchmark reads the parts
    base_records = [dense._records[i] for i in ids.tolist()]  # noqa: SLF001
    base_vectors = dense._vectors_of(ids)  # noqa: SLF001
    items = lexical.records()
    words = [w for r in items[:500] for w in r.text.split()[:40]]
    started = time.perf_counter()
    synth_dense = FaissVectorIndex(dense.dim, dense.embedder_name, "flat")
    synth_lexical = BM25Index()
    batch = 20_000
    for first in range(0, chunks, batch):
        records: list[ChunkRecord] = []
        picks = np.array([rng.randrange(len(base_records)) for _ in range(min(batch, chunks - first))])
        for n, pick in enumerate(picks.tolist(), start=first):
            base = base_records[pick]
            tokens = base.text.split()
            kept = [t for t in tokens if rng.random() > 0.1] + rng.sample(words, min(3, len(words)))
            text = " ".join(kept) if len(tokens) > 3 else base.text  # Chinese runs have few spaces: kept as is
            meta = dict(base.meta)
            for name in FIELDS:
                donor = items[rng.randrange(len(items))].meta
                if name in donor:
                    meta[name] = donor[name]
                else:
                    meta.pop(name, None)
            for key in ("openedAt", "publishedAt", "effectiveFrom"):
                if key in meta:
                    meta[key] = f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            meta.pop("accessGroups", None)
            if rng.random() < 0.05:
                meta["accessGroups"] = [GROUP]
            uid = f"SYN-{n:07d}"
            records.append(ChunkRecord(chunk_id=f"{uid}#0", uid=uid, type=base.type, title=base.title, text=text,
                                       language=base.language, meta=meta, start=0, end=len(text)))
        vectors = base_vectors[picks] + noise.normal(scale=0.02, size=(len(picks), dense.dim)).astype(np.float32)
        synth_dense.add(records, vectors)
        synth_lexical.add(records)
        print(f"  synthesised {first + len(records)} / {chunks}", flush=True)
    synth_lexical.scores("warm up")  # derive the inverted index now
    info = {"base_items": len(items), "base_chunks": len(base_records), "synthesis_s": round(time.perf_counter() - started, 1)}
    generation.publish(cache, synth_dense, synth_lexical, watermark=f"synthetic-{chunks}", details={"synthetic": info})
    return info


def timed(function, values) -> dict[str, float]:  # type: ignore[no-untyped-def]
    times = []
    for value in values:
        started = time.perf_counter()
        function(value)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def measure(cache: Path, queries: int, kind: str | None) -> dict:
    """Load the cached corpus and time searches through whatever `kcrm` this process imports.

    Only API that the baseline and today's code share is used here (HybridSearch over
    SemanticSearch + BM25Index, `page`), so the baseline child runs this same function.
    `kind` converts the dense index first ("hnsw"), timing the build; None keeps what is cached.
    """
    from kcrm.foundation.config import Settings
    from kcrm.search import generation
    from kcrm.search.embedder import make_embedder
    from kcrm.search.expansion import taxonomy_expander
    from kcrm.search.hybrid import HybridSearch
    from kcrm.search.semantic import SemanticSearch

    figures: dict = {}
    embedder = make_embedder(Settings())
    embedder.embed_queries(["warm up"])
    started = time.perf_counter()
    exact, lexical, _ = generation.load(cache, embedder)
    figures["load_s"] = round(time.perf_counter() - started, 1)
    index = exact
    if kind is not None and kind != exact.kind:
        started = time.perf_counter()
        index = exact.rebuilt(kind)
        figures[f"{kind}_build_s"] = round(time.perf_counter() - started, 1)
        figures["tuning"] = getattr(index, "tuning", None)
    figures["index_kind"] = index.kind
    search = HybridSearch(SemanticSearch(index, embedder), lexical, expander=taxonomy_expander())
    search.facet_table()
    started = time.perf_counter()
    for groups in (None, AGENT_GROUPS):
        search.page("refnud", k=10, spellcheck=True, groups=groups)  # spelling corrector and trimming built
    figures["first_query_s"] = round(time.perf_counter() - started, 1)
    texts = [QUERIES[i % len(QUERIES)] for i in range(queries)]
    vectors = embedder.embed_queries(QUERIES * 5)
    figures["query_embedding"] = timed(lambda q: embedder.embed_queries([q]), texts)
    figures["vector_search_k100"] = timed(lambda v: index.search(v, 100), vectors)
    if index is not exact:
        recalls = []
        for vector in vectors:
            truth = {h.record.chunk_id for h in exact.search(vector, 10)}
            recalls.append(len(truth & {h.record.chunk_id for h in index.search(vector, 10)}) / max(1, len(truth)))
        figures["recall_at_10_vs_exact_real_queries"] = round(float(np.mean(recalls)), 4)
        del exact
    for name, groups in (("admin", None), ("agent", AGENT_GROUPS)):
        def page(q: str, **options) -> None:  # type: ignore[no-untyped-def]
            search.page(q, k=10, spellcheck=True, groups=groups, **options)

        for q in texts[:20]:
            page(q, facets=True)  # warm up
        figures[name] = {
            "hybrid_facets": timed(lambda q: page(q, facets=True), texts),
            "hybrid": timed(lambda q: page(q), texts),
            "lexical_facets": timed(lambda q: page(q, mode="lexical", facets=True), texts),
            "dense": timed(lambda q: page(q, mode="dense"), texts),
            "browse_facets": timed(lambda q: page("status:open", facets=True), texts[:50]),
        }
        print(f"  {name}: {json.dumps(figures[name])}", flush=True)
    figures["memory"] = memory_mb()
    return figures


def baseline_tree(commit: str) -> Path:
    """Today's implementation as an importable `kcrm` package under var/bench (git archive, once)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", commit], check=True,
                            capture_output=True, text=True).stdout.strip()  # a name like HEAD moves; a sha does not
    root = ROOT / "var" / "bench" / f"baseline-{commit}"
    package = root / "pkg" / "kcrm"
    if not package.exists():
        source = root / "src"
        source.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        package.parent.mkdir(parents=True, exist_ok=True)
        package.symlink_to(source / "kcrm", target_is_directory=True)
        for name, folder in (("kg", "kg"), ("ingest", "ingest"), ("search", "search"), ("api", "api"),
                             ("ontology", "ontology")):
            link = source / "kcrm" / name
            if not link.exists():
                link.symlink_to(source / folder, target_is_directory=True)
    return root / "pkg"


def run_baseline(commit: str, cache: Path, queries: int, kind: str | None) -> dict:
    """This script's `measure` in a child process that imports the baseline's `kcrm`."""
    env = dict(os.environ, PYTHONPATH=str(baseline_tree(commit)))
    command = [sys.executable, __file__, "--measure-only", "--cache", str(cache), "--queries", str(queries)]
    if kind:
        command += ["--kind", kind]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def ratios(current: dict, baseline: dict) -> dict:
    out = {}
    for who in ("admin", "agent"):
        for name, row in current.get(who, {}).items():
            base = baseline.get(who, {}).get(name)
            if base:
                out[f"{who}_{name}_p50"] = round(row["p50_ms"] / base["p50_ms"], 3)
                out[f"{who}_{name}_p99"] = round(row["p99_ms"] / base["p99_ms"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--source", type=Path, default=Path("var/index"), help="A published sample index.")
    parser.add_argument("--cache", type=Path, default=None, help="Where the synthetic corpus is kept.")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kind", default=None, help="Convert the dense index to this kind before timing.")
    parser.add_argument("--baseline", default=BASELINE_COMMIT)
    parser.add_argument("--baseline-kind", default=None, help="Index kind for the baseline (default: cached, exact).")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    cache = args.cache or ROOT / "var" / "bench" / f"scale-{args.chunks}"
    if args.measure_only:  # the child: one JSON line on stdout
        if os.environ.get("PYTHONPATH"):  # the baseline: its `kcrm`, not the editable install's
            sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in str(getattr(f, "__module__", ""))]
        print(json.dumps(measure(cache, args.queries, args.kind)))
        return
    figures: dict = {"chunks": args.chunks, "cpu_count": os.cpu_count(), "load_average": os.getloadavg()}
    if not (cache / "manifest.json").exists():
        print(f"synthesising {args.chunks} chunks into {cache}", flush=True)
        figures["synthesis"] = synthesise(args.source, args.chunks, cache)
    from kcrm.foundation.config import Settings
    from kcrm.search.vector_index import index_kind_for

    kind = args.kind or index_kind_for(args.chunks, Settings().search_exact_limit)
    print(f"current implementation ({kind})", flush=True)
    figures["current"] = measure(cache, args.queries, kind)
    if not args.no_baseline:
        print(f"baseline {args.baseline} in a child process", flush=True)
        figures["baseline"] = run_baseline(args.baseline, cache, args.queries, args.baseline_kind)
        if "error" not in figures["baseline"]:
            figures["ratios_current_vs_baseline"] = ratios(figures["current"], figures["baseline"])
    figures["load_average_after"] = os.getloadavg()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
