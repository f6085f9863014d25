"""The HTTP API over the real stack: health, readiness, search in both languages, problems."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e

REFUND_WORDS_ZH = ("退款", "退货", "退钱", "返款")
REFUND_WORDS_EN = ("refund", "money back", "reimburse")


def _hits(api: httpx.Client, q: str, **params) -> list[dict]:
    response = api.get("/v1/search", params={"q": q, **params}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["hits"]


def test_healthz_and_readyz(api: httpx.Client) -> None:
    assert api.get("/healthz").json()["status"] == "ok"
    ready = api.get("/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["checks"]["neo4j"]["ok"] and body["checks"]["index"]["ok"]


def test_chinese_refund_query_returns_refund_cases_first(api: httpx.Client) -> None:
    hits = _hits(api, "退款")
    top = hits[:5]
    assert all(h["type"] in {"SupportCase", "Document", "Policy", "IndustryRule"} for h in hits)
    relevant = [h for h in top if any(w in (h["title"] + h["snippet"]) for w in REFUND_WORDS_ZH + REFUND_WORDS_EN)]
    assert len(relevant) >= 4, [h["title"] for h in top]
    assert top[0]["score"] >= top[-1]["score"]


def test_english_refund_policy_query_returns_refund_material_first(api: httpx.Client) -> None:
    top = _hits(api, "refund policy")[:5]
    relevant = [h for h in top if any(w in (h["title"] + h["snippet"]).lower() for w in REFUND_WORDS_EN + REFUND_WORDS_ZH)]
    assert len(relevant) >= 4, [h["title"] for h in top]


def test_type_filter_and_hit_fields(api: httpx.Client) -> None:
    hits = _hits(api, "printer driver fails after update", type="SupportCase", k=5)
    assert len(hits) == 5 and {h["type"] for h in hits} == {"SupportCase"}
    first = hits[0]
    assert first["uid"].startswith("CASE-") and first["title"] and first["snippet"]
    assert "status" in first["meta"]
    assert any("print" in (h["title"] + h["snippet"]).lower() or "打印" in h["title"] + h["snippet"] for h in hits)


@pytest.mark.parametrize(("params", "status"), [
    ({}, 422), ({"q": ""}, 422), ({"q": "x" * 1001}, 422), ({"q": "ok", "k": 0}, 422),
    ({"q": "ok", "type": "Spaceship"}, 422),
])
def test_bad_requests_get_problem_details(api: httpx.Client, params: dict, status: int) -> None:
    response = api.get("/v1/search", params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["instance"] == "/v1/search"


def test_unknown_path_is_a_problem_too(api: httpx.Client) -> None:
    response = api.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_openapi_and_docs_are_served(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    assert "/v1/search" in spec["paths"] and "/readyz" in spec["paths"]
    assert api.get("/docs").status_code == 200
