"""Every script in benchmarks/ runs at a tiny size, so an API change that breaks one fails CI (issue 17).

Each script runs as a reader of the README runs it: `python benchmarks/<name>.py ...` in a
subprocess, with arguments that make it small and under a time box. These are smoke runs: they
check that the script still runs to the end and prints its figures, never what the figures are
(speed is measured by the scripts themselves, never asserted by a test).

Scripts that only read use the session's stack (the loaded sample, its index, its Neo4j); the ones
that wipe or load a graph get a Neo4j of their own (`bench_neo4j`) holding a cut-down sample, so
the session's graph is never touched. `tests/unit/test_benchmarks_listed.py` fails when a new
script is added to benchmarks/ without a smoke run here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kcrm.foundation.config import Settings
from tests.conftest import REPO, TEST_DATA_DIR

pytestmark = pytest.mark.e2e

SHARED = REPO.parent / "shared" / "data"
BENCH_DATA_DIR = Path(os.environ.get("KCRM_TEST_BENCH_DATA_DIR", TEST_DATA_DIR.parent / "test-bench"))
BENCH_BOLT = int(os.environ.get("KCRM_TEST_BENCH_BOLT_PORT", "17697"))
BENCH_HTTP = int(os.environ.get("KCRM_TEST_BENCH_HTTP_PORT", "17484"))
TIME_BOX_S = 600  # a smoke run on a loaded 2-core machine; the scripts take seconds at these sizes


def run_bench(script: str, *args: str | Path, env: dict[str, str], timeout: float = TIME_BOX_S) -> str:
    """Run benchmarks/<script> to completion; its stdout (the figures). Fails with its stderr tail."""
    command = [sys.executable, str(REPO / "benchmarks" / script), *map(str, args)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr[-4000:]}"
    assert done.stdout.strip(), f"{script} printed no figures"
    return done.stdout


def needs(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data sets sit beside the repository)")
    return path


def tiny_beir(source: Path, target: Path, queries: int = 6, extra_docs: int = 30) -> Path:
    """A BEIR folder with the first `queries` judged queries, their documents and a few others."""
    needs(source)
    qrels_lines = (source / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    header, rows = qrels_lines[0], [line.split("\t") for line in qrels_lines[1:] if line.strip()]
    chosen: list[str] = []
    for row in rows:
        if row[0] not in chosen and len(chosen) < queries:
            chosen.append(row[0])
    kept_rows = [row for row in rows if row[0] in chosen]
    wanted = {row[1] for row in kept_rows}
    corpus = []
    with (source / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            if str(doc["_id"]) in wanted or extra_docs > 0:
                extra_docs -= str(doc["_id"]) not in wanted
                corpus.append(line)
            if len(corpus) >= len(wanted) + 30 and wanted <= {str(json.loads(c)["_id"]) for c in corpus}:
                break
    (target / "qrels").mkdir(parents=True, exist_ok=True)
    (target / "corpus.jsonl").write_text("".join(corpus), encoding="utf-8")
    with (source / "queries.jsonl").open(encoding="utf-8") as handle:
        queries_kept = [line for line in handle if str(json.loads(line)["_id"]) in chosen]
    (target / "queries.jsonl").write_text("".join(queries_kept), encoding="utf-8")
    (target / "qrels" / "test.tsv").write_text("\n".join([header, *("\t".join(r) for r in kept_rows)]) + "\n",
                                               encoding="utf-8")
    return target


def tiny_sample(sample_dir: Path, target: Path, lines: int = 60) -> Path:
    """The sample company cut to its first `lines` records per file (references past the cut are
    rejected by the loader, which the graph benchmarks only count)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sample_dir.glob("*.jsonl"):
        with path.open(encoding="utf-8") as handle:
            head = [line for _, line in zip(range(lines), handle)]
        (target / path.name).write_text("".join(head), encoding="utf-8")
    shutil.copy(sample_dir / "manifest.json", target / "manifest.json")
    return target


@pytest.fixture(scope="module")
def stack_env(cli_env: dict[str, str], loaded, e2e_settings: Settings) -> dict[str, str]:
    """The session's loaded sample and index, for scripts that only read them."""
    return dict(cli_env, KCRM_EMBED_WORKERS="1", KCRM_NEO4J_QUERY_TIMEOUT_S="180")


