"""API keys over real HTTP: no key or a bad one is a 401 problem, roles give 403, keys are stored hashed."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

pytestmark = pytest.mark.e2e

PROTECTED = [("GET", "/v1/search?q=refund"), ("GET", "/v1/customers/CUS-0001/360"), ("GET", "/v1/experts?q=refund"),
             ("GET", "/v1/entities/EMP-001"), ("GET", "/v1/taxonomy"), ("POST", "/v1/ingest"), ("GET", "/v1/audit"),
             ("GET", "/v1/analytics/experts"), ("GET", "/v1/no-such-thing")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_key_is_a_401_problem_with_a_challenge(api_url: str, method: str, path: str) -> None:
    response = httpx.request(method, f"{api_url}{path}", timeout=30)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthenticated" and "Authorization: Bearer" in body["detail"]


@pytest.mark.parametrize("key", ["nonsense", "kcrm_000000000000_" + "A" * 43])
def test_a_wrong_key_is_refused(api_url: str, api_key: str, key: str) -> None:
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        response = httpx.get(f"{api_url}/v1/search", params={"q": "refund"}, headers=headers, timeout=30)
        assert response.status_code == 401, (headers, response.text)
    assert httpx.get(f"{api_url}/v1/search", params={"q": "refund"}, timeout=30,
                     headers={"Authorization": f"Basic {api_key}"}).status_code == 401
    tampered = api_key[:-1] + ("A" if api_key[-1] != "A" else "B")
    assert httpx.get(f"{api_url}/v1/search", params={"q": "refund"}, timeout=30,
                     headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_health_and_documentation_need_no_key(api_url: str) -> None:
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert httpx.get(f"{api_url}{path}", timeout=30).status_code == 200, path


def test_both_headers_carry_a_key(api_url: str, make_key) -> None:
    key = make_key(roles=["agent"])
    for headers in ({"Authorization": f"Bearer {key}"}, {"authorization": f"bearer {key}"}, {"X-API-Key": key}):
        response = httpx.get(f"{api_url}/v1/search", params={"q": "refund", "k": 1}, headers=headers, timeout=30)
        assert response.status_code == 200, (headers, response.text)


# role -> (path, expected status) for one request each; admin may do everything.
MATRIX = {
    "agent": {"search": 200, "customer": 200, "insights": 403, "analytics": 403, "ingest": 403, "audit": 403},
    "expert": {"search": 200, "customer": 200, "insights": 403, "analytics": 403, "ingest": 403, "audit": 403},
    "analyst": {"search": 200, "customer": 200, "insights": 200, "analytics": 200, "ingest": 403, "audit": 403},
    "app": {"search": 200, "customer": 200, "insights": 403, "analytics": 403, "ingest": 422, "audit": 403},
    "admin": {"search": 200, "customer": 200, "insights": 200, "analytics": 200, "ingest": 422, "audit": 200},
}


@pytest.fixture(scope="module")
def any_customer(graph) -> str:
    return graph.read("MATCH (c:Customer) RETURN c.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_each_role_reaches_exactly_its_endpoints(api_url: str, make_key, any_customer: str, role: str) -> None:
    requests = {
        "search": ("GET", "/v1/search", {"params": {"q": "refund", "k": 1}}),
        "customer": ("GET", f"/v1/customers/{any_customer}/360", {}),
        "insights": ("GET", f"/v1/customers/{any_customer}/insights", {}),
        "analytics": ("GET", "/v1/analytics/communities", {}),
        # an empty upload: a caller allowed to ingest gets 422 (no files), one who is not gets 403
        "ingest": ("POST", "/v1/ingest", {"data": {"source": "x"}}),
        "audit": ("GET", "/v1/audit", {"params": {"limit": 1}}),
    }
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {make_key(roles=[role])}"},
                      timeout=120) as client:
        for name, (method, path, kwargs) in requests.items():
            response = client.request(method, path, **kwargs)
            wanted = MATRIX[role][name]
            if wanted == 200 and name == "insights" and response.status_code == 404:
                continue  # not mined in this session: the role check passed, the customer has no insights yet
            assert response.status_code == wanted, (role, name, response.text)
            if wanted == 403:
                body = response.json()
                assert body["title"] == "Forbidden" and role in body["detail"]
                assert response.headers["content-type"].startswith("application/problem+json")


def test_a_revoked_key_stops_working_at_once(api_url: str, make_key, cli_env) -> None:
    key = make_key(roles=["agent"], name="to-revoke")
    assert httpx.get(f"{api_url}/v1/search", params={"q": "x"}, headers={"X-API-Key": key}, timeout=30).status_code == 200
    key_id = key.split("_")[1]
    env = cli_env
    done = subprocess.run([sys.executable, "-m", "kcrm.cli", "keys", "revoke", key_id], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and key_id in done.stdout, done.stderr
    listed = subprocess.run([sys.executable, "-m", "kcrm.cli", "keys", "list"], env=env, capture_output=True,
                            text=True, timeout=120).stdout
    assert f"{key_id}  to-revoke" in listed and "revoked" in listed.split(key_id)[1].splitlines()[0]
    response = httpx.get(f"{api_url}/v1/search", params={"q": "x"}, headers={"X-API-Key": key}, timeout=30)
    assert response.status_code == 401 and "invalid_token" in response.headers["www-authenticate"]


def test_keys_are_stored_only_as_digests(api_key: str, make_key, graph) -> None:
    import hashlib

    from kcrm.statedb import KEY

    other = make_key(roles=["agent"], groups=["hr"])
    stored = graph.read(f"MATCH (k:{KEY}) RETURN properties(k) AS p")
    raw = json.dumps([r["p"] for r in stored])
    for key in (api_key, other):
        assert key not in raw and key.split("_")[2] not in raw
    assert hashlib.sha256(other.encode()).hexdigest() in {r["p"]["digest"] for r in stored}


def test_openapi_declares_the_schemes_and_roles(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyHeader"}
    assert spec["paths"]["/healthz"]["get"]["security"] == []
    search = spec["paths"]["/v1/search"]["get"]
    assert "401" in search["responses"] and "403" in search["responses"]
    assert set(search["x-roles"]) == {"agent", "expert", "analyst", "app", "admin"}
    assert spec["paths"]["/v1/audit"]["get"]["x-roles"] == ["admin"]
    assert set(spec["paths"]["/v1/ingest"]["post"]["x-roles"]) == {"app", "admin"}
