"""What `kcrm eval search` measures is what `/v1/search` serves: both rank through `ranking.rank`."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcrm.evaluation.search import _runs, build_indexes, load_beir, ranked
from kcrm.search import ranking
from kcrm.search.contract import Retrieve
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.filters import SearchFilter
from kcrm.search.fusion import LanguageFusion, ScoreFusion
from kcrm.search.tokenizer import default_analyzer
from tests.unit.test_evaluation import QUERIES, write_beir


def test_eval_and_served_search_call_the_same_ranking_function(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = load_beir(write_beir(tmp_path / "set"))
    search = build_indexes(dataset, HashingEmbedder(dim=256), default_analyzer(), tmp_path / "cache",
                           fusion=ScoreFusion(weights=(0.5, 0.5)))
    calls: list[str] = []
    real = ranking.rank

    def spy(retrieval, mode, fusion):  # type: ignore[no-untyped-def]
        calls.append(mode)
        return real(retrieval, mode, fusion)

    monkeypatch.setattr(ranking, "rank", spy)
    for text in QUERIES.values():
        calls.clear()
        measured = _runs(search, {"q": text}, {"hybrid": search.fusion}, depth=100, progress=False)
        assert calls.count("hybrid") == 1  # the evaluation's hybrid run came from rank()
        calls.clear()
        served = search.page(text, k=10, expand=False)
        assert calls == ["hybrid"]  # and so did the page /v1/search returns
        assert [hit.uid for hit in served.hits] == measured["hybrid"]["q"][:10]
        assert [hit.uid for hit in search.page(text, k=10, mode="lexical").hits] == measured["bm25"]["q"][:10]
        assert [hit.uid for hit in search.page(text, k=10, mode="dense").hits] == measured["dense"]["q"][:10]


def test_a_chinese_query_is_measured_with_the_chinese_fusion_the_page_serves(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A per-language policy must be resolved per query in the evaluation too (`ranked`), else a
    Chinese query is scored with the English weights while `/v1/search` serves the Chinese ones."""
    english, chinese = ScoreFusion(weights=(0.5, 0.5)), ScoreFusion(weights=(0.2, 0.8))
    policy = LanguageFusion(english=english, chinese=chinese)
    dataset = load_beir(write_beir(tmp_path / "set"))
    search = build_indexes(dataset, HashingEmbedder(dim=256), default_analyzer(), tmp_path / "cache", fusion=policy)
    used: list[object] = []
    real = ranking.rank

    def spy(retrieval, mode, fusion):  # type: ignore[no-untyped-def]
        if mode == "hybrid":
            used.append(fusion)
        return real(retrieval, mode, fusion)

    monkeypatch.setattr(ranking, "rank", spy)
    for text, expected in ((QUERIES["q4"], chinese), (QUERIES["q1"], english)):
        used.clear()
        _runs(search, {"q": text}, {"hybrid": search.fusion}, depth=100, progress=False)
        search.page(text, k=10, expand=False)
        assert used == [expected, expected]
        retrieval = search.backend.retrieve(Retrieve(text, "hybrid", 100, SearchFilter(), None))
        used.clear()
        ranked(retrieval, text, "hybrid", policy)  # what the OpenSearch evaluation calls per engine
        assert used == [expected]
