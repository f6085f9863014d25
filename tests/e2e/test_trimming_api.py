"""Security trimming over HTTP with real API keys: each surface, a caller without the group and one with it.

Keys come from the `make_key` fixture (the same key store as `kcrm keys create`); the truths
(how many items are restricted, and where) are counted in Neo4j directly.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def outsider(api_url: str, make_key) -> Iterator[httpx.Client]:
    key = make_key(roles=("agent", "analyst"), groups=(), name="trim-outsider")
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def key_team(api_url: str, make_key) -> Iterator[httpx.Client]:
    key = make_key(roles=("agent", "analyst"), groups=("key-accounts",), name="trim-key-team")
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        yield client


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def test_search_hits_totals_and_facets(outsider, key_team, graph, restricted_case) -> None:
    for mode in ("hybrid", "lexical", "dense"):
        params = {"q": restricted_case["title"], "k": 50, "mode": mode}
        assert restricted_case["uid"] not in [h["uid"] for h in ok(outsider.get("/v1/search", params=params))["hits"]]
        assert restricted_case["uid"] in [h["uid"] for h in ok(key_team.get("/v1/search", params=params))["hits"]]
    browse = {"q": "type:SupportCase", "facets": "true", "k": 5}
    out, ins = ok(outsider.get("/v1/search", params=browse)), ok(key_team.get("/v1/search", params=browse))
    by_status = {r["s"]: r["c"] for r in graph.read(
        "MATCH (k:SupportCase) WHERE 'key-accounts' IN k.accessGroups RETURN k.status AS s, count(*) AS c")}
    assert ins["total"] - out["total"] == sum(by_status.values()) > 0
    for status, count in ins["facets"]["status"].items():
        assert count - out["facets"]["status"].get(status, 0) == by_status.get(status, 0), status
    assert sum(ins["facets"]["month"].values()) - sum(out["facets"]["month"].values()) == sum(by_status.values())


def test_snippets_and_entities_group(outsider, key_team, restricted_case, confidential) -> None:
    params = {"q": restricted_case["description"][:80], "k": 100, "mode": "lexical"}
    words = restricted_case["description"][:30]
    assert not any(words in h["snippet"] for h in ok(outsider.get("/v1/search", params=params))["hits"])
    assert any(words in h["snippet"] for h in ok(key_team.get("/v1/search", params=params))["hits"])
    named = {"q": confidential["name"], "entities": "true"}
    assert ok(outsider.get("/v1/search", params=named))["entities"]["counts"]["Customer"] == 0
    assert ok(key_team.get("/v1/search", params=named))["entities"]["counts"]["Customer"] == 1


def test_taxonomy_counts(outsider, key_team, graph) -> None:
    hidden = graph.read("MATCH (n) WHERE (n:SupportCase OR n:Document OR n:Policy OR n:IndustryRule) "
                        "AND 'key-accounts' IN n.accessGroups RETURN count(n) AS c")[0]["c"]
    out, ins = ok(outsider.get("/v1/taxonomy")), ok(key_team.get("/v1/taxonomy"))
    assert ins["total"] - out["total"] == hidden > 0
    assert sum(n["count"] for n in ins["nodes"]) - sum(n["count"] for n in out["nodes"]) == hidden


def test_customer_360_and_insights(outsider, key_team, graph, confidential, key_account) -> None:
    hidden = outsider.get(f"/v1/customers/{confidential['uid']}/360")
    absent = outsider.get("/v1/customers/CUS-NO-SUCH/360")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"].replace(confidential["uid"], "X") == absent.json()["detail"].replace("CUS-NO-SUCH", "X")
    assert ok(key_team.get(f"/v1/customers/{confidential['uid']}/360"))["uid"] == confidential["uid"]
    assert outsider.get(f"/v1/customers/{confidential['uid']}/insights").status_code == 404
    assert key_team.get(f"/v1/customers/{confidential['uid']}/insights").status_code == 200
    cases = graph.read("MATCH (:Customer {uid: $uid})-[:RAISED]->(k) RETURN count(k) AS c", uid=key_account)[0]["c"]
    out, ins = ok(outsider.get(f"/v1/customers/{key_account}/360")), ok(key_team.get(f"/v1/customers/{key_account}/360"))
    assert sum(ins["case_counts"].values()) == cases > 0 and sum(out["case_counts"].values()) == 0
    assert out["transactions"]["orders"] == 0 < ins["transactions"]["orders"]
    assert out["products"] == [] and ins["products"]


def test_entities_and_paths(outsider, key_team, key_account, restricted_case, confidential) -> None:
    def raised(body: dict) -> int:
        return sum(g["total"] for g in body["groups"] if g["type"] == "RAISED")

    assert raised(ok(outsider.get(f"/v1/entities/{key_account}"))) == 0
    assert raised(ok(key_team.get(f"/v1/entities/{key_account}"))) > 0
    assert outsider.get(f"/v1/entities/{restricted_case['uid']}").status_code == 404
    assert key_team.get(f"/v1/entities/{restricted_case['uid']}").status_code == 200
    params = {"from": restricted_case["resolver"], "to": key_account, "max_hops": 2, "limit": 20}
    through = [n["uid"] for p in ok(key_team.get("/v1/paths", params=params))["paths"] for n in p["nodes"]]
    assert restricted_case["uid"] in through
    params["max_hops"] = 4
    around = [n["uid"] for p in ok(outsider.get("/v1/paths", params=params))["paths"] for n in p["nodes"]]
    assert restricted_case["uid"] not in around
    gone = outsider.get("/v1/paths", params={"from": restricted_case["resolver"], "to": confidential["uid"]})
    assert gone.status_code == 404


def test_experts_and_assist(outsider, key_team, graph, key_account, restricted_case) -> None:
    restricted = {r["uid"] for r in graph.read("MATCH (n) WHERE 'key-accounts' IN n.accessGroups RETURN n.uid AS uid")}

    def evidence(client: httpx.Client) -> set[str]:
        body = ok(client.get("/v1/experts", params={"customer": key_account, "k": 5}))
        return {e["uid"] for x in body["experts"] for e in x["evidence"]}

    assert evidence(key_team) & restricted and not evidence(outsider) & restricted
    body = {"text": restricted_case["description"], "cases": 10}
    assert restricted_case["uid"] in [c["uid"] for c in ok(key_team.post("/v1/cases/assist", json=body))["similar_cases"]]
    assert restricted_case["uid"] not in [c["uid"] for c in ok(outsider.post("/v1/cases/assist", json=body))["similar_cases"]]


def test_alerts_feed_is_trimmed_by_the_subscribers_groups(api, outsider, key_team, graph) -> None:
    import json
    import time

    word = "trimflux"
    customer = graph.read("MATCH (c:Customer) WHERE c.accessGroups IS NULL RETURN c.uid AS uid ORDER BY uid "
                          "LIMIT 1")[0]["uid"]
    subs = {name: ok_created(client.post("/v1/subscriptions", json={"query": word}))
            for name, client in (("outsider", outsider), ("key_team", key_team))}
    records = [{"type": "SupportCase", "uid": uid, "rels": [{"type": "RAISED", "from": customer, "from_type": "Customer"}],
                "props": {"title": f"{word} {uid}", "description": f"The {word} sync fails.", "status": "open",
                          "openedAt": "2026-11-20T09:00:00+00:00", "language": "en", **extra}}
               for uid, extra in (("TRIM-PUBLIC-1", {}), ("TRIM-KEY-1", {"accessGroups": ["key-accounts"]}))]
    try:
        files = [("files", ("cases.jsonl", "\n".join(json.dumps(r) for r in records).encode(), "application/x-ndjson"))]
        job = api.post("/v1/ingest", files=files, data={"source": "trimtest"})
        assert job.status_code == 202, job.text
        deadline = time.monotonic() + 120
        while api.get(job.json()["status_url"]).json()["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.3)

        def feed(client: httpx.Client, name: str) -> list[str]:
            body = ok(client.get("/v1/alerts", params={"subscription": subs[name]["id"]}))
            return sorted(n["item_uid"] for n in body["notifications"])

        assert feed(key_team, "key_team") == ["TRIM-KEY-1", "TRIM-PUBLIC-1"]
        assert feed(outsider, "outsider") == ["TRIM-PUBLIC-1"]
        assert outsider.get(f"/v1/subscriptions/{subs['key_team']['id']}/deliveries").status_code == 404
        assert outsider.delete(f"/v1/subscriptions/{subs['key_team']['id']}").status_code == 404
    finally:
        graph.write("MATCH (n) WHERE n.uid STARTS WITH 'TRIM-' CALL (n) { DETACH DELETE n }")
        for name, client in (("outsider", outsider), ("key_team", key_team)):
            client.delete(f"/v1/subscriptions/{subs[name]['id']}")


def ok_created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()
