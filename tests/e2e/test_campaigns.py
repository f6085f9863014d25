"""Campaign sanity against the real Neo4j with the sample loaded and mined: decisions, write-back, HTTP.

Exclusions and reviews are checked against what Cypher finds independently in the RECEIVED edges.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kcrm.kg.mining.campaign_graph import remove_targets, target_campaign
from kcrm.kg.mining.campaigns import EXCLUDE, REVIEW, TARGET, TargetingPolicy
from kcrm.kg.mining.pipeline import MiningConfig, run_mining
from kcrm.kg.mining.writeback import SOURCE, remove_stale
from kcrm.ontology.model import load_ontology

pytestmark = pytest.mark.e2e
PLANNED = "CMP-0010"  # supplies-bundle, launched 2026-11-16; CMP-0008 sent the same promotion on 2026-08-24

RECENT_SAME_PROMOTION = """
MATCH (k:Campaign {uid: $uid})
MATCH (c:Customer)-[r:RECEIVED]->(o:Campaign)
WHERE o.uid <> k.uid AND o.promotion = k.promotion AND datetime(r.sentAt) < datetime(k.launchedAt)
  AND datetime(r.sentAt) >= datetime(k.launchedAt) - duration({days: $days})
RETURN collect(DISTINCT c.uid) AS uids
"""
RESPONSE_HISTORY = """
MATCH (k:Campaign {uid: $uid})
MATCH (c:Customer)-[r:RECEIVED]->(o:Campaign) WHERE o.uid <> k.uid AND datetime(r.sentAt) < datetime(k.launchedAt)
RETURN c.uid AS uid, c.valueTier AS tier, count(r) AS received, sum(CASE WHEN r.responded THEN 1 ELSE 0 END) AS responded
"""


@pytest.fixture(scope="module")
def mined(loaded, graph):
    """Value tiers mined once for this module; mined facts and TARGETS removed afterwards."""
    run_mining(graph, load_ontology(), MiningConfig())
    yield
    remove_targets(graph, load_ontology())
    remove_stale(graph, load_ontology())


def test_recent_receivers_of_the_same_promotion_are_excluded(mined, graph) -> None:
    result = target_campaign(graph, load_ontology(), PLANNED, TargetingPolicy(recent_days=90))
    recent = set(graph.read(RECENT_SAME_PROMOTION, uid=PLANNED, days=90)[0]["uids"])
    customers = graph.read("MATCH (c:Customer) RETURN count(c) AS n")[0]["n"]
    assert len(result.decisions) == customers and len(recent) > 50
    by_reason = {d.customer for d in result.decisions if d.decision == EXCLUDE and "same promotion" in d.reason}
    assert by_reason == recent
    assert all("CMP-0008" in d.reason for d in result.decisions if d.customer in recent)
    assert not any(d.decision == TARGET for d in result.decisions if d.customer in recent)


def test_valuable_low_responders_are_flagged_not_dropped(mined, graph) -> None:
    policy = TargetingPolicy(recent_days=90, min_received=3, low_response_rate=0.1)
    result = {d.customer: d for d in target_campaign(graph, load_ontology(), PLANNED, policy).decisions}
    recent = set(graph.read(RECENT_SAME_PROMOTION, uid=PLANNED, days=90)[0]["uids"])
    low = {r["uid"]: r for r in graph.read(RESPONSE_HISTORY, uid=PLANNED)
           if r["received"] >= 3 and r["responded"] / r["received"] < 0.1 and r["uid"] not in recent}
    valuable = {u for u, r in low.items() if r["tier"] in ("platinum", "gold")}
    assert valuable and len(low) > len(valuable)
    assert {u for u, d in result.items() if d.decision == REVIEW} == valuable
    for uid in valuable:
        assert result[uid].tier in result[uid].reason and "flagged" in result[uid].reason
    for uid in set(low) - valuable:
        assert result[uid].decision == EXCLUDE and result[uid].reason.startswith("low response")


def test_the_targets_endpoint_agrees_and_takes_the_window_as_a_parameter(mined, graph, api) -> None:
    body = api.get(f"/v1/campaigns/{PLANNED}/targets", params={"limit": 1000}).json()
    direct = target_campaign(graph, load_ontology(), PLANNED, TargetingPolicy())
    assert body["campaign"]["promotion"] == "supplies-bundle" and body["policy"]["recentDays"] == 90
    assert body["counts"] == direct.counts and body["total"] == len(direct.decisions)
    assert [(i["customer"], i["decision"], i["reason"]) for i in body["items"]] == [
        (d.customer, d.decision, d.reason) for d in direct.decisions]
    reviews = api.get(f"/v1/campaigns/{PLANNED}/targets", params={"decision": "review"}).json()
    assert reviews["total"] == body["counts"]["review"] > 0
    assert {i["decision"] for i in reviews["items"]} == {"review"} and all(i["tier"] for i in reviews["items"])
    narrow = api.get(f"/v1/campaigns/{PLANNED}/targets", params={"recent_days": 60, "limit": 1000}).json()
    assert not any("same promotion" in i["reason"] for i in narrow["items"])  # CMP-0008 went out 84 days before
    assert narrow["counts"]["target"] > body["counts"]["target"]
    page = api.get(f"/v1/campaigns/{PLANNED}/targets", params={"offset": 5, "limit": 5}).json()
    assert [i["customer"] for i in page["items"]] == [i["customer"] for i in body["items"][5:10]]


def test_targets_problems_name_what_is_wrong(mined, api) -> None:
    missing = api.get("/v1/campaigns/CMP-NOPE/targets")
    assert missing.status_code == 404 and "CMP-NOPE" in missing.json()["detail"]
    assert missing.headers["content-type"].startswith("application/problem+json")
    bad = api.get(f"/v1/campaigns/{PLANNED}/targets", params={"valuable_tiers": "diamond"})
    assert bad.status_code == 422 and "diamond" in bad.json()["detail"]
    assert api.get(f"/v1/campaigns/{PLANNED}/targets", params={"recent_days": -1}).status_code == 422


def test_kcrm_mine_campaign_writes_targets_with_provenance_idempotently(mined, graph, e2e_settings,
                                                                       neo4j_uri: str, tmp_path: Path) -> None:
    env = dict(os.environ, KCRM_DATA_DIR=str(e2e_settings.data_dir), NEO4J_URI=neo4j_uri,
               NEO4J_PASSWORD=e2e_settings.neo4j_password, KCRM_CAMPAIGN_RECENT_DAYS="120")
    count = ("MATCH (:Campaign {uid: $uid})-[t:TARGETS]->(c:Customer) "
             "RETURN t.decision AS decision, count(*) AS n, collect(DISTINCT t.computedAt) AS stamps, "
             "collect(DISTINCT t.source) AS sources")
    runs = []
    for _ in range(2):
        out = tmp_path / "campaign.json"
        done = subprocess.run([sys.executable, "-m", "kcrm.cli", "mine", "campaign", PLANNED, "--json", str(out)],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(json.loads(out.read_text(encoding="utf-8")))
        rows = {r["decision"]: r for r in graph.read(count, uid=PLANNED)}
        assert {d: r["n"] for d, r in rows.items()} == {d: n for d, n in runs[-1]["counts"].items() if n}
        assert all(r["sources"] == [SOURCE] and len(r["stamps"]) == 1 for r in rows.values())
    assert runs[0]["policy"]["recentDays"] == 120 and runs[1]["counts"] == runs[0]["counts"]
    assert runs[1]["written"]["removed_targets"] == 0
    edge = graph.read("MATCH (:Campaign {uid: $uid})-[t:TARGETS {decision: 'review'}]->(c) "
                      "RETURN c.uid AS c, t.reason AS reason LIMIT 1", uid=PLANNED)[0]
    assert edge["reason"] == next(d["reason"] for d in runs[1]["decisions"] if d["customer"] == edge["c"])
    done = subprocess.run([sys.executable, "-m", "kcrm.cli", "mine", "campaign", "CMP-NOPE", "--dry-run"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "CMP-NOPE" in done.stderr
