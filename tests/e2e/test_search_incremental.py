"""Ingest updates the search indexes in place: a new case is findable without `kcrm reindex`,
a pruned one is gone, and /readyz reports the index current (one generation, both indexes)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from kcrm import workflows

pytestmark = pytest.mark.e2e

SOURCE = "search-incremental"
CLEANUP = "MATCH (n {source: $source}) CALL (n) { DETACH DELETE n } RETURN count(*) AS n"


def case(uid: str, title: str, text: str) -> str:
    return json.dumps({"type": "SupportCase", "uid": uid, "props": {
        "title": title, "description": text, "language": "en", "status": "open",
        "openedAt": "2025-02-03T04:05:06+00:00"}}) + "\n"


def uids(api: httpx.Client, query: str) -> list[str]:
    response = api.get("/v1/search", params={"q": query, "k": 10, "mode": "lexical"})
    assert response.status_code == 200, response.text
    return [hit["uid"] for hit in response.json()["hits"]]


def generation(settings) -> int:
    return json.loads((settings.index_dir / "manifest.json").read_text())["generation"]


def test_ingest_then_prune_updates_search_without_reindex(graph, loaded, e2e_settings, api: httpx.Client,
                                                          tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    first = case("INC-1", "Zeppelinoid hangar flooding", "The zeppelinoid hangar flooded after the storm.")
    second = case("INC-2", "Quokkascope lens fogging", "Every quokkascope lens fogs up in cold weather.")
    (source / "cases.jsonl").write_text(first + second, encoding="utf-8")
    before = generation(e2e_settings)
    try:
        assert uids(api, "zeppelinoid") == []
        result = workflows.ingest(e2e_settings, graph, source, source=SOURCE)
        assert result.ok and result.index_stale is False
        assert result.index_update is not None and result.index_update["added"] == 2
        assert generation(e2e_settings) == before + 1
        assert uids(api, "zeppelinoid") == ["INC-1"]
        assert uids(api, "quokkascope") == ["INC-2"]
        hybrid = api.get("/v1/search", params={"q": "quokkascope lens fogging", "k": 3}).json()
        assert hybrid["hits"][0]["uid"] == "INC-2"  # the dense side found it too: both indexes updated
        assert api.get("/v1/admin/readiness").json()["checks"]["index"]["stale"] is False

        (source / "cases.jsonl").write_text(first, encoding="utf-8")  # INC-2 deleted at the source
        pruned = workflows.ingest(e2e_settings, graph, source, source=SOURCE, prune=True)
        assert pruned.deleted == 1 and pruned.index_update["removed"] == 1
        assert uids(api, "quokkascope") == []
        assert uids(api, "zeppelinoid") == ["INC-1"]
        dense = api.get("/v1/search", params={"q": "quokkascope lens fogging", "k": 10, "mode": "dense"}).json()
        assert "INC-2" not in [hit["uid"] for hit in dense["hits"]]
        ready = api.get("/v1/admin/readiness").json()["checks"]["index"]
        assert ready["stale"] is False and ready["ok"]
    finally:
        graph.write(CLEANUP, source=SOURCE)
        workflows.update_index_after_ingest(e2e_settings, graph)
    assert uids(api, "zeppelinoid") == []
