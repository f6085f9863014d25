"""Security trimming through the service layer, against the real Neo4j and the real FAISS + BM25 indexes.

For every surface a restricted item of the sample (a key account's case or order, the confidential
customer, an internal runbook) is invisible to a caller without its group and visible to one with
it; totals and facet, histogram and taxonomy counts differ by exactly the restricted items, which
the tests count in Neo4j directly. The HTTP tests (tests/e2e/test_trimming_api.py) repeat the key
cases over the wire with real keys.
"""

from __future__ import annotations

from collections import Counter

import pytest

from kcrm.foundation.errors import EntityNotFound
from kcrm.kg.analytics import CollaborationAnalytics
from kcrm.kg.case_assist import CaseAssistant
from kcrm.kg.customer360 import customer_360
from kcrm.kg.experts import ExpertFinder, ExpertQuery
from kcrm.kg.explore import entity, paths
from kcrm.kg.mining.insights import read_insights
from kcrm.ontology.model import load_ontology
from kcrm.search.entities import find_entities
from kcrm.search.filters import make_filter
from kcrm.search.taxonomy_browse import browse
from kcrm.security.access import SYSTEM, Principal

pytestmark = pytest.mark.e2e

OUTSIDER = Principal(key_id="t-outsider", name="outsider", roles=frozenset({"agent"}))
KEY_TEAM = Principal(key_id="t-key", name="key team", roles=frozenset({"agent"}), groups=frozenset({"key-accounts"}))
INTERNAL = Principal(key_id="t-int", name="internal", roles=frozenset({"agent"}), groups=frozenset({"internal"}))
EVERY = Principal(key_id="t-all", name="all groups", roles=frozenset({"agent"}),
                  groups=frozenset({"key-accounts", "internal"}))
RESTRICTED = "$g IN n.accessGroups"


@pytest.fixture(scope="module")
def search(e2e_settings, loaded):
    from kcrm.search.service import load_search_service

    return load_search_service(e2e_settings)


def restricted_counts(graph, label: str, group: str, field: str) -> Counter:
    rows = graph.read(f"MATCH (n:{label}) WHERE {RESTRICTED} RETURN n.{field} AS v, count(*) AS c", g=group)
    return Counter({r["v"]: r["c"] for r in rows})


def test_sample_carries_every_kind_of_restriction(graph, loaded) -> None:
    rows = graph.read("MATCH (n) WHERE n.accessGroups IS NOT NULL UNWIND n.accessGroups AS g "
                      "RETURN labels(n)[0] AS label, g, count(*) AS c")
    found = {(r["label"], r["g"]): r["c"] for r in rows}
    assert found[("SupportCase", "key-accounts")] > 50 and found[("Transaction", "key-accounts")] > 100
    assert found[("Customer", "key-accounts")] == 1 and found[("Document", "internal")] >= 2


# ----------------------------------------------------------------------------------------- search

def test_restricted_case_is_no_hit_without_the_group_and_a_hit_with_it(search, restricted_case) -> None:
    for mode in ("hybrid", "lexical", "dense"):
        query = restricted_case["title"]
        outsider = search.page(query, k=50, mode=mode, groups=OUTSIDER.visible_groups())
        insider = search.page(query, k=50, mode=mode, groups=KEY_TEAM.visible_groups())
        assert restricted_case["uid"] not in [h.uid for h in outsider.hits], mode
        assert restricted_case["uid"] in [h.uid for h in insider.hits], mode
        assert all("key-accounts" not in h.meta.get("accessGroups", []) for h in outsider.hits), mode


def test_snippets_never_quote_restricted_text(search, restricted_case) -> None:
    words = restricted_case["description"][:60]
    outsider = search.page(words, k=100, mode="lexical", groups=OUTSIDER.visible_groups())
    insider = search.page(words, k=100, mode="lexical", groups=KEY_TEAM.visible_groups())
    assert any(words[:30] in h.snippet for h in insider.hits if h.uid == restricted_case["uid"])
    assert all(h.uid != restricted_case["uid"] for h in outsider.hits)


