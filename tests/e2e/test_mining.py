"""`kcrm mine` against the real Neo4j with the sample loaded: facts, provenance, idempotency, API.

The mined facts are checked against what Cypher counts independently (orders, recency, purchases).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from kcrm.kg.mining.pipeline import MiningConfig, MiningResult, run_mining
from kcrm.kg.mining.writeback import CUSTOMER_PROPERTIES, SOURCE, remove_stale
from kcrm.ontology.model import load_ontology

pytestmark = pytest.mark.e2e

COUNT_MINED = """
MATCH (c:Customer) WHERE c.computedBy = $source WITH count(c) AS customers
OPTIONAL MATCH ()-[r:RECOMMENDED {source: $source}]->() WITH customers, count(r) AS recommendations
OPTIONAL MATCH ()-[m:IN_SEGMENT {source: $source}]->() WITH customers, recommendations, count(m) AS members
OPTIONAL MATCH (s:Segment {source: $source})
RETURN customers, recommendations, members, count(s) AS segments
"""


@pytest.fixture(scope="module")
def mined(loaded, graph):
    """The sample mined once for this module; every mined fact removed afterwards."""
    result = run_mining(graph, load_ontology(), MiningConfig())
    yield result
    remove_stale(graph, load_ontology())


def test_every_customer_with_orders_gets_value_and_churn_facts_with_provenance(mined: MiningResult, graph) -> None:
    rows = graph.read(
        "MATCH (c:Customer) OPTIONAL MATCH (c)-[:PLACED]->(t:Transaction) "
        "WITH c, count(t) AS orders, max(t.orderedAt) AS last RETURN c {.*} AS c, orders, last")
    with_orders = [r for r in rows if r["orders"]]
    assert len(with_orders) == len(mined.values) > 250
    stamps = {r["c"]["computedAt"] for r in with_orders}
    assert len(stamps) == 1 and datetime.fromisoformat(stamps.pop())
    for row in with_orders:
        c = row["c"]
        assert c["computedBy"] == SOURCE and c["source"] != SOURCE and c["sourceRecord"] and c["ingestedAt"]
        assert c["orderCount"] == row["orders"]  # counted here by Cypher, independently of the miner
        assert c["recencyDays"] == (mined.as_of - datetime.fromisoformat(row["last"])).days
        assert c["valueTier"] in {"platinum", "gold", "silver", "bronze"}
        assert c["rfmScore"] == c["recencyScore"] + c["frequencyScore"] + c["monetaryScore"]
        assert c["churnRiskLevel"] in {"high", "medium", "low"} and c["churnReason"]
        assert isinstance(c["loyal"], bool)
        if c["recencyDays"] > 365:  # lapsed: the model does not cover them, the rules call it
            assert "churnRisk" not in c and c["churnReason"].startswith("lapsed: no order for")
        else:
            assert 0 <= c["churnRisk"] <= 1
    tiers = {t: sum(r["c"]["valueTier"] == t for r in with_orders) for t in ("platinum", "bronze")}
    assert all(n > 10 for n in tiers.values()), tiers
    flagged = [r["c"] for r in with_orders if r["c"]["deviationFlagged"]]
    assert 0 < len(flagged) < len(with_orders) / 2 and all(c["deviationReason"] for c in flagged)
    assert all("deviationReason" not in r["c"] for r in with_orders if not r["c"]["deviationFlagged"])
    lapsed = [r["c"] for r in with_orders if r["c"]["recencyDays"] > 365]
    assert lapsed and all(c["churnRiskLevel"] == "high" for c in lapsed)


def test_recommendations_are_products_the_customer_has_not_bought(mined: MiningResult, graph) -> None:
    rows = graph.read(
        "MATCH (c:Customer)-[r:RECOMMENDED]->(p:Product) "
        "RETURN c.uid AS c, p.uid AS p, r {.*} AS r, exists((c)-[:PURCHASED]->(p)) AS owned")
    assert len(rows) == sum(len(v) for v in mined.recommendations.values()) > 300
    assert not any(row["owned"] for row in rows)
    for row in rows:
        r = row["r"]
        assert r["source"] == SOURCE and r["computedAt"] and 0 < r["score"] <= 1 and r["lift"] > 1
        assert r["reason"].endswith(f"(lift {r['lift']:.2f})") and "also bought" in r["reason"]


def test_mined_segments_are_nodes_with_provenance_and_cover_every_valued_customer(mined: MiningResult,
                                                                                  graph) -> None:
    segments = graph.read(
        "MATCH (s:Segment {source: $source}) OPTIONAL MATCH (c:Customer)-[m:IN_SEGMENT {source: $source}]->(s) "
        "RETURN s {.*} AS s, count(c) AS members ORDER BY s.uid", source=SOURCE)
    assert 3 <= len(segments) <= 6
    for row in segments:
        s = row["s"]
        assert s["uid"].startswith("SEG-MINED-") and s["memberCount"] == row["members"] > 0
        assert s["name"] and s["nameZh"] and s["description"].startswith(f"{row['members']} customers")
        assert s["sourceRecord"] and s["ingestedAt"] and s["computedAt"]
    per_customer = graph.read("MATCH (c:Customer)-[m:IN_SEGMENT {source: $source}]->() "
                              "RETURN c.uid AS c, count(m) AS n", source=SOURCE)
    assert len(per_customer) == len(mined.values) and {r["n"] for r in per_customer} == {1}
    declared = graph.read("MATCH (c:Customer)-[m:IN_SEGMENT]->(s:Segment) WHERE s.source <> $source "
                          "RETURN count(m) AS n", source=SOURCE)[0]["n"]
    customers = graph.read("MATCH (c:Customer) RETURN count(c) AS n")[0]["n"]
    assert declared == customers  # the sample's own segment of each customer is untouched


def test_kcrm_mine_again_is_idempotent_and_removes_stale_facts(mined: MiningResult, graph, e2e_settings,
                                                                neo4j_uri: str, tmp_path: Path) -> None:
    before = graph.read(COUNT_MINED, source=SOURCE)[0]
    recs_before = {(r["c"], r["p"]) for r in graph.read(
        "MATCH (c:Customer)-[:RECOMMENDED]->(p:Product) RETURN c.uid AS c, p.uid AS p")}
    graph.write("MATCH (c:Customer {uid: 'CUS-0001'}), (p:Product) WHERE NOT exists((c)-[:RECOMMENDED]->(p)) "
                "AND NOT exists((c)-[:PURCHASED]->(p)) WITH c, p LIMIT 1 "
                "CREATE (c)-[:RECOMMENDED {source: $source, computedAt: '2000-01-01T00:00:00+00:00', score: 1.0}]->(p)",
                source=SOURCE)
    env = dict(os.environ, KCRM_DATA_DIR=str(e2e_settings.data_dir), NEO4J_URI=neo4j_uri,
               NEO4J_PASSWORD=e2e_settings.neo4j_password)
    out = tmp_path / "mine.json"
    done = subprocess.run([sys.executable, "-m", "kcrm.cli", "mine", "--json", str(out)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(out.read_text(encoding="utf-8"))
    assert summary["written"]["removed_recommendations"] == 1
    assert summary["written"]["removed_segments"] == 0 and summary["written"]["removed_customers"] == 0
    assert graph.read(COUNT_MINED, source=SOURCE)[0] == before
    assert {(r["c"], r["p"]) for r in graph.read(
        "MATCH (c:Customer)-[:RECOMMENDED]->(p:Product) RETURN c.uid AS c, p.uid AS p")} == recs_before
    assert summary["churn_model"]["precision"] == mined.churn.evaluation.precision
    stamps = graph.read("MATCH (c:Customer) WHERE c.computedBy = $source RETURN collect(DISTINCT c.computedAt) AS s",
                        source=SOURCE)[0]["s"]
    assert len(stamps) == 1


def test_insights_over_http(mined: MiningResult, api: httpx.Client, graph) -> None:
    uid = max(mined.recommendations, key=lambda c: mined.values[c].monetary)
    response = api.get(f"/v1/customers/{uid}/insights", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    node = graph.read("MATCH (c:Customer {uid: $uid}) RETURN c {.*} AS c", uid=uid)[0]["c"]
    assert body["uid"] == uid and body["source"] == SOURCE and body["computedAt"] == node["computedAt"]
    assert body["value"]["valueTier"] == node["valueTier"] and body["value"]["rfmScore"] == node["rfmScore"]
    assert body["churn"]["level"] == node["churnRiskLevel"] and body["churn"]["reason"] == node["churnReason"]
    scores = [r["score"] for r in body["recommendations"]]
    assert scores and scores == sorted(scores, reverse=True)
    assert all(r["name"] and r["reason"] for r in body["recommendations"])
    assert next(s["uid"] for s in body["segments"]).startswith("SEG-MINED-")
    assert set(body["value"]) == {p for p in CUSTOMER_PROPERTIES if not p.startswith(("churn", "deviation"))}
    assert body["deviation"]["flagged"] == node["deviationFlagged"]


def test_insights_for_an_unknown_customer_is_a_problem(mined: MiningResult, api: httpx.Client) -> None:
    response = api.get("/v1/customers/CUS-NOPE/insights", timeout=30)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert "CUS-NOPE" in body["detail"] and body["instance"] == "/v1/customers/CUS-NOPE/insights"
    spec = api.get("/openapi.json", timeout=30).json()
    assert "/v1/customers/{uid}/insights" in spec["paths"]


def test_the_360_keeps_the_declared_segment_and_shows_the_mined_one(mined: MiningResult, api: httpx.Client,
                                                                     graph) -> None:
    row = graph.read(
        "MATCH (c:Customer)-[m:IN_SEGMENT {source: $source}]->(s:Segment) WITH c, s ORDER BY c.uid LIMIT 1 "
        "MATCH (c)-[d:IN_SEGMENT]->(declared:Segment) WHERE d.source <> $source "
        "RETURN c.uid AS uid, s.uid AS mined, declared.uid AS declared, c.valueTier AS tier", source=SOURCE)[0]
    response = api.get(f"/v1/customers/{row['uid']}/360", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["segment"]["uid"] == row["declared"]
    assert body["mined_segment"]["uid"] == row["mined"] and body["mined_segment"]["computedAt"]
    assert body["profile"]["valueTier"] == row["tier"]
