"""Customer 360 and graph exploration over HTTP, compared with what Neo4j says directly."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _get(api: httpx.Client, path: str, **params) -> httpx.Response:
    return api.get(f"{path}", params=params, timeout=60)


@pytest.fixture(scope="module")
def busy_customer(graph) -> str:
    return graph.read("MATCH (c:Customer)-[:RAISED]->(k) RETURN c.uid AS uid, count(k) AS n "
                      "ORDER BY n DESC, uid LIMIT 1")[0]["uid"]


def test_customer_360_matches_the_graph(api: httpx.Client, graph, busy_customer: str) -> None:
    response = _get(api, f"/v1/customers/{busy_customer}/360", cases=3)
    assert response.status_code == 200, response.text
    body = response.json()
    truth = graph.read(
        "MATCH (c:Customer {uid: $uid}) "
        "RETURN COUNT { (c)-[:PLACED]->(:Transaction) } AS orders, "
        "       COLLECT { MATCH (c)-[:PLACED]->(t:Transaction) RETURN t.total } AS totals, "
        "       COUNT { (c)-[:RAISED]->(k:SupportCase) WHERE k.status IN ['resolved', 'closed'] } AS closed, "
        "       COUNT { (c)-[:RAISED]->(k:SupportCase) WHERE NOT k.status IN ['resolved', 'closed'] } AS open, "
        "       COUNT { (c)-[:PURCHASED]->(:Product) } AS products, "
        "       COLLECT { MATCH (e:Employee)-[:OWNS]->(c) RETURN e.uid } AS team, "
        "       COLLECT { MATCH (c)-[:GOVERNED_BY]->(r) RETURN r.uid } AS governed", uid=busy_customer)[0]
    assert body["transactions"]["orders"] == truth["orders"]
    assert body["transactions"]["total"] == pytest.approx(sum(truth["totals"]), abs=0.01)
    assert body["case_counts"] == {"open": truth["open"], "closed": truth["closed"]}
    assert len(body["products"]) == truth["products"]
    assert sorted(m["uid"] for m in body["account_team"]) == sorted(truth["team"])
    assert set(truth["governed"]) <= {r["uid"] for r in body["rules"]}
    assert len(body["closed_cases"]) == min(3, truth["closed"])
    opened = [c["openedAt"] for c in body["closed_cases"]]
    assert opened == sorted(opened, reverse=True)
    assert body["segment"]["uid"].startswith("SEG-")


def test_customer_360_unknown_is_a_404_problem(api: httpx.Client) -> None:
    response = _get(api, "/v1/customers/CUS-NOPE/360")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "CUS-NOPE" in response.json()["detail"]


def test_entity_neighbours_grouped_and_paginated(api: httpx.Client, graph, busy_customer: str) -> None:
    body = _get(api, f"/v1/entities/{busy_customer}", limit=2).json()
    groups = {(g["type"], g["direction"]): g for g in body["groups"]}
    raised = groups[("RAISED", "out")]
    assert raised["total"] == graph.read("MATCH (:Customer {uid: $u})-[:RAISED]->(k) RETURN count(k) AS n",
                                         u=busy_customer)[0]["n"]
    assert len(raised["items"]) == 2 and ("OWNS", "in") in groups
    page2 = _get(api, f"/v1/entities/{busy_customer}", type="RAISED", direction="out", limit=2, offset=2).json()
    assert [g["type"] for g in page2["groups"]] == ["RAISED"]
    assert not {i["uid"] for i in page2["groups"][0]["items"]} & {i["uid"] for i in raised["items"]}
    assert _get(api, f"/v1/entities/{busy_customer}", direction="in", type="RAISED").json()["groups"] == []


def test_entity_problems(api: httpx.Client) -> None:
    assert _get(api, "/v1/entities/NOPE-1").status_code == 404
    bad_type = _get(api, "/v1/entities/EMP-001", type="KNOWS")
    assert bad_type.status_code == 422 and "KNOWS" in bad_type.json()["detail"]
    assert _get(api, "/v1/entities/EMP-001", direction="sideways").status_code == 422


def test_paths_are_shortest_and_bounded(api: httpx.Client, graph) -> None:
    pair = graph.read("MATCH (c:Customer)-[:RAISED]->(:SupportCase)-[:RESOLVED_BY]->(e:Employee) "
                      "WHERE NOT (e)-[:OWNS]->(c) RETURN e.uid AS e, c.uid AS c ORDER BY e, c LIMIT 1")[0]
    body = _get(api, "/v1/paths", **{"from": pair["e"], "to": pair["c"], "max_hops": 4}).json()
    assert body["count"] >= 1 and all(p["length"] == 2 for p in body["paths"])
    for path in body["paths"]:
        assert path["nodes"][0]["uid"] == pair["e"] and path["nodes"][-1]["uid"] == pair["c"]
        assert {r["type"] for r in path["relationships"]} <= {"RAISED", "RESOLVED_BY", "ABOUT_PRODUCT", "PURCHASED",
                                                              "OWNS", "HAS_TOPIC", "HAS_SKILL", "GOVERNED_BY"}
    assert _get(api, "/v1/paths", **{"from": pair["e"], "to": pair["c"], "max_hops": 1}).json()["count"] == 0
    assert _get(api, "/v1/paths", **{"from": pair["e"], "to": pair["c"], "max_hops": 5}).status_code == 422
    assert _get(api, "/v1/paths", **{"from": pair["e"], "to": "NOPE"}).status_code == 404
    assert _get(api, "/v1/paths", **{"from": pair["e"], "to": pair["e"]}).status_code == 400
