"""`kcrm reindex` and ingest's incremental update with KCRM_SEARCH_BACKEND=opensearch, on the real
sample graph and the real cluster: a new generation behind the alias, then only what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcrm import workflows
from kcrm.foundation.config import Settings
from kcrm.search.contract import Retrieve
from kcrm.search.embedder import make_embedder
from kcrm.search.filters import SearchFilter
from kcrm.search.from_graph import item_versions
from kcrm.search.opensearch_backend import OpenSearchBackend

pytestmark = pytest.mark.e2e

SOURCE = "opensearch-sync"
CLEANUP = "MATCH (n {source: $source}) CALL (n) { DETACH DELETE n } RETURN count(*) AS n"


def case(uid: str, title: str, text: str) -> str:
    return json.dumps({"type": "SupportCase", "uid": uid, "props": {
        "title": title, "description": text, "language": "en", "status": "open",
        "openedAt": "2025-02-03T04:05:06+00:00"}}) + "\n"


def lexical_uids(backend: OpenSearchBackend, text: str) -> list[str]:
    answer = backend.retrieve(Retrieve(text=text, mode="lexical", depth=10, filters=SearchFilter(), groups=None))
    assert answer.lexical is not None
    return [hit.record.uid for hit in answer.lexical.hits]


def test_reindex_then_ingest_and_prune_update_the_cluster_in_place(graph, loaded, e2e_settings: Settings,
                                                                    opensearch_settings: Settings,
                                                                    tmp_path: Path) -> None:
    settings = e2e_settings.model_copy(update={
        key: getattr(opensearch_settings, key) for key in
        ("opensearch_url", "opensearch_nodes", "opensearch_http_port", "opensearch_transport_port")} | {
        "search_backend": "opensearch", "embedder": "hashing", "opensearch_index": "kcrm-test-sync"})
    generation = workflows.reindex(settings, graph)
    backend = OpenSearchBackend(settings, make_embedder(settings))
    assert backend.generation == generation
    assert backend.item_count() == len(item_versions(graph))
    source = tmp_path / "src"
    source.mkdir()
    first = case("OSS-1", "Zeppelinoid hangar flooding", "The zeppelinoid hangar flooded after the storm.")
    second = case("OSS-2", "Quokkascope lens fogging", "Every quokkascope lens fogs up in cold weather.")
    (source / "cases.jsonl").write_text(first + second, encoding="utf-8")
    try:
        result = workflows.ingest(settings, graph, source, source=SOURCE)
        assert result.ok and result.index_update is not None and result.index_update["added"] == 2
        assert lexical_uids(backend, "zeppelinoid") == ["OSS-1"]
        assert backend.generation == generation  # updated in place, no rebuild
        (source / "cases.jsonl").write_text(first, encoding="utf-8")
        pruned = workflows.ingest(settings, graph, source, source=SOURCE, prune=True)
        assert pruned.index_update is not None and pruned.index_update["removed"] == 1
        assert lexical_uids(backend, "quokkascope") == []
        assert lexical_uids(backend, "zeppelinoid") == ["OSS-1"]
    finally:
        graph.write(CLEANUP, source=SOURCE)
        workflows.update_index_after_ingest(settings, graph)
    assert lexical_uids(backend, "zeppelinoid") == []
    backend.index.drop(generation)
    backend.close()
