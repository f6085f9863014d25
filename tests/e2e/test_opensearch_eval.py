"""`kcrm eval search --backend opensearch` as a user runs it, on a SciFact slice and the test cluster:
os-* rows beside the local ones, and the cluster's hybrid within 0.01 of the local one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kcrm.foundation.config import Settings
from tests.e2e.test_eval_cli import scifact_slice  # noqa: F401 - the shared SciFact slice fixture

pytestmark = pytest.mark.e2e


def test_eval_search_scores_opensearch_beside_local(scifact_slice: Path, opensearch_settings: Settings,  # noqa: F811
                                                    tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    env = dict(os.environ, KCRM_DATA_DIR=str(tmp_path / "data"), KCRM_LOG_LEVEL="WARNING", KCRM_EMBEDDER="hashing",
               KCRM_OPENSEARCH_HTTP_PORT=str(opensearch_settings.opensearch_http_port), KCRM_OPENSEARCH_NODES="3")
    if opensearch_settings.opensearch_url:
        env["OPENSEARCH_URL"] = opensearch_settings.opensearch_url
    result = subprocess.run([sys.executable, "-m", "kcrm.cli", "eval", "search", "--dataset", str(scifact_slice),
                             "--backend", "opensearch", "--json", str(out)], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert set(figures["results"]) == {"bm25", "dense", "hybrid", "os-bm25", "os-dense", "os-hybrid"}
    assert figures["results"]["os-hybrid"]["ndcg@10"] > 0
    for metric in ("ndcg@10", "mrr@10"):
        assert abs(figures["config"]["delta"]["hybrid"][metric]) <= 0.01, figures["config"]["delta"]
    assert "opensearch - local" in result.stdout