def test_totals_and_facets_differ_by_exactly_the_restricted_items(search, graph) -> None:
    flt = make_filter({"type": ["SupportCase"]})
    system = search.page("", k=5, filters=flt, facets=True, groups=SYSTEM.visible_groups())
    outsider = search.page("", k=5, filters=flt, facets=True, groups=OUTSIDER.visible_groups())
    insider = search.page("", k=5, filters=flt, facets=True, groups=KEY_TEAM.visible_groups())
    hidden = graph.read(f"MATCH (n:SupportCase) WHERE {RESTRICTED} RETURN count(n) AS c", g="key-accounts")[0]["c"]
    assert system.total - outsider.total == hidden > 0
    assert insider.total == system.total
    by_status = restricted_counts(graph, "SupportCase", "key-accounts", "status")
    for status, count in system.facets["status"].items():
        assert count - outsider.facets["status"].get(status, 0) == by_status.get(status, 0), status
    by_month = Counter()
    for row in graph.read(f"MATCH (n:SupportCase) WHERE {RESTRICTED} RETURN substring(n.openedAt, 0, 7) AS m",
                          g="key-accounts"):
        by_month[row["m"]] += 1
    for month, count in system.facets["month"].items():
        assert count - outsider.facets["month"].get(month, 0) == by_month.get(month, 0), month
    assert insider.facets == system.facets


def test_text_query_totals_count_only_visible_matches(search, graph) -> None:
    query = "退款"  # the key accounts are Chinese companies
    system = search.page(query, k=10, mode="lexical", facets=True, expand=False)
    outsider = search.page(query, k=10, mode="lexical", facets=True, expand=False, groups=OUTSIDER.visible_groups())
    records = search.lexical.records()
    matched = search.lexical.scores(query) > 0
    hidden = sum(1 for row, record in enumerate(records)
                 if matched[row] and record.meta.get("accessGroups"))
    assert hidden > 0
    assert system.total - outsider.total == hidden
    assert sum(system.facets["type"].values()) - sum(outsider.facets["type"].values()) == hidden


def test_confidential_customer_disappears_from_customer_filter_and_facets(search, graph, confidential) -> None:
    flt = make_filter({"customer": [confidential["name"]]})
    cases = graph.read("MATCH (:Customer {uid: $uid})-[:RAISED]->(k) RETURN count(k) AS c",
                       uid=confidential["uid"])[0]["c"]
    assert search.page("", k=5, filters=flt, groups=OUTSIDER.visible_groups()).total == 0
    assert search.page("", k=5, filters=flt, groups=KEY_TEAM.visible_groups()).total == cases > 0
    cases_only = make_filter({"type": ["SupportCase"]})
    every = search.page("", k=5, filters=cases_only, facets=True, groups=OUTSIDER.visible_groups())
    insider = search.page("", k=5, filters=cases_only, facets=True, groups=KEY_TEAM.visible_groups())
    assert confidential["name"] not in every.facets["customer"]
    assert insider.facets["customer"][confidential["name"]] == cases


def test_internal_runbooks_need_the_internal_group(search, graph) -> None:
    doc = graph.read(f"MATCH (n:Document) WHERE {RESTRICTED} RETURN n.uid AS uid, n.title AS title "
                     "ORDER BY n.uid LIMIT 1", g="internal")[0]
    assert doc["uid"] not in [h.uid for h in search.search(doc["title"], k=20, groups=KEY_TEAM.visible_groups())]
    assert doc["uid"] in [h.uid for h in search.search(doc["title"], k=20, groups=INTERNAL.visible_groups())]


def test_taxonomy_counts_differ_by_exactly_the_restricted_items(search, graph) -> None:
    system = browse(search, "topics")
    outsider = browse(search, "topics", groups=OUTSIDER.visible_groups())
    hidden = graph.read("MATCH (n) WHERE (n:SupportCase OR n:Document OR n:Policy OR n:IndustryRule) "
                        "AND n.accessGroups IS NOT NULL RETURN count(n) AS c")[0]["c"]
    assert system.total - outsider.total == hidden
    per_topic = {r["t"]: r["c"] for r in graph.read(
        "MATCH (n)-[:HAS_TOPIC]->(t:Topic) WHERE (n:SupportCase OR n:Document) AND n.accessGroups IS NOT NULL "
        "AND NOT EXISTS { MATCH (n)-[:HAS_TOPIC]->(o:Topic) WHERE o.uid < t.uid } "
        "RETURN t.uid AS t, count(n) AS c")}

    def leaves(nodes, out):
        for node in nodes:
            if node.children:
                leaves(node.children, out)
            else:
                out[node.uid] = node.count
        return out

    before, after = leaves(system.nodes, {}), leaves(outsider.nodes, {})
    assert sum(per_topic.values()) > 0
    for uid, count in before.items():
        assert count - after.get(uid, 0) == per_topic.get(uid, 0), uid
    filtered = browse(search, "topics", "status:open", groups=OUTSIDER.visible_groups())
    assert filtered.total == search.page("status:open", k=1, groups=OUTSIDER.visible_groups()).total


