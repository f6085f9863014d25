"""GET /v1/taxonomy and topic/category drill-down over the real stack (Neo4j -> indexes -> HTTP)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _get(api: httpx.Client, path: str, **params) -> dict:
    response = api.get(f"{path}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _walk(nodes: list[dict]):
    for node in nodes:
        yield node
        yield from _walk(node["children"])


@pytest.mark.parametrize("scheme", ["topics", "product-categories"])
def test_tree_counts_roll_up_and_cover_everything(api: httpx.Client, scheme: str) -> None:
    body = _get(api, "/v1/taxonomy", scheme=scheme)
    assert body["scheme"] == scheme and body["nodes"]
    for node in _walk(body["nodes"]):
        assert node["label_en"] and node["label_zh"]
        assert node["count"] >= sum(child["count"] for child in node["children"])
    placed = sum(node["count"] for node in body["nodes"])
    assert placed > 0 and placed + body["unclassified"] == body["total"]


def test_node_count_is_the_drill_down_total(api: httpx.Client) -> None:
    """A parent's count equals the search total after filtering on it: descendants included."""
    body = _get(api, "/v1/taxonomy", scheme="topics", q="refund", mode="lexical", expand="false")
    parent = next(n for n in body["nodes"] if n["children"] and n["count"])
    drilled = _get(api, "/v1/search", q="refund", mode="lexical", expand="false", topic=parent["uid"],
                   facets="true")
    assert drilled["total"] == parent["count"]
    leaves = {c["label_en"] for c in parent["children"]} | {parent["label_en"]}
    assert set(drilled["facets"]["topic"]) <= leaves and len(drilled["facets"]["topic"]) > 1
    by_chinese = _get(api, "/v1/search", q="refund", mode="lexical", expand="false", topic=parent["label_zh"])
    assert by_chinese["total"] == parent["count"]


def test_category_drill_down_and_filtered_tree(api: httpx.Client) -> None:
    tree = _get(api, "/v1/taxonomy", scheme="product-categories", status="open")
    node = max(_walk(tree["nodes"]), key=lambda n: n["count"])
    drilled = _get(api, "/v1/search", q=f"status:open category:{node['uid']}", facets="true", k=5)
    assert drilled["total"] == node["count"] > 0
    assert all(h["meta"]["status"] == "open" for h in drilled["hits"])
    assert tree["total"] == _get(api, "/v1/search", q="status:open")["total"]


def test_bad_scheme_is_a_problem(api: httpx.Client) -> None:
    response = api.get("/v1/taxonomy", params={"scheme": "colours"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
