"""Result features over HTTP against the real stack: explain, sort by date, spelling tolerance,
graph facts on hits, and the mined customer tier / churn risk as facets and filters."""

from __future__ import annotations

import httpx
import pytest

from kcrm import workflows
from kcrm.kg.mining.pipeline import MiningConfig, run_mining
from kcrm.kg.mining.writeback import remove_stale
from kcrm.ontology.model import load_ontology

pytestmark = pytest.mark.e2e

DATE_KEYS = ("openedAt", "publishedAt", "effectiveFrom")


def search(api: httpx.Client, **params) -> dict:
    response = api.get("/v1/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_explain_says_why_each_hit_ranked(api: httpx.Client) -> None:
    body = search(api, q="refund policy status:closed", k=5, explain="true")
    assert body["explain"]["filters"] == {"status": ["closed"]}
    assert body["explain"]["fusion"]["weights"] == {"lexical": 0.5, "dense": 0.5}
    assert "refund" in body["explain"]["terms"]
    ranks = [hit["explain"]["fused"]["rank"] for hit in body["hits"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    for hit in body["hits"]:
        lexical, dense = hit["explain"]["lexical"], hit["explain"]["dense"]
        assert lexical or dense
        if lexical:
            assert set(lexical["matched_terms"]) <= set(body["explain"]["terms"])
            assert lexical["score"] >= sum(lexical["matched_terms"].values()) - 1e-3
    assert search(api, q="refund", k=3)["hits"][0]["explain"] is None


def test_sort_by_date_returns_matches_newest_first(api: httpx.Client) -> None:
    body = search(api, q="refund", k=20, sort="date", mode="lexical")
    dates = [next((hit["meta"][k] for k in DATE_KEYS if hit["meta"].get(k)), "")[:10] for hit in body["hits"]]
    assert len(dates) == 20 and dates == sorted(dates, reverse=True)
    by_relevance = search(api, q="refund", k=20, mode="lexical")
    assert body["total"] == by_relevance["total"]
    assert [h["uid"] for h in body["hits"]] != [h["uid"] for h in by_relevance["hits"]]


def test_a_misspelt_query_is_corrected_and_finds_what_the_right_one_finds(api: httpx.Client) -> None:
    typo = search(api, q="refnud polcy", k=10, mode="lexical")
    assert typo["did_you_mean"] == "refund policy"
    assert [c["correction"] for c in typo["corrections"]] == ["refund", "policy"]
    right = search(api, q="refund policy", k=10, mode="lexical")
    assert right["did_you_mean"] is None and right["corrections"] == []
    assert [h["uid"] for h in typo["hits"]] == [h["uid"] for h in right["hits"]]
    assert search(api, q="refnud polcy", k=10, mode="lexical", spellcheck="false")["hits"] == []


def test_case_hits_carry_graph_facts(api: httpx.Client, graph) -> None:
    hits = search(api, q="type:case", k=20)["hits"]
    assert hits
    for hit in hits:
        row = graph.read("MATCH (cu:Customer)-[:RAISED]->(c:SupportCase {uid: $uid}) RETURN cu.name AS name",
                         uid=hit["uid"])
        assert hit["facts"].get("customer") == (row[0]["name"] if row else None)
    assert any("resolvedBy" in hit["facts"] for hit in hits) and any("product" in hit["facts"] for hit in hits)


@pytest.fixture(scope="module")
def mined_and_indexed(loaded, graph, e2e_settings):
    """The sample mined, then reindexed: the tier and churn risk are read from the graph at index time."""
    run_mining(graph, load_ontology(), MiningConfig())
    workflows.reindex(e2e_settings, graph)
    yield
    remove_stale(graph, load_ontology())
    workflows.reindex(e2e_settings, graph)


def test_mined_tier_and_churn_risk_are_facets_and_filters(mined_and_indexed, api: httpx.Client, graph) -> None:
    tiers = {row["tier"]: row["n"] for row in graph.read(
        "MATCH (cu:Customer)-[:RAISED]->(c:SupportCase) WHERE cu.valueTier IS NOT NULL "
        "RETURN cu.valueTier AS tier, count(DISTINCT c) AS n")}
    assert len(tiers) >= 2
    body = search(api, q="type:case", k=5, facets="true")
    assert body["facets"]["tier"] == tiers
    assert body["facets"]["churn_risk"]
    tier = min(tiers, key=tiers.get)
    narrowed = search(api, q="type:case", k=100, tier=tier, facets="true")
    assert narrowed["total"] == tiers[tier] and narrowed["facets"]["tier"] == {tier: tiers[tier]}
    assert {hit["facts"]["customerTier"] for hit in narrowed["hits"]} == {tier}
    in_query = search(api, q=f"refund tier:{tier}", k=10)
    assert all(hit["facts"].get("customerTier") == tier for hit in in_query["hits"])
    risk = next(iter(body["facets"]["churn_risk"]))
    risky = search(api, q="type:case", k=10, churn_risk=risk)
    assert risky["hits"] and {hit["facts"]["customerChurnRisk"] for hit in risky["hits"]} == {risk}
