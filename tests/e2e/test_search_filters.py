"""Field filters and facets on GET /v1/search over the real stack (Neo4j -> indexes -> HTTP)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e

DATE_KEYS = ("openedAt", "publishedAt", "effectiveFrom")


def _search(api: httpx.Client, q: str, **params) -> dict:
    response = api.get("/v1/search", params={"q": q, **params}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _date(hit: dict) -> str:
    return next((str(hit["meta"][key])[:10] for key in DATE_KEYS if hit["meta"].get(key)), "")


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_query_string_filters_apply_before_ranking(api: httpx.Client, mode: str) -> None:
    body = _search(api, "refund status:closed priority:urgent", mode=mode, k=20)
    assert body["filters"] == {"priority": ["urgent"], "status": ["closed"]}
    assert body["hits"], "the sample has closed urgent refund cases"
    assert all(h["meta"]["status"] == "closed" and h["meta"]["priority"] == "urgent" for h in body["hits"])


def test_parameter_filters_and_facets(api: httpx.Client) -> None:
    body = _search(api, "printer", language="zh", facets="true", k=5)
    assert body["hits"] and all(h["language"] == "zh" for h in body["hits"])
    assert body["facets"]["language"] == {"zh": body["total"]}
    assert sum(body["facets"]["type"].values()) == body["total"] >= body["count"]


def test_facet_counts_predict_the_drill_down(api: httpx.Client) -> None:
    """In lexical mode the match set is exact, so a facet's count is the total after choosing it."""
    body = _search(api, "refund", mode="lexical", facets="true")
    for field in ("status", "topic", "language"):
        value, count = next(iter(body["facets"][field].items()))
        narrowed = _search(api, "refund", mode="lexical", facets="true", **{field: value})
        assert narrowed["total"] == count, (field, value)
        assert narrowed["facets"][field][value] == count


def test_date_range_in_query_and_month_histogram(api: httpx.Client) -> None:
    body = _search(api, "refund date:2024", facets="true", k=30)
    assert body["filters"] == {"date_from": "2024-01-01", "date_to": "2024-12-31"}
    assert body["hits"] and all(_date(h).startswith("2024") for h in body["hits"])
    assert body["facets"]["month"] and all(m.startswith("2024-") for m in body["facets"]["month"])
    assert sum(body["facets"]["month"].values()) == body["total"]


def test_filters_alone_browse_newest_first(api: httpx.Client) -> None:
    body = _search(api, "type:policy", facets="true", k=50)
    assert body["total"] == body["facets"]["type"]["Policy"] == body["count"] > 0
    dates = [_date(h) for h in body["hits"]]
    assert dates == sorted(dates, reverse=True)


def test_product_filter_matches_part_of_the_name(api: httpx.Client) -> None:
    body = _search(api, 'printer product:"inkjoy"', k=10)
    assert body["hits"] and all("inkjoy" in h["meta"]["product"].lower() for h in body["hits"])


@pytest.mark.parametrize("params", [{"q": "refund date:someday"}, {"q": "refund", "date_from": "2024-13"},
                                    {"q": "refund", "date_from": "2025", "date_to": "2024"}])
def test_bad_filters_are_problems(api: httpx.Client, params: dict) -> None:
    response = api.get("/v1/search", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "date" in response.json()["detail"]