def test_entities_group_counts_only_visible_entities(graph, confidential) -> None:
    name = confidential["name"]
    assert find_entities(graph, name, groups=OUTSIDER.visible_groups()).counts["Customer"] == 0
    found = find_entities(graph, name, groups=KEY_TEAM.visible_groups())
    assert found.counts["Customer"] == 1 and found.hits[0].uid == confidential["uid"]


# ------------------------------------------------------------------------------------------ graph

def test_customer_360_of_a_restricted_customer_is_not_found_like_an_absent_one(graph, confidential) -> None:
    with pytest.raises(EntityNotFound) as hidden:
        customer_360(graph, confidential["uid"], groups=OUTSIDER.visible_groups())
    with pytest.raises(EntityNotFound) as absent:
        customer_360(graph, "CUS-NO-SUCH", groups=OUTSIDER.visible_groups())
    assert str(hidden.value).replace(confidential["uid"], "X") == str(absent.value).replace("CUS-NO-SUCH", "X")
    assert customer_360(graph, confidential["uid"], groups=KEY_TEAM.visible_groups()).uid == confidential["uid"]


def test_customer_360_leaves_out_restricted_cases_and_orders(graph, key_account: str) -> None:
    truth = graph.read(
        "MATCH (c:Customer {uid: $uid}) RETURN "
        "COUNT { (c)-[:PLACED]->(t) WHERE t.accessGroups IS NULL } AS open_orders, "
        "COUNT { (c)-[:PLACED]->(t) } AS orders, "
        "COUNT { (c)-[:RAISED]->(k) WHERE k.accessGroups IS NULL } AS open_cases, "
        "COUNT { (c)-[:RAISED]->(k) } AS cases, COUNT { (c)-[:PURCHASED]->() } AS products", uid=key_account)[0]
    outsider = customer_360(graph, key_account, groups=OUTSIDER.visible_groups())
    insider = customer_360(graph, key_account, groups=KEY_TEAM.visible_groups())
    assert insider.transactions["orders"] == truth["orders"] > 0
    assert outsider.transactions["orders"] == truth["open_orders"]
    assert sum(insider.case_counts.values()) == truth["cases"] > 0
    assert sum(outsider.case_counts.values()) == truth["open_cases"]
    assert len(insider.products) == truth["products"]
    listed = {c["uid"] for c in outsider.open_cases + outsider.closed_cases}
    restricted = {r["uid"] for r in graph.read(
        "MATCH (:Customer {uid: $uid})-[:RAISED]->(k) WHERE 'key-accounts' IN k.accessGroups RETURN k.uid AS uid",
        uid=key_account)}
    assert not listed & restricted
    assert {c["uid"] for c in insider.open_cases + insider.closed_cases} & restricted
    assert truth["open_orders"] == 0  # every order of a key account is restricted: nothing bought shows
    assert outsider.top_products == [] and outsider.products == [] and outsider.transactions["total"] == 0
    assert insider.top_products and len(insider.products) == truth["products"]


