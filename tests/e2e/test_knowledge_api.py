"""Knowledge at risk, departure impact, the customer 360's "who knows" and the knowledge map, over HTTP.

A fixture adds a small world beside the sample whose answers are known by construction: topic
kr-solo is held by KR-EMP-1 alone, kr-shared by three people, kr-secret and kr-hidden hold cases and a
document restricted to the group "kr-secret", and KR-EMP-3 is itself restricted. Each surface is
checked exactly for an admin key, and for an analyst (or agent) key without the group the same
surface must neither show nor count what is restricted (the leak tests). Everything is removed after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.e2e

SOURCE = "kr-test"
SECRET = ["kr-secret"]
T = "2026-06-01T10:00:00+00:00"
NODES = [
    ("Topic", "kr-root", {"name": "KR root", "nameZh": "知识根"}),
    ("Topic", "kr-solo", {"name": "KR solo", "nameZh": "独家"}),
    ("Topic", "kr-shared", {"name": "KR shared", "nameZh": "共享"}),
    ("Topic", "kr-secret", {"name": "KR secret", "nameZh": "机密"}),
    ("Topic", "kr-hidden", {"name": "KR hidden", "nameZh": "隐藏"}),
    ("Topic", "kr-old", {"name": "KR old", "nameZh": "陈旧"}),
    ("Employee", "KR-EMP-1", {"name": "Kay One", "team": "KR"}),
    ("Employee", "KR-EMP-2", {"name": "Kay Two", "team": "KR"}),
    ("Employee", "KR-EMP-3", {"name": "Kay Three", "team": "KR", "accessGroups": SECRET}),
    ("Product", "KR-PRD-1", {"name": "KR Widget"}),
    ("Customer", "KR-CUS-1", {"name": "KR Solo Ltd"}),
    ("Customer", "KR-CUS-2", {"name": "KR Mixed Ltd"}),
    ("SupportCase", "KR-CASE-1", {"status": "resolved", "closedAt": "2026-05-01T10:00:00+00:00"}),
    ("SupportCase", "KR-CASE-2", {"status": "closed", "closedAt": "2026-05-02T10:00:00+00:00"}),
    ("SupportCase", "KR-CASE-3", {"status": "resolved", "closedAt": "2026-05-03T10:00:00+00:00"}),
    ("SupportCase", "KR-CASE-4", {"status": "resolved", "closedAt": "2026-05-04T10:00:00+00:00"}),
    ("SupportCase", "KR-CASE-5", {"status": "resolved", "closedAt": "2026-05-05T10:00:00+00:00"}),
    ("SupportCase", "KR-CASE-6", {"status": "resolved", "closedAt": "2026-05-06T10:00:00+00:00", "accessGroups": SECRET}),
    ("SupportCase", "KR-CASE-7", {"status": "resolved", "closedAt": "2026-05-07T10:00:00+00:00"}),
    ("SupportCase", "KR-CASE-8", {"status": "open"}),
    ("SupportCase", "KR-CASE-9", {"status": "resolved", "closedAt": "2026-05-09T10:00:00+00:00", "accessGroups": SECRET}),
    ("SupportCase", "KR-CASE-10", {"status": "resolved", "closedAt": "2026-05-10T10:00:00+00:00"}),
    ("SupportCase", "KR-CASE-11", {"status": "resolved", "closedAt": "2020-01-11T10:00:00+00:00"}),
    ("Document", "KR-DOC-1", {"docType": "kb-article", "publishedAt": "2026-01-01"}),
    ("Document", "KR-DOC-R", {"docType": "release-notes", "publishedAt": "2026-04-01"}),
    ("Document", "KR-DOC-S", {"docType": "kb-article", "publishedAt": "2026-02-01", "accessGroups": SECRET}),
]
RELS = [(f"kr-{t}", "BROADER", "kr-root") for t in ("solo", "shared", "secret", "hidden", "old")] + [
    ("KR-CASE-1", "HAS_TOPIC", "kr-solo"), ("KR-CASE-1", "RESOLVED_BY", "KR-EMP-1"), ("KR-CUS-1", "RAISED", "KR-CASE-1"),
    ("KR-CASE-2", "HAS_TOPIC", "kr-solo"), ("KR-CASE-2", "RESOLVED_BY", "KR-EMP-1"), ("KR-CUS-1", "RAISED", "KR-CASE-2"),
    ("KR-EMP-1", "AUTHORED", "KR-DOC-1"), ("KR-DOC-1", "HAS_TOPIC", "kr-solo"), ("KR-DOC-1", "ABOUT_PRODUCT", "KR-PRD-1"),
    ("KR-EMP-1", "AUTHORED", "KR-DOC-R"), ("KR-DOC-R", "HAS_TOPIC", "kr-solo"), ("KR-DOC-R", "ABOUT_PRODUCT", "KR-PRD-1"),
    ("KR-EMP-1", "OWNS", "KR-CUS-1"),
    ("KR-CASE-8", "HAS_TOPIC", "kr-solo"), ("KR-CASE-8", "RESOLVED_BY", "KR-EMP-2"),  # open: not evidence
    ("KR-CASE-3", "HAS_TOPIC", "kr-shared"), ("KR-CASE-3", "RESOLVED_BY", "KR-EMP-1"),
    ("KR-CASE-4", "HAS_TOPIC", "kr-shared"), ("KR-CASE-4", "RESOLVED_BY", "KR-EMP-2"),
    ("KR-CASE-5", "HAS_TOPIC", "kr-shared"), ("KR-CASE-5", "RESOLVED_BY", "KR-EMP-2"),
    ("KR-CASE-10", "HAS_TOPIC", "kr-shared"), ("KR-CASE-10", "RESOLVED_BY", "KR-EMP-3"),
    ("KR-CASE-6", "HAS_TOPIC", "kr-secret"), ("KR-CASE-6", "RESOLVED_BY", "KR-EMP-2"), ("KR-CUS-2", "RAISED", "KR-CASE-6"),
    ("KR-CASE-7", "HAS_TOPIC", "kr-secret"), ("KR-CASE-7", "RESOLVED_BY", "KR-EMP-1"), ("KR-CUS-2", "RAISED", "KR-CASE-7"),
    ("KR-EMP-2", "AUTHORED", "KR-DOC-S"), ("KR-DOC-S", "HAS_TOPIC", "kr-secret"),
    ("KR-CASE-9", "HAS_TOPIC", "kr-hidden"), ("KR-CASE-9", "RESOLVED_BY", "KR-EMP-2"),
    ("KR-CASE-11", "HAS_TOPIC", "kr-old"), ("KR-CASE-11", "RESOLVED_BY", "KR-EMP-1"),
]
RESTRICTED = ("KR-CASE-6", "KR-CASE-9", "KR-DOC-S", "KR-EMP-3")

# Independent of kcrm.kg.knowledge_risk: topics (rolled up over narrower ones) whose resolved cases
# and documents all belong to one employee.
SINGLE_TOPICS = """
MATCH (t:Topic)
CALL (t) {
  MATCH (c:SupportCase)-[:HAS_TOPIC]->(:Topic)-[:BROADER*0..6]->(t) WHERE c.status IN ['resolved', 'closed']
  MATCH (c)-[:RESOLVED_BY]->(e:Employee) RETURN e.uid AS e
  UNION
  MATCH (e:Employee)-[:AUTHORED]->(:Document)-[:HAS_TOPIC]->(:Topic)-[:BROADER*0..6]->(t) RETURN e.uid AS e
}
WITH t, collect(DISTINCT e) AS people WHERE size(people) = 1
RETURN t.uid AS uid
"""


@pytest.fixture(scope="module")
def world(loaded, graph) -> Iterator[None]:
    try:
        for label in sorted({n[0] for n in NODES}):  # labels and types are this file's constants, values are params
            graph.write(f"UNWIND $props AS p CREATE (n:{label}) SET n = p",
                        props=[{**props, "uid": uid, "source": SOURCE, "updatedAt": T, "title": f"{uid} title"}
                               for lb, uid, props in NODES if lb == label])
        for rel in sorted({r[1] for r in RELS}):
            graph.write(f"UNWIND $pairs AS r MATCH (a {{uid: r[0], source: $source}}), (b {{uid: r[1], source: $source}}) "
                        f"CREATE (a)-[:{rel}]->(b)", pairs=[[a, b] for a, t, b in RELS if t == rel], source=SOURCE)
        yield
    finally:
        graph.write("MATCH (n {source: $source}) DETACH DELETE n", source=SOURCE)


@pytest.fixture(scope="module")
def keys(api_url: str, make_key) -> Iterator[dict[str, httpx.Client]]:
    made = {"analyst": make_key(roles=("analyst",), name="kr-analyst"),
            "secret_analyst": make_key(roles=("analyst",), groups=SECRET, name="kr-secret-analyst"),
            "agent": make_key(roles=("agent",), name="kr-agent")}
    clients = {n: httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {k}"}, timeout=120)
               for n, k in made.items()}
    yield clients
    for c in clients.values():
        c.close()


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def risk(client: httpx.Client, **params) -> dict:
    return ok(client.get("/v1/analytics/knowledge-risk", params={"k": 1000, **params}))


def subject(body: dict, uid: str) -> dict | None:
    return next((s for s in body["items"] if s["uid"] == uid), None)


def test_single_expert_topics_are_exactly_the_known_ones(api: httpx.Client, graph, world) -> None:
    body = risk(api, kind="topic")
    assert set(body["single_expert"]["topic"]) == {"kr-solo", "kr-old", "kr-hidden"}
    assert set(body["single_expert"]["topic"]) == {r["uid"] for r in graph.read(SINGLE_TOPICS)}
    assert [s["uid"] for s in body["items"] if s["single_expert"]] == sorted(
        body["single_expert"]["topic"], key=lambda u: -subject(body, u)["evidence"])
    solo = subject(body, "kr-solo")
    assert (solo["evidence"], solo["holders"], solo["top_share"]) == (4, 1, 1.0)  # 2 cases + 2 documents
    assert [p["uid"] for p in solo["people"]] == ["KR-EMP-1"]
    assert {e["uid"] for e in solo["people"][0]["evidence"]} <= {"KR-CASE-1", "KR-CASE-2", "KR-DOC-1", "KR-DOC-R"}
    shared = subject(body, "kr-shared")
    assert (shared["evidence"], shared["holders"], shared["top_share"]) == (4, 3, 0.5)
    assert [(p["uid"], p["items"]) for p in shared["people"]] == [("KR-EMP-2", 2), ("KR-EMP-1", 1), ("KR-EMP-3", 1)]
    root = subject(body, "kr-root")
    assert (root["evidence"], root["holders"]) == (13, 3)
    only = risk(api, kind="topic", single_only=True)
    assert {s["uid"] for s in only["items"]} == {"kr-solo", "kr-old", "kr-hidden"}


def test_products_and_customers_and_bad_parameters(api: httpx.Client, world) -> None:
    body = risk(api, kind=["product", "customer"])
    assert "KR-PRD-1" in body["single_expert"]["product"] and "KR-CUS-1" in body["single_expert"]["customer"]
    customer = subject(body, "KR-CUS-1")
    assert customer["evidence"] == 3 and {e["type"] for e in customer["people"][0]["evidence"]} == {"SupportCase", "OWNS"}
    assert "KR-CUS-2" not in body["single_expert"]["customer"]
    bad = api.get("/v1/analytics/knowledge-risk", params={"kind": "planet"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def test_departure_impact_names_sole_subjects_and_next_best(api: httpx.Client, world) -> None:
    body = ok(api.get("/v1/employees/KR-EMP-1/departure-impact"))
    sole = {(i["subject"]["kind"], i["subject"]["uid"]) for i in body["sole"]}
    assert {("topic", "kr-solo"), ("topic", "kr-old"), ("customer", "KR-CUS-1"), ("product", "KR-PRD-1")} == sole
    assert body["holds"]["topic"] >= 5 and body["employee"]["name"] == "Kay One"
    solo = next(i for i in body["sole"] if i["subject"]["uid"] == "kr-solo")
    experts = ok(api.get("/v1/experts", params={"topic": "kr-solo", "k": 5}))["experts"]
    expected = next(e["uid"] for e in experts if e["uid"] != "KR-EMP-1")
    assert solo["looked_up"] and solo["next_best"]["uid"] == expected
    none = ok(api.get("/v1/employees/KR-EMP-1/departure-impact", params={"next_best": 0}))
    assert all(not i["looked_up"] and i["next_best"] is None for i in none["sole"])
    missing = api.get("/v1/employees/KR-NOBODY/departure-impact")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


def test_customer_360_says_who_knows_the_customer(api: httpx.Client, world) -> None:
    knowledge = ok(api.get("/v1/customers/KR-CUS-1/360"))["knowledge"]
    assert (knowledge["evidence"], knowledge["holders"], knowledge["single_expert"]) == (3, 1, True)
    mixed = ok(api.get("/v1/customers/KR-CUS-2/360"))["knowledge"]
    assert (mixed["evidence"], mixed["holders"], mixed["top_share"]) == (2, 2, 0.5)


def test_knowledge_map_places_documents_cases_people_and_gaps(api: httpx.Client, graph, world) -> None:
    body = ok(api.get("/v1/knowledge-map", params={"root": "kr-root", "as_of": "2026-12-01", "min_cases": 3}))
    (root,) = body["roots"]
    nodes = {c["uid"]: c for c in root["children"]}
    assert body["topics"] == 6 and set(nodes) == {"kr-solo", "kr-shared", "kr-secret", "kr-hidden", "kr-old"}
    assert (root["documents"], root["resolved_cases"], root["people"]) == (3, 10, 3)
    solo = nodes["kr-solo"]
    assert (solo["documents"], solo["resolved_cases"], solo["newest_document"]) == (2, 2, "2026-04-01")
    assert solo["newest_document_age_days"] == 244
    assert [o["uid"] for o in solo["outdated"]] == ["KR-DOC-1"] and solo["outdated"][0]["release"] == "KR-DOC-R"
    assert solo["gaps"] == ["outdated_documents"]
    assert nodes["kr-shared"]["gaps"] == ["cases_without_documents"]
    assert nodes["kr-old"]["gaps"] == ["no_active_expert"] and nodes["kr-old"]["people"] == 1
    assert (nodes["kr-secret"]["documents"], nodes["kr-secret"]["resolved_cases"]) == (1, 2)
    assert body["gap_counts"] == {"cases_without_documents": 1, "outdated_documents": 2, "no_active_expert": 1}
    label = ok(api.get("/v1/knowledge-map", params={"root": "kr-solo"}))["roots"][0]
    assert (label["label_en"], label["label_zh"]) == ("KR solo", "独家")
    missing = api.get("/v1/knowledge-map", params={"root": "kr-nope"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


def test_knowledge_map_counts_agree_with_the_sample_graph(api: httpx.Client, graph, world) -> None:
    body = ok(api.get("/v1/knowledge-map"))
    tops = {r["uid"]: r for r in body["roots"]}
    for uid in ("topic-billing", "topic-technical"):
        expected = graph.read(
            "MATCH (t:Topic {uid: $t}) "
            "CALL (t) { OPTIONAL MATCH (d:Document)-[:HAS_TOPIC]->(:Topic)-[:BROADER*0..6]->(t) "
            "           RETURN count(DISTINCT d) AS docs } "
            "CALL (t) { OPTIONAL MATCH (c:SupportCase)-[:HAS_TOPIC]->(:Topic)-[:BROADER*0..6]->(t) "
            "           WHERE c.status IN ['resolved', 'closed'] RETURN count(DISTINCT c) AS cases } "
            "RETURN docs, cases", t=uid)[0]
        assert (tops[uid]["documents"], tops[uid]["resolved_cases"]) == (expected["docs"], expected["cases"])


# ------------------------------------------------------------------------------------------- leak tests

def test_knowledge_risk_does_not_leak_restricted_evidence(api: httpx.Client, keys, world) -> None:
    admin = risk(api, kind="topic")
    assert subject(admin, "kr-hidden") and subject(admin, "kr-secret")["holders"] == 2
    assert subject(admin, "kr-shared")["holders"] == 3
    cleared = risk(keys["secret_analyst"], kind="topic")
    assert subject(cleared, "kr-secret")["evidence"] == subject(admin, "kr-secret")["evidence"]

    body = risk(keys["analyst"])
    text = json.dumps(body)
    assert not any(uid in text for uid in RESTRICTED), "restricted uids leaked"
    assert subject(body, "kr-hidden") is None
    secret = subject(body, "kr-secret")
    assert (secret["evidence"], secret["holders"], [p["uid"] for p in secret["people"]]) == (1, 1, ["KR-EMP-1"])
    shared = subject(body, "kr-shared")
    assert (shared["evidence"], shared["holders"]) == (3, 2)
    assert subject(body, "kr-root")["evidence"] == 9
    for name in ("agent",):
        refused = keys[name].get("/v1/analytics/knowledge-risk")
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")


def test_departure_impact_does_not_leak(api: httpx.Client, keys, world) -> None:
    admin = ok(api.get("/v1/employees/KR-EMP-2/departure-impact"))
    assert "kr-hidden" in {i["subject"]["uid"] for i in admin["sole"]}
    body = ok(keys["analyst"].get("/v1/employees/KR-EMP-2/departure-impact"))
    assert "kr-hidden" not in {i["subject"]["uid"] for i in body["sole"]}
    assert not any(uid in json.dumps(body) for uid in RESTRICTED)
    assert body["holds"]["topic"] < admin["holds"]["topic"]
    assert ok(api.get("/v1/employees/KR-EMP-3/departure-impact"))["employee"]["uid"] == "KR-EMP-3"
    hidden = keys["analyst"].get("/v1/employees/KR-EMP-3/departure-impact")
    assert hidden.status_code == 404, "a restricted employee must look absent"
    assert keys["agent"].get("/v1/employees/KR-EMP-1/departure-impact").status_code == 403


def test_customer_360_knowledge_does_not_leak(api: httpx.Client, keys, world) -> None:
    assert ok(api.get("/v1/customers/KR-CUS-2/360"))["knowledge"]["holders"] == 2
    knowledge = ok(keys["agent"].get("/v1/customers/KR-CUS-2/360"))["knowledge"]
    assert (knowledge["evidence"], knowledge["holders"]) == (1, 1)
    assert not any(uid in json.dumps(knowledge) for uid in RESTRICTED)


def test_knowledge_map_does_not_leak(api: httpx.Client, keys, world) -> None:
    params = {"root": "kr-root", "as_of": "2026-12-01", "min_cases": 3}
    admin = {c["uid"]: c for c in ok(api.get("/v1/knowledge-map", params=params))["roots"][0]["children"]}
    assert admin["kr-hidden"]["resolved_cases"] == 1 and admin["kr-secret"]["documents"] == 1
    body = ok(keys["agent"].get("/v1/knowledge-map", params=params))
    assert not any(uid in json.dumps(body) for uid in RESTRICTED)
    nodes = {c["uid"]: c for c in body["roots"][0]["children"]}
    assert (nodes["kr-hidden"]["resolved_cases"], nodes["kr-hidden"]["people"]) == (0, 0)
    assert (nodes["kr-secret"]["documents"], nodes["kr-secret"]["resolved_cases"], nodes["kr-secret"]["people"]) == (0, 1, 1)
    # KR-CASE-10 is public (it counts); the one who resolved it is restricted (not a person shown)
    assert (nodes["kr-shared"]["resolved_cases"], nodes["kr-shared"]["people"]) == (4, 2)
    assert body["roots"][0]["resolved_cases"] == 8


def test_sample_key_account_cases_neither_count_nor_show_without_the_group(api_url: str, make_key, graph) -> None:
    """On the sample itself: a public customer whose cases are for the key-account team only."""
    row = graph.read("MATCH (c:Customer)-[:RAISED]->(k:SupportCase)-[:RESOLVED_BY]->(:Employee) "
                     "WHERE c.accessGroups IS NULL AND 'key-accounts' IN k.accessGroups "
                     "AND k.status IN ['resolved', 'closed'] "
                     "RETURN c.uid AS uid, collect(DISTINCT k.uid) AS cases ORDER BY size(cases) DESC, uid LIMIT 1")[0]
    owners = graph.read("MATCH (e:Employee)-[:OWNS]->(:Customer {uid: $uid}) RETURN count(e) AS n", uid=row["uid"])[0]["n"]
    headers = {name: {"Authorization": f"Bearer {make_key(roles=('analyst', 'agent'), groups=groups, name=name)}"}
               for name, groups in (("kr-outsider", ()), ("kr-key-team", ("key-accounts",)))}
    with httpx.Client(base_url=api_url, headers=headers["kr-outsider"], timeout=120) as outsider, \
            httpx.Client(base_url=api_url, headers=headers["kr-key-team"], timeout=120) as team:
        inside = ok(team.get(f"/v1/customers/{row['uid']}/360"))["knowledge"]
        outside = ok(outsider.get(f"/v1/customers/{row['uid']}/360"))["knowledge"]
        assert inside["evidence"] - outside["evidence"] == len(row["cases"])
        assert outside["evidence"] >= owners
        assert not any(uid in json.dumps(outside) for uid in row["cases"])
        risky = ok(outsider.get("/v1/analytics/knowledge-risk", params={"kind": "customer", "k": 1000, "evidence": 20}))
        assert not any(uid in json.dumps(risky) for uid in row["cases"])
        mine = subject(risky, row["uid"])
        assert mine is None or mine["evidence"] == outside["evidence"]
        theirs = subject(ok(team.get("/v1/analytics/knowledge-risk",
                                     params={"kind": "customer", "k": 1000})), row["uid"])
        assert theirs["evidence"] == inside["evidence"]
