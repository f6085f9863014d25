"""The opensearch backend on a real 3-node cluster: access trimming inside every query, filters inside
kNN, kcrm's own terms (Chinese included), the alias swap, incremental updates, BM25 parity with the
local index, and an unreachable cluster named in the error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import SearchBackendUnavailable
from kcrm.search.contract import Retrieve
from kcrm.search.embedder import make_embedder
from kcrm.search.filters import SearchFilter, make_filter
from kcrm.search.lexical import BM25Index
from kcrm.search.opensearch_backend import OpenSearchBackend, item_record
from kcrm.search.opensearch_client import cluster_health_of, make_client
from kcrm.search.types import IndexItem

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "data" / "beir_scifact" / "corpus.jsonl"
SECRET = "secret-team"


def corpus() -> list[IndexItem]:
    """Public and restricted items in English and Chinese, with facets and dates."""
    items = []
    for i in range(40):
        restricted = i % 4 == 0
        items.append(IndexItem(
            uid=f"case-{i}", type="SupportCase" if i % 2 else "Document",
            title=f"Printer driver problem {i}" if i % 3 else f"Router firmware issue {i}",
            text=("The printer driver fails after the update; reinstalling the driver helps. " if i % 3 else
                  "The router firmware upgrade drops the connection every hour. ") + f"ticket {i}",
            language="en",
            meta={"status": "open" if i % 5 else "closed", "product": "Skylark X200 Router" if i % 3 == 0 else "Inkjet P5",
                  "openedAt": f"2025-{1 + i % 6:02d}-{1 + i % 27:02d}",
                  "accessGroups": [SECRET] if restricted else []}))
    items.append(IndexItem("zh-1", "Document", "打印机驱动程序", "更新后打印机驱动程序失败，重新安装驱动程序即可。", "zh",
                           {"publishedAt": "2025-02-01"}))
    items.append(IndexItem("zh-2", "Document", "客户关系管理", "客户关系管理系统的数据导出", "zh", {"accessGroups": [SECRET]}))
    return items


@pytest.fixture(scope="module")
def backend(opensearch_settings: Settings) -> Iterator[OpenSearchBackend]:
    built = OpenSearchBackend(opensearch_settings, make_embedder(opensearch_settings))
    built.rebuild(corpus())
    yield built
    built.close()


def request(text: str, mode: str = "hybrid", groups: frozenset[str] | None = frozenset(),
            filters: SearchFilter | None = None, depth: int = 50) -> Retrieve:
    return Retrieve(text=text, mode=mode, depth=depth, filters=filters or SearchFilter(), groups=groups, facets=True,
                    date_k=50)


def uids_of(retrieval) -> set[str]:  # type: ignore[no-untyped-def]
    out = {h.record.uid for h in retrieval.newest or []}
    for side in (retrieval.lexical, retrieval.dense):
        out |= {h.record.uid for h in side.hits} if side else set()
    return out


def test_a_caller_without_the_group_sees_no_trace_of_restricted_items(backend: OpenSearchBackend) -> None:
    restricted = {f"case-{i}" for i in range(0, 40, 4)} | {"zh-2"}
    for mode in ("hybrid", "lexical", "dense"):
        outsider = backend.retrieve(request("printer driver router firmware 客户关系管理", mode))
        insider = backend.retrieve(request("printer driver router firmware 客户关系管理", mode, groups=frozenset({SECRET})))
        assert not uids_of(outsider) & restricted, mode
        assert uids_of(insider) & restricted, mode  # the same query does reach them for a member
        assert outsider.total < insider.total, mode
        assert sum(outsider.facets["type"].values()) == outsider.total
    browsed = backend.browse(SearchFilter(), frozenset(), 100, facets=True)
    assert browsed.total == 42 - len(restricted) and not {h.record.uid for h in browsed.hits} & restricted
    term = backend.analyze("客户关系管理")[0]
    assert backend.document_frequency(term, frozenset()) == 0
    assert backend.document_frequency(term, frozenset({SECRET})) == 1
    assert backend.term_weights("case-0", ["router"], frozenset()) == {}
    assert backend.term_weights("case-0", ["router"], frozenset({SECRET}))["router"] > 0
    speller = backend.speller(frozenset())
    assert speller is not None and "客户关系管理系统的数据导出" not in speller.counts


def test_an_outsider_scores_as_if_restricted_items_did_not_exist(backend: OpenSearchBackend,
                                                                  opensearch_settings: Settings) -> None:
    """BM25 over the caller's view: the same scores as an index holding only the public items."""
    settings = opensearch_settings.model_copy(update={"opensearch_index": "kcrm-test-public"})
    public_only = OpenSearchBackend(settings, make_embedder(settings))
    public_only.rebuild([item for item in corpus() if not item.meta.get("accessGroups")])
    try:
        for text in ("printer driver", "router firmware hour", "驱动程序"):
            outsider = backend.retrieve(request(text, "lexical"))
            reference = public_only.retrieve(request(text, "lexical", groups=None))
            assert outsider.lexical is not None and reference.lexical is not None
            assert [(h.record.uid, round(h.score, 6)) for h in outsider.lexical.hits] == \
                [(h.record.uid, round(h.score, 6)) for h in reference.lexical.hits], text
        term = backend.analyze("router")[0]
        assert backend.term_weights("case-3", [term], frozenset()) == public_only.term_weights("case-3", [term], None)
    finally:
        public_only.index.drop(public_only.index.live())
        public_only.close()