@pytest.fixture(scope="module")
def bench_neo4j(sample_dir: Path) -> Iterator[Settings]:
    """A Neo4j of the graph benchmarks' own (they wipe and load), with a cut-down sample in its data dir."""
    from kcrm.kg.server import LocalNeo4j

    settings = Settings(data_dir=BENCH_DATA_DIR, neo4j_bolt_port=BENCH_BOLT, neo4j_http_port=BENCH_HTTP,
                        neo4j_heap="512m", neo4j_pagecache="64m")
    shutil.rmtree(settings.sample_dir, ignore_errors=True)
    tiny_sample(sample_dir, settings.sample_dir)
    server = LocalNeo4j(settings)
    server.start()
    yield settings
    server.stop()


@pytest.fixture(scope="module")
def bench_env(bench_neo4j: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NEO4J_URI"}
    return dict(env, KCRM_DATA_DIR=str(bench_neo4j.data_dir), KCRM_NEO4J_BOLT_PORT=str(BENCH_BOLT),
                KCRM_NEO4J_HTTP_PORT=str(BENCH_HTTP), KCRM_EMBED_WORKERS="1", KCRM_LOG_LEVEL="WARNING",
                KCRM_NEO4J_HEAP=bench_neo4j.neo4j_heap, KCRM_NEO4J_PAGECACHE=bench_neo4j.neo4j_pagecache,
                KCRM_NEO4J_QUERY_TIMEOUT_S="180")  # a smoke run checks that it runs, not how fast


def graph_args(settings: Settings) -> list[str]:
    return ["--data-dir", str(settings.data_dir), "--bolt-port", str(BENCH_BOLT), "--http-port", str(BENCH_HTTP)]


# -- scripts without a server -----------------------------------------------------------------------


def test_parse_isolation(cli_env: dict[str, str]) -> None:
    out = run_bench("parse_isolation.py", "--repeat", "1", env=cli_env)
    assert "all files" in out


def test_classify(cli_env: dict[str, str], tmp_path: Path) -> None:
    run_bench("classify.py", "--limit", "300", "--json", tmp_path / "c.json", env=cli_env)
    assert json.loads((tmp_path / "c.json").read_text())["sample"]["methods"]


def test_lexical_engines(cli_env: dict[str, str], tmp_path: Path) -> None:
    data = tiny_beir(SHARED / "beir_scifact", tmp_path / "scifact")
    run_bench("lexical_engines.py", "--dataset", data, "--docs", "500", "--json", tmp_path / "l.json", env=cli_env)
    assert "kcrm-numpy" in json.loads((tmp_path / "l.json").read_text())


def test_expert_tuning(cli_env: dict[str, str], tmp_path: Path) -> None:
    needs(SHARED / "expert_finding_forums")
    run_bench("expert_tuning.py", "--limit", "5", "--json", tmp_path / "e.json", env=cli_env)
    assert json.loads((tmp_path / "e.json").read_text())["ranked"]
    run_bench("expert_tuning.py", "--fit", "--limit", "3", "--json", tmp_path / "f.json", env=cli_env)
    assert json.loads((tmp_path / "f.json").read_text())["chosen"]


def test_analytics_prior_forums(cli_env: dict[str, str]) -> None:
    needs(SHARED / "expert_finding_forums")
    out = run_bench("analytics_prior.py", "--weights", "0,0.1", "--limit", "5", env=cli_env)
    assert "forums validation" in out


def test_embedders(cli_env: dict[str, str], sample_dir: Path, tmp_path: Path) -> None:
    run_bench("embedders.py", "--sample", sample_dir, "--limit", "24", "--queries", "3", "--json",
              tmp_path / "m.json", env=cli_env)
    assert json.loads((tmp_path / "m.json").read_text())["builds"]


def test_chinese_retrieval(cli_env: dict[str, str], sample_dir: Path, tmp_path: Path) -> None:
    data = tiny_beir(SHARED / "chinese_cs_afqmc" / "retrieval", tmp_path / "afqmc")
    run_bench("chinese_retrieval.py", "--data", data, "--sample", sample_dir, "--cache", tmp_path / "cache",
              "--pairs", "200", "--centre-texts", "40", "--json", tmp_path / "z.json", env=cli_env)
    assert json.loads((tmp_path / "z.json").read_text())["chosen"]


def test_baseline_runs_a_command_with_an_earlier_commit(cli_env: dict[str, str]) -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    out = run_bench("baseline.py", "HEAD", "sample", "--help", env=cli_env)
    assert out.strip()


# -- scripts that read the session's loaded sample and index ---------------------------------------


def test_graph_answers(stack_env: dict[str, str]) -> None:
    out = run_bench("graph_answers.py", "--n", "3", env=stack_env)
    assert "ratio_360_vs_lookup_p50" in out


def test_trimming(stack_env: dict[str, str]) -> None:
    out = run_bench("trimming.py", "--n", "2", env=stack_env)
    assert "search hybrid" in out


def test_cross_lingual_expansion(stack_env: dict[str, str]) -> None:
    out = run_bench("cross_lingual_expansion.py", "--k", "3", "--limit", "4", env=stack_env)
    assert "query language" in out


def test_spelling(stack_env: dict[str, str], e2e_settings: Settings) -> None:
    out = run_bench("spelling.py", "--index", e2e_settings.data_dir / "index", "--queries", "4", env=stack_env)
    assert "typo" in out


def test_analytics_prior_sample(stack_env: dict[str, str]) -> None:
    needs(SHARED / "expert_finding_forums")
    out = run_bench("analytics_prior.py", "--weights", "0,0.1", "--limit", "5", "--sample", env=stack_env)
    assert "sample validation" in out


def test_knowledge_figures(stack_env: dict[str, str], tmp_path: Path) -> None:
    run_bench("knowledge_figures.py", "--n", "1", "--json", tmp_path / "k.json", env=stack_env)
    assert json.loads((tmp_path / "k.json").read_text())


def test_search_scale(stack_env: dict[str, str], e2e_settings: Settings, tmp_path: Path) -> None:
    out = run_bench("search_scale.py", "--chunks", "3000", "--queries", "5", "--no-baseline", "--source",
                    e2e_settings.data_dir / "index", "--cache", tmp_path / "scale", "--json", tmp_path / "s.json",
                    env=stack_env)
    assert json.loads((tmp_path / "s.json").read_text())["current"], out


def test_soak(stack_env: dict[str, str], e2e_settings: Settings) -> None:
    out = run_bench("soak.py", "--data-dir", e2e_settings.data_dir, "--bolt-uri", stack_env["NEO4J_URI"],
                    "--duration", "3", "--workers", "2", env=stack_env)
    assert out


def test_api_throughput(stack_env: dict[str, str], e2e_settings: Settings, tmp_path: Path) -> None:
    run_bench("api_throughput.py", "--data-dir", e2e_settings.data_dir, "--bolt-uri", stack_env["NEO4J_URI"],
              "--seconds", "1", "--clients", "1", "--workers", "1,2", "--json", tmp_path / "t.json", env=stack_env)
    figures = json.loads((tmp_path / "t.json").read_text())
    assert set(figures["results"]) == {"1", "2"}


def test_opensearch_vs_local(opensearch_settings: Settings, cli_env: dict[str, str], tmp_path: Path) -> None:
    env = dict(cli_env, OPENSEARCH_URL=opensearch_settings.opensearch_endpoint)
    run_bench("opensearch_vs_local.py", "--chunks", "300", "--queries", "5", "--seconds", "0.5", "--json",
              tmp_path / "o.json", env=env)
    assert "opensearch" in json.loads((tmp_path / "o.json").read_text())


# -- scripts that wipe and load a graph: a Neo4j of their own --------------------------------------


def test_pipeline(bench_neo4j: Settings, bench_env: dict[str, str], tmp_path: Path) -> None:
    run_bench("pipeline.py", *graph_args(bench_neo4j), "--queries", "5", "--json", tmp_path / "p.json",
              env=bench_env)
    assert json.loads((tmp_path / "p.json").read_text())["items_indexed"] > 0


def test_mining(bench_neo4j: Settings, bench_env: dict[str, str], tmp_path: Path) -> None:
    run_bench("mining.py", *graph_args(bench_neo4j), "--json", tmp_path / "n.json", env=bench_env)
    assert "sample" in json.loads((tmp_path / "n.json").read_text())


def test_ingest(bench_neo4j: Settings, bench_env: dict[str, str], tmp_path: Path) -> None:
    needs(SHARED / "northwind")
    run_bench("ingest.py", *graph_args(bench_neo4j), "--scale", "1", "--json", tmp_path / "i.json", env=bench_env)
    assert "northwind" in json.loads((tmp_path / "i.json").read_text())


def test_ingest_journal(bench_neo4j: Settings, bench_env: dict[str, str]) -> None:
    out = run_bench("ingest_journal.py", *graph_args(bench_neo4j), "--records", "300", "--batch-size", "100",
                    env=bench_env)
    assert "journaled whole batches" in out


def test_vs_alternatives(bench_neo4j: Settings, bench_env: dict[str, str], tmp_path: Path) -> None:
    data = tiny_beir(SHARED / "beir_scifact", tmp_path / "scifact")
    run_bench("vs_alternatives.py", "--dataset", data, "--limit-queries", "4", *graph_args(bench_neo4j),
              "--keep-neo4j", "--json", tmp_path / "v.json", env=bench_env)
    assert json.loads((tmp_path / "v.json").read_text())["datasets"]
