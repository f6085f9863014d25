"""Collaboration analytics over HTTP on the loaded sample, checked against the graph it reads."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _get(api: httpx.Client, path: str, **params) -> httpx.Response:
    return api.get(f"{path}", params=params, timeout=120)


def test_central_experts_cover_every_employee_and_agree_with_communities(api: httpx.Client, graph) -> None:
    response = _get(api, "/v1/analytics/experts", k=1000)
    assert response.status_code == 200, response.text
    body = response.json()
    employees = {r["uid"]: r for r in graph.read("MATCH (e:Employee) RETURN e.uid AS uid, e.team AS team")}
    uids = [e["uid"] for e in body["experts"]]
    assert sorted(uids) == sorted(employees) and body["nodes"] == len(employees) and body["edges"] > 0
    values = [e["centrality"] for e in body["experts"]]
    assert values == sorted(values, reverse=True) and sum(values) == pytest.approx(1.0, abs=1e-3)
    assert all(e["team"] == (employees[e["uid"]]["team"] or "") for e in body["experts"])

    communities = _get(api, "/v1/analytics/communities").json()
    assert communities["watermark"] == body["watermark"]
    members = [m for c in communities["communities"] for m in c["members"]]
    assert sorted(members) == sorted(employees), "communities must partition the employees"
    community_of = {m: c["id"] for c in communities["communities"] for m in c["members"]}
    assert all(community_of[e["uid"]] == e["community"] for e in body["experts"])


def test_most_central_employee_has_more_shared_work_than_the_least_central(api: httpx.Client, graph) -> None:
    ranking = _get(api, "/v1/analytics/experts", k=1000).json()["experts"]
    query = ("MATCH (c:SupportCase)-[:RESOLVED_BY]->(:Employee {uid: $e}) WHERE c.status IN ['resolved', 'closed'] "
             "RETURN count(c) AS n")
    top, bottom = ranking[0]["uid"], ranking[-1]["uid"]
    assert ranking[0]["centrality"] > ranking[-1]["centrality"]
    assert graph.read(query, e=top)[0]["n"] > graph.read(query, e=bottom)[0]["n"]


def test_community_topics_are_topics_its_members_work_on(api: httpx.Client, graph) -> None:
    body = _get(api, "/v1/analytics/communities", min_size=2).json()
    assert body["communities"] and all(c["size"] >= 2 for c in body["communities"])
    for community in body["communities"]:
        assert community["size"] == len(community["members"])
        shares = [t["share"] for t in community["topics"]]
        assert shares == sorted(shares, reverse=True) and all(0 < s <= 1 for s in shares)
        for topic in community["topics"][:1]:
            rows = graph.read("MATCH (e:Employee)<-[:RESOLVED_BY]-(:SupportCase)-[:HAS_TOPIC]->(:Topic {uid: $t}) "
                              "WHERE e.uid IN $m RETURN e.uid AS uid UNION "
                              "MATCH (e:Employee)-[:AUTHORED]->(:Document)-[:HAS_TOPIC]->(:Topic {uid: $t}) "
                              "WHERE e.uid IN $m RETURN e.uid AS uid", t=topic["topic"], m=community["members"])
            assert rows, f"{topic['topic']} is not worked on by community {community['id']}"


def test_team_filter_and_bad_parameters(api: httpx.Client, graph) -> None:
    team = graph.read("MATCH (e:Employee) WHERE e.team IS NOT NULL RETURN e.team AS team LIMIT 1")[0]["team"]
    body = _get(api, "/v1/analytics/experts", team=team, k=3).json()
    assert body["experts"] and len(body["experts"]) <= 3 and all(e["team"] == team for e in body["experts"])
    bad = _get(api, "/v1/analytics/experts", k=0)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