def test_entity_neighbours_and_counts_are_trimmed(graph, key_account: str, restricted_case) -> None:
    def totals(view):
        return {(g.type, g.direction): g.total for g in view.groups}

    outsider = totals(entity(graph, key_account, groups=OUTSIDER.visible_groups()))
    insider = totals(entity(graph, key_account, groups=KEY_TEAM.visible_groups()))
    raised = graph.read("MATCH (:Customer {uid: $uid})-[:RAISED]->(k) RETURN count(k) AS c", uid=key_account)[0]["c"]
    hidden = graph.read("MATCH (:Customer {uid: $uid})-[:RAISED]->(k) WHERE k.accessGroups IS NOT NULL "
                        "RETURN count(k) AS c", uid=key_account)[0]["c"]
    assert insider[("RAISED", "out")] == raised
    assert insider[("RAISED", "out")] - outsider.get(("RAISED", "out"), 0) == hidden > 0
    with pytest.raises(EntityNotFound):
        entity(graph, restricted_case["uid"], groups=OUTSIDER.visible_groups())
    assert entity(graph, restricted_case["uid"], groups=KEY_TEAM.visible_groups()).uid == restricted_case["uid"]


def test_paths_never_run_through_an_invisible_node(graph, key_account: str, restricted_case, confidential) -> None:
    source, target = restricted_case["resolver"], key_account
    insider = paths(graph, source, target, max_hops=2, limit=20, groups=KEY_TEAM.visible_groups())
    assert any(restricted_case["uid"] in [n["uid"] for n in p.nodes] for p in insider)
    outsider = paths(graph, source, target, max_hops=4, limit=20, groups=OUTSIDER.visible_groups())
    on_paths = {n["uid"] for p in outsider for n in p.nodes}
    hidden = {r["uid"] for r in graph.read("MATCH (n) WHERE n.uid IN $uids AND n.accessGroups IS NOT NULL "
                                           "RETURN n.uid AS uid", uids=sorted(on_paths))}
    assert not hidden and restricted_case["uid"] not in on_paths
    with pytest.raises(EntityNotFound):
        paths(graph, source, confidential["uid"], groups=OUTSIDER.visible_groups())


def test_expert_evidence_is_trimmed(graph, search, key_account: str, confidential) -> None:
    query = ExpertQuery(customer=key_account, k=5)
    outsider = ExpertFinder(graph, search, groups=OUTSIDER.visible_groups()).find(query)
    insider = ExpertFinder(graph, search, groups=KEY_TEAM.visible_groups()).find(query)
    restricted = {r["uid"] for r in graph.read("MATCH (n) WHERE 'key-accounts' IN n.accessGroups RETURN n.uid AS uid")}
    insider_evidence = {e.uid for x in insider.experts for e in x.evidence}
    outsider_evidence = {e.uid for x in outsider.experts for e in x.evidence}
    assert insider_evidence & restricted
    assert not outsider_evidence & restricted
    with pytest.raises(EntityNotFound):
        ExpertFinder(graph, search, groups=OUTSIDER.visible_groups()).find(ExpertQuery(customer=confidential["uid"]))


def test_case_assistant_is_trimmed(graph, search, restricted_case, confidential) -> None:
    text = f"{restricted_case['description']} ({confidential['name']})"
    outsider = CaseAssistant(graph, search, groups=OUTSIDER.visible_groups()).assist(text)
    insider = CaseAssistant(graph, search, groups=KEY_TEAM.visible_groups()).assist(text)
    assert restricted_case["uid"] in [c.uid for c in insider.similar_cases]
    assert restricted_case["uid"] not in [c.uid for c in outsider.similar_cases]
    assert confidential["uid"] in [m.uid for m in insider.entities]
    assert confidential["uid"] not in [m.uid for m in outsider.entities]
    with pytest.raises(EntityNotFound):
        CaseAssistant(graph, search, groups=OUTSIDER.visible_groups()).assist(text, customer_uid=confidential["uid"])


def test_insights_and_analytics_are_trimmed(graph, confidential, key_account: str) -> None:
    with pytest.raises(EntityNotFound):
        read_insights(graph, load_ontology(), confidential["uid"], groups=OUTSIDER.visible_groups())
    assert read_insights(graph, load_ontology(), confidential["uid"], groups=KEY_TEAM.visible_groups()).uid \
        == confidential["uid"]
    outsider = {m.context for m in CollaborationAnalytics(graph, groups=OUTSIDER.visible_groups()).memberships()}
    insider = {m.context for m in CollaborationAnalytics(graph, groups=KEY_TEAM.visible_groups()).memberships()}
    assert f"customer:{key_account}" in insider and f"customer:{key_account}" not in outsider
    assert CollaborationAnalytics(graph, groups=OUTSIDER.visible_groups()).result().nodes > 0
