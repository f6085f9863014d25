"""Every error the app itself produces is an RFC 9457 problem: 401, 404, 405, 413, 422 and 500.

The app is built by `create_app` with its real middleware and handlers and called in-process
(no Neo4j: none of these answers needs the graph; the e2e tests cover the rest over HTTP).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kcrm.api.app import create_app
from kcrm.foundation.config import Settings
from kcrm.security.access import Principal
from kcrm.security.audit import AuditLog
from kcrm.security.keys import KeyStore

KEY = "kcrm_0123456789ab_" + "a" * 43


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[TestClient, str]:
    settings = Settings(data_dir=tmp_path, api_max_query_chars=20, api_max_page_size=5, api_max_hops=2,
                        api_max_request_mb=1, neo4j_uri="bolt://127.0.0.1:9")
    # No Neo4j here: the key store answers for one admin key and the audit rows are kept in memory.
    admin = Principal(key_id="0123456789ab", name="unit", roles=frozenset({"admin"}), groups=frozenset())
    monkeypatch.setattr(KeyStore, "authenticate", lambda self, key: admin if key == KEY else None)
    monkeypatch.setattr(AuditLog, "append", lambda self, rows: None)
    app = create_app(settings)

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    return TestClient(app, raise_server_exceptions=False), KEY


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    return body


def test_unhandled_errors_are_500_problems_without_internals(client) -> None:
    http, key = client
    body = _is_problem(http.get("/v1/boom", headers={"X-API-Key": key}), 500)
    assert "secret" not in body["detail"]


def test_404_405_and_401(client) -> None:
    http, key = client
    _is_problem(http.get("/v1/nothing", headers={"X-API-Key": key}), 404)
    response = http.delete("/v1/search", headers={"X-API-Key": key})
    _is_problem(response, 405)
    assert "GET" in response.headers["allow"]
    unauthenticated = http.get("/v1/boom")
    _is_problem(unauthenticated, 401)
    assert unauthenticated.headers["www-authenticate"] == 'Bearer realm="kcrm"'


@pytest.mark.parametrize(("params", "setting"), [
    ({"q": "x" * 21}, "KCRM_API_MAX_QUERY_CHARS"), ({"q": "ok", "k": 6}, "KCRM_API_MAX_PAGE_SIZE"),
    ({"from": "a", "to": "b", "max_hops": 3}, "KCRM_API_MAX_HOPS"),
])
def test_configured_limits_are_422_problems(client, params: dict, setting: str) -> None:
    http, key = client
    path = "/v1/paths" if "from" in params else "/v1/search"
    body = _is_problem(http.get(path, params=params, headers={"X-API-Key": key}), 422)
    assert setting in body["detail"] and body["errors"][0]["location"][0] == "query"


def test_a_body_over_the_limit_is_413_before_it_is_read(client) -> None:
    http, key = client
    body = _is_problem(http.post("/v1/ingest", content=b"x" * (1024 * 1024 + 1),
                                 headers={"X-API-Key": key, "content-type": "application/octet-stream"}), 413)
    assert "KCRM_API_MAX_REQUEST_MB" in body["detail"]
