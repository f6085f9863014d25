"""Chinese retrieval over the real stack: bge-small-zh in the index, fusion chosen by query language."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from kcrm.foundation.config import Settings
from kcrm.search.embedder import make_embedder

pytestmark = pytest.mark.e2e

PASSAGES = ["花呗怎么提前还款", "借呗额度为什么降低了", "支付宝账户被冻结怎么办",
            "Refund policy: customers may return a product within 30 days for their money back."]


def _search(api: httpx.Client, **params) -> dict:
    response = api.get("/v1/search", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_default_embedder_matches_chinese_paraphrases_and_still_crosses_languages() -> None:
    embedder = make_embedder(Settings())
    assert "bge-small-zh" in embedder.name
    passages = embedder.embed_passages(PASSAGES)
    for query, expected in (("我想早点把花呗还清", 0), ("为什么我的借呗能借的钱变少了", 1), ("我想退货退款", 3)):
        scores = embedder.embed_queries([query]) @ passages.T
        assert int(np.argmax(scores[0])) == expected, (query, scores)


def test_the_index_was_built_with_the_chinese_model(e2e_settings, loaded) -> None:
    dense = json.loads((e2e_settings.index_dir / "dense" / "manifest.json").read_text())
    assert "bge-small-zh" in dense["embedder"]["name"] and dense["embedder"]["dim"] == make_embedder(Settings()).dim


def test_hybrid_fusion_weights_follow_the_query_language(api: httpx.Client, e2e_settings) -> None:
    chinese = _search(api, q="退款申请", k=5, explain="true")["explain"]["fusion"]
    english = _search(api, q="refund request", k=5, explain="true")["explain"]["fusion"]
    zh_lexical = e2e_settings.search_lexical_weight_zh
    assert chinese["weights"] == {"lexical": zh_lexical, "dense": round(1 - zh_lexical, 6)}
    assert english["weights"] == {"lexical": 0.5, "dense": 0.5}
    assert chinese["method"] != english["method"]


def test_a_chinese_query_shows_a_caller_without_the_group_none_of_its_cases(api: httpx.Client, api_url: str,
                                                                            make_key, graph, loaded) -> None:
    restricted = {r["uid"] for r in graph.read("MATCH (k:SupportCase) WHERE 'key-accounts' IN k.accessGroups "
                                               "RETURN k.uid AS uid")}
    params = {"q": "退款 账单 问题", "k": 100, "type": "SupportCase"}
    assert {h["uid"] for h in _search(api, **params)["hits"]} & restricted  # the admin sees some of them
    key = make_key(roles=("agent",), groups=(), name="zh-outsider")
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as outsider:
        body = outsider.get("/v1/search", params=params)
    assert body.status_code == 200, body.text
    hits = body.json()["hits"]
    assert hits and not {h["uid"] for h in hits} & restricted