def test_filters_sit_inside_the_knn_query(backend: OpenSearchBackend) -> None:
    """A selective filter still yields `depth` matching dense candidates (a post-filter would return fewer)."""
    flt = make_filter({"status": ["closed"]})
    answer = backend.retrieve(request("printer", "dense", groups=None, filters=flt, depth=8))
    assert answer.dense is not None and len(answer.dense.hits) == 8
    assert all(h.record.meta["status"] == "closed" for h in answer.dense.hits)
    contains = backend.retrieve(request("firmware", "lexical", groups=None, filters=make_filter({"product": ["x200"]})))
    assert contains.lexical is not None and contains.lexical.hits
    assert all("X200" in h.record.meta["product"] for h in contains.lexical.hits)
    dated = backend.browse(make_filter(date_from="2025-03-01", date_to="2025-03-31"), None, 50, facets=True)
    assert dated.total and set(dated.facets["month"]) == {"2025-03"}


def test_chinese_is_matched_with_kcrm_segmentation(backend: OpenSearchBackend) -> None:
    answer = backend.retrieve(request("驱动程序", "lexical"))
    assert answer.lexical is not None and [h.record.uid for h in answer.lexical.hits] == ["zh-1"]
    assert backend.analyze("客户关系管理") == backend.index.analyzer.terms("客户关系管理")


def test_incremental_update_and_removal_are_searchable_on_return(backend: OpenSearchBackend) -> None:
    before = backend.item_count()
    backend.add([IndexItem("new-1", "SupportCase", "Scanner jams", "The scanner jams on duplex pages", "en", {})])
    found = backend.retrieve(request("scanner duplex", "lexical"))
    assert found.lexical is not None and [h.record.uid for h in found.lexical.hits] == ["new-1"]
    assert backend.item_count() == before + 1
    assert backend.remove(["new-1", "never-indexed"]) == 1
    gone = backend.retrieve(request("scanner duplex", "lexical"))
    assert gone.lexical is not None and gone.lexical.hits == [] and backend.item_count() == before


def test_reindex_switches_the_alias_and_drops_the_old_generation(opensearch_settings: Settings) -> None:
    settings = opensearch_settings.model_copy(update={"opensearch_index": "kcrm-test-swap"})
    backend = OpenSearchBackend(settings, make_embedder(settings))
    first = backend.rebuild(corpus()[:5])
    second = backend.rebuild(corpus())
    client: OpenSearch = backend.index.client
    assert first != second and backend.index.current_index() == second
    assert not client.indices.exists(index=first)
    assert backend.item_count() == 42
    client.indices.delete(index=second)
    backend.close()


def test_bm25_parity_on_scifact(opensearch_settings: Settings) -> None:
    """On 300 real abstracts, kcrm's BM25 and the cluster's (dfs, 2 shards) agree on the top 10."""
    if not SCIFACT.exists():
        pytest.skip(f"{SCIFACT} missing")
    rows = [json.loads(line) for line in SCIFACT.read_text().splitlines()[:300]]
    items = [IndexItem(str(r["_id"]), "Document", r.get("title", ""), r["text"], "en", {}) for r in rows]
    settings = opensearch_settings.model_copy(update={"opensearch_index": "kcrm-test-parity"})
    backend = OpenSearchBackend(settings, make_embedder(settings))
    backend.rebuild(items)
    local = BM25Index()
    local.add([item_record(item) for item in items])
    queries = [item.title for item in items[:40:2]]
    overlaps, firsts = [], 0
    for text in queries:
        mine = [h.record.uid for h in local.search(text, 10)]
        theirs = backend.retrieve(request(text, "lexical", groups=None, depth=10))
        assert theirs.lexical is not None
        got = [h.record.uid for h in theirs.lexical.hits]
        overlaps.append(len(set(mine) & set(got)) / 10)
        firsts += mine[0] == got[0]
    backend.index.drop(backend.index.live())
    backend.close()
    assert sum(overlaps) / len(overlaps) >= 0.95, overlaps
    assert firsts >= len(queries) - 1


def test_an_unreachable_cluster_is_named_in_the_error() -> None:
    settings = Settings(opensearch_url="http://127.0.0.1:9", opensearch_timeout_s=2)
    with pytest.raises(SearchBackendUnavailable, match=r"not reachable at http://127\.0\.0\.1:9"):
        cluster_health_of(settings, make_client(settings))


def _kcrm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    kcrm = str(Path(sys.executable).with_name("kcrm"))
    return subprocess.run([kcrm, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
                          check=False)


def test_cli_status_names_nodes_and_logs_and_an_unreachable_url_is_one_line() -> None:
    down = _kcrm("opensearch", "status", env={"OPENSEARCH_URL": "http://127.0.0.1:9"})
    assert down.returncode == 2
    assert "OpenSearch is not reachable at http://127.0.0.1:9" in down.stderr and "Traceback" not in down.stderr


def test_cli_status_of_the_bundled_cluster(opensearch_settings: Settings) -> None:
    if not opensearch_settings.local_opensearch:
        pytest.skip("OPENSEARCH_URL is set")
    env = {"KCRM_DATA_DIR": str(opensearch_settings.data_dir),
           "KCRM_OPENSEARCH_HTTP_PORT": str(opensearch_settings.opensearch_http_port),
           "KCRM_OPENSEARCH_TRANSPORT_PORT": str(opensearch_settings.opensearch_transport_port),
           "KCRM_OPENSEARCH_NODES": "3"}
    answer = _kcrm("opensearch", "status", env=env)
    assert answer.returncode == 0, answer.stderr
    assert "health green" in answer.stdout and answer.stdout.count("pid ") == 3
    assert str(opensearch_settings.opensearch_home / "logs" / "node-2.log") in answer.stdout
