"""Nobody sees what their role and groups do not allow (issue 13, findings 7, 9, 12, 13, 14): one leak
test per surface, over HTTP with real non-admin keys, each beside a caller that may see the thing, so
the test would fail if the thing were absent for everyone.

The module mines the sample (value tiers, churn, recommendations, mined segments), adds one public
case raised by the confidential customer, and reindexes; it undoes all three afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from kcrm import workflows
from kcrm.alerts.notify import notify_mined_warnings
from kcrm.alerts.store import AlertStore
from kcrm.kg.field_access import MINED_CUSTOMER_FIELDS
from kcrm.kg.mining.pipeline import MiningConfig, run_mining
from kcrm.kg.mining.writeback import remove_stale
from kcrm.ontology.model import load_ontology

pytestmark = pytest.mark.e2e

SOURCE = "leaktest"
INGEST_SOURCE = "leaktest-ingest"
CLEANUP = "MATCH (n) WHERE n.source IN $sources CALL (n) { DETACH DELETE n } RETURN count(*) AS n"
WORD = "quixotryzzle"


def client(api_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


@pytest.fixture(scope="module")
def keys(api_url: str, make_key) -> Iterator[dict[str, httpx.Client]]:
    made = {"agent": make_key(roles=("agent",), name="leak-agent"),
            "analyst": make_key(roles=("analyst",), name="leak-analyst"),
            "team_analyst": make_key(roles=("analyst", "agent"), groups=("key-accounts",), name="leak-team"),
            "app": make_key(roles=("app",), name="leak-app"),
            "other_app": make_key(roles=("app",), name="leak-app-2")}
    clients = {name: client(api_url, key) for name, key in made.items()}
    yield clients
    for c in clients.values():
        c.close()


@pytest.fixture(scope="module")
def world(loaded, graph, e2e_settings, confidential) -> Iterator[dict]:
    """Mined, plus a public case of the confidential customer, reindexed; all undone afterwards."""
    employee = graph.read("MATCH (e:Employee) WHERE e.accessGroups IS NULL RETURN e.uid AS uid ORDER BY uid LIMIT 1")
    try:
        graph.write("CREATE (k:SupportCase {uid: 'LEAK-CASE-1', title: $title, description: $text, language: 'en', "
                    "status: 'resolved', openedAt: '2026-01-05T09:00:00+00:00', source: $source, "
                    "updatedAt: '2026-01-05T09:00:00+00:00'}) "
                    "WITH k MATCH (c:Customer {uid: $customer}) CREATE (c)-[:RAISED]->(k) "
                    "WITH k MATCH (e:Employee {uid: $employee}) CREATE (k)-[:RESOLVED_BY]->(e)",
                    title=f"{WORD} invoice dispute", text=f"The {WORD} invoice was charged twice.", source=SOURCE,
                    customer=confidential["uid"], employee=employee[0]["uid"])
        run_mining(graph, load_ontology(), MiningConfig())
        workflows.reindex(e2e_settings, graph)
        yield {"case": "LEAK-CASE-1"}
    finally:
        graph.write(CLEANUP, sources=[SOURCE, INGEST_SOURCE])
        remove_stale(graph, load_ontology())
        workflows.reindex(e2e_settings, graph)


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def mined_customer(graph) -> dict:
    return graph.read("MATCH (c:Customer)-[r:RECOMMENDED]->(p:Product) WHERE c.accessGroups IS NULL "
                      "AND c.valueTier IS NOT NULL AND p.accessGroups IS NULL "
                      "AND NOT (c)-[:PURCHASED]->(p) AND NOT (c)-[:PLACED]->()-[:CONTAINS]->(p) "
                      "RETURN c.uid AS uid, p.uid AS product ORDER BY c.uid LIMIT 1")[0]


def test_customer_360_profile_and_mined_segment(world, keys, graph) -> None:
    uid = mined_customer(graph)["uid"]
    agent = ok(keys["agent"].get(f"/v1/customers/{uid}/360"))
    analyst = ok(keys["analyst"].get(f"/v1/customers/{uid}/360"))
    assert analyst["profile"]["valueTier"] and analyst["mined_segment"]
    assert not MINED_CUSTOMER_FIELDS & agent["profile"].keys() and agent["mined_segment"] is None
    assert agent["profile"]["name"] == analyst["profile"]["name"]


def test_entities_and_paths(world, keys, graph) -> None:
    found = mined_customer(graph)
    uid, product = found["uid"], found["product"]
    agent, analyst = ok(keys["agent"].get(f"/v1/entities/{uid}")), ok(keys["analyst"].get(f"/v1/entities/{uid}"))
    assert "churnRisk" in analyst["properties"] and not MINED_CUSTOMER_FIELDS & agent["properties"].keys()
    assert "RECOMMENDED" in {g["type"] for g in analyst["groups"]}
    assert "RECOMMENDED" not in {g["type"] for g in agent["groups"]}
    agent_segments = [i["uid"] for g in agent["groups"] if g["type"] == "IN_SEGMENT" for i in g["items"]]
    assert not [s for s in agent_segments if s.startswith("SEG-MINED-")]
    assert ok(keys["agent"].get(f"/v1/entities/{uid}", params={"type": "RECOMMENDED"}))["groups"] == []
    segment = graph.read("MATCH (s:Segment) WHERE s.uid STARTS WITH 'SEG-MINED-' RETURN s.uid AS uid LIMIT 1")[0]["uid"]
    assert keys["agent"].get(f"/v1/entities/{segment}").status_code == 404
    assert keys["analyst"].get(f"/v1/entities/{segment}").status_code == 200
    direct = {"from": uid, "to": product, "max_hops": 1}
    assert ok(keys["analyst"].get("/v1/paths", params=direct))["count"] >= 1  # the recommendation itself
    assert ok(keys["agent"].get("/v1/paths", params=direct))["count"] == 0
    assert keys["agent"].get("/v1/paths", params={"from": uid, "to": segment}).status_code == 404


def test_search_hits_facts_facets_and_filters(world, keys) -> None:
    browse = {"q": "type:case", "k": 50, "facets": "true"}
    agent, analyst = ok(keys["agent"].get("/v1/search", params=browse)), ok(keys["analyst"].get("/v1/search", params=browse))
    assert analyst["facets"]["tier"] and any("customerTier" in h["facts"] for h in analyst["hits"])
    assert "tier" not in agent["facets"] and "churn_risk" not in agent["facets"]
    for hit in agent["hits"]:
        assert not {"customerTier", "customerChurnRisk"} & hit["facts"].keys()
        assert not {"tier", "churn_risk"} & hit["meta"].keys()
    tier = next(iter(analyst["facets"]["tier"]))
    for params in ({"q": "refund", "tier": tier}, {"q": f"refund tier:{tier}"}, {"q": "refund", "churn_risk": "high"}):
        refused = keys["agent"].get("/v1/search", params=params)
        assert refused.status_code == 403 and "analyst" in refused.json()["detail"], refused.text
        assert keys["analyst"].get("/v1/search", params=params).status_code == 200


def test_a_visible_case_does_not_name_its_restricted_customer(world, keys, api, confidential) -> None:
    for caller in (keys["agent"], keys["team_analyst"], api):  # the fact is left off for everyone
        body = ok(caller.get("/v1/search", params={"q": WORD, "k": 10, "facets": "true", "mode": "lexical"}))
        hit = next(h for h in body["hits"] if h["uid"] == world["case"])
        assert hit["facts"].get("resolvedBy")  # a public neighbour's fact is still there
        assert not {"customer", "customerUid"} & hit["facts"].keys()
        assert confidential["name"] not in json.dumps(body, ensure_ascii=False)
        assert confidential["uid"] not in json.dumps(body)
    named = {"q": WORD, "customer": confidential["name"], "mode": "lexical"}
    assert ok(keys["agent"].get("/v1/search", params=named))["total"] == 0


def test_alerts_warnings_are_for_analysts(world, keys, graph, state_settings) -> None:
    refused = keys["agent"].post("/v1/subscriptions", json={"warnings": True})
    assert refused.status_code == 403 and "analyst" in refused.json()["detail"]
    tiered = keys["agent"].post("/v1/subscriptions", json={"query": "refund tier:gold"})
    assert tiered.status_code == 403
    warned = graph.read("MATCH (c:Customer) WHERE c.churnWarning = true AND c.accessGroups IS NULL "
                        "RETURN c.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]
    subs = {name: keys[name].post("/v1/subscriptions", json={"entity": warned}) for name in ("agent", "analyst")}
    assert all(s.status_code == 201 for s in subs.values()), {k: s.text for k, s in subs.items()}
    assert keys["analyst"].post("/v1/subscriptions", json={"warnings": True}).status_code == 201
    store = AlertStore(state_settings)
    store.raised_warnings({})  # forget what earlier runs raised: every current warning is new again
    notify_mined_warnings(store, graph)
    feeds = {name: ok(keys[name].get("/v1/alerts", params={"limit": 200}))["notifications"]
             for name in ("agent", "analyst")}
    assert any(n["kind"] == "churn_warning" and n["item_uid"] == warned for n in feeds["analyst"])
    assert not [n for n in feeds["agent"] if n["kind"] in ("churn_warning", "deviation")]


def test_campaign_targets_leave_out_hidden_customers(world, keys, api, graph, confidential) -> None:
    campaign = graph.read("MATCH (k:Campaign) WHERE k.promotion IS NOT NULL AND k.launchedAt IS NOT NULL "
                          "RETURN k.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]
    params = {"limit": 1000}
    outsider = ok(keys["analyst"].get(f"/v1/campaigns/{campaign}/targets", params=params))
    insider = ok(api.get(f"/v1/campaigns/{campaign}/targets", params=params))
    assert confidential["uid"] in {i["customer"] for i in insider["items"]}
    assert confidential["uid"] not in {i["customer"] for i in outsider["items"]}
    assert confidential["name"] not in json.dumps(outsider, ensure_ascii=False)
    assert sum(insider["counts"].values()) - sum(outsider["counts"].values()) == len(graph.read(
        "MATCH (c:Customer) WHERE c.accessGroups IS NOT NULL AND size(c.accessGroups) > 0 "
        "AND NOT 'public' IN c.accessGroups RETURN c.uid"))


def test_public_readyz_tells_nothing_internal(keys, api, api_url, e2e_settings) -> None:
    public = httpx.get(f"{api_url}/readyz", timeout=10)
    assert public.status_code == 200
    body = public.json()
    assert body == {"status": "ready", "checks": {name: {"ok": True} for name in ("neo4j", "index", "auth")}}
    detail = ok(api.get("/v1/admin/readiness"))
    assert "bolt://" in detail["checks"]["neo4j"]["detail"] and "items" in detail["checks"]["index"]["detail"]
    assert keys["agent"].get("/v1/admin/readiness").status_code == 403


def wait_for(caller: httpx.Client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = ok(caller.get(f"/v1/ingest/{job_id}", timeout=10))
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_ingest_respects_groups(world, keys, api, graph, confidential) -> None:
    before = graph.read("MATCH (c:Customer {uid: $uid}) RETURN properties(c) AS p", uid=confidential["uid"])[0]["p"]
    rows = [
        {"type": "Customer", "uid": confidential["uid"], "props": {"name": "Overwritten Ltd", "accessGroups": ["public"]}},
        {"type": "Customer", "uid": "LEAKI-C1", "props": {"name": "Sneaky Ltd", "accessGroups": ["key-accounts"]}},
        {"type": "SupportCase", "uid": "LEAKI-K1",
         "props": {"title": "Planted case", "description": "x", "language": "en", "status": "open",
                   "openedAt": "2026-01-05T09:00:00+00:00"},
         "rels": [{"type": "RAISED", "from": confidential["uid"], "from_type": "Customer"}]},
        {"type": "Customer", "uid": "LEAKI-C2", "props": {"name": confidential["name"], "email": confidential["email"],
                                                          "country": confidential["country"]}},
    ]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    started = keys["app"].post("/v1/ingest", files=[("files", ("leak.jsonl", text.encode(), "application/json"))],
                               data={"source": INGEST_SOURCE}, timeout=30)
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    job = wait_for(keys["app"], job_id)
    assert job["status"] == "succeeded", job.get("error") or job
    refused = {(p["uid"], p["field"]) for p in job["rejected"]}
    assert (confidential["uid"], "uid") in refused and ("LEAKI-C1", "props.accessGroups") in refused
    assert "LEAKI-K1" in {p["uid"] for p in job["rejected"]}  # its customer is, for this key, absent
    assert "merged" not in job["summary"]  # LEAKI-C2 matches the confidential customer, who is hidden from this key
    after = graph.read("MATCH (c:Customer {uid: $uid}) RETURN properties(c) AS p", uid=confidential["uid"])[0]["p"]
    assert after == before  # neither overwritten nor merged into
    assert not graph.read("MATCH (n) WHERE n.uid IN ['LEAKI-C1', 'LEAKI-K1'] RETURN n.uid")
    assert graph.read("MATCH (c:Customer {uid: 'LEAKI-C2'}) RETURN c.uid")  # a new customer of its own
    assert keys["other_app"].get(f"/v1/ingest/{job_id}").status_code == 404  # only its own jobs' reports
    assert ok(api.get(f"/v1/ingest/{job_id}"))["job_id"] == job_id  # and admins
