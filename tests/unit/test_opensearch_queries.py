"""The opensearch backend's request bodies and the bundled cluster's node config, without a cluster."""

from __future__ import annotations

from kcrm.foundation.config import Settings
from kcrm.search import opensearch_queries as q
from kcrm.search.filters import make_filter
from kcrm.search.opensearch_server import render_node_config


def test_the_access_rule_is_inside_the_knn_clause_not_after_it() -> None:
    body = q.knn_body([0.1, 0.2], 5, make_filter({"status": ["Open"]}), frozenset({"emea"}))
    knn = body["query"]["knn"][q.VECTOR_FIELD]
    clauses = knn["filter"]["bool"]["filter"]
    assert {"term": {"kind": q.CHUNK}} in clauses
    assert q.access_clause(frozenset({"emea"})) in clauses
    assert {"bool": {"should": [{"term": {"f_status": "open"}}], "minimum_should_match": 1}} in clauses
    assert set(body) == {"size", "_source", "query"}  # no post_filter, no outer bool


def test_access_clause_lets_public_items_through_and_none_means_everything() -> None:
    assert q.access_clause(None) is None
    nobody = q.access_clause(frozenset())
    assert nobody == {"bool": {"should": [{"term": {q.PUBLIC_FIELD: True}}], "minimum_should_match": 1}}
    member = q.access_clause(frozenset({"b", "a"}))
    assert member is not None and {"terms": {q.GROUPS_FIELD: ["a", "b"]}} in member["bool"]["should"]


def test_names_match_by_containment_and_wildcards_are_escaped() -> None:
    clauses = q.filter_clauses(q.ITEM, make_filter({"product": ["X200*"]}), None)
    wildcard = clauses[1]["bool"]["should"][0]["wildcard"]["f_product"]
    assert wildcard == {"value": "*x200\\**", "case_insensitive": True}


def test_date_range_and_facets_query_count_the_whole_match_set() -> None:
    body = q.match_set_body({"printer": 1.0}, ["u1"], make_filter(date_from="2025-01", date_to="2025-02"), None,
                            facets=True, newest=0)
    assert body["size"] == 0 and "sort" not in body and q.MONTH_FACET in body["aggs"]
    assert {"range": {q.DATE_FIELD: {"gte": "2025-01-01", "lte": "2025-02-28", "format": "strict_date"}}} in \
        body["query"]["bool"]["filter"]
    assert body["query"]["bool"]["minimum_should_match"] == 1


def test_mapping_uses_lucene_hnsw_whitespace_terms_and_excludes_vectors() -> None:
    body = q.index_body(384, 2, "usem3")
    vector = body["mappings"]["properties"][q.VECTOR_FIELD]
    assert vector["method"]["engine"] == "lucene" and vector["dimension"] == 384
    assert body["settings"]["analysis"]["analyzer"]["kcrm_terms"]["tokenizer"] == "whitespace"
    assert q.VECTOR_FIELD in body["mappings"]["_source"]["excludes"]
    assert body["mappings"]["_meta"] == {"embedder": "usem3", "dim": 384}


def test_facet_counts_are_ordered_like_the_local_table() -> None:
    aggs = {"status": {"buckets": [{"key": "open", "doc_count": 2}, {"key": "closed", "doc_count": 2},
                                   {"key": "new", "doc_count": 3}]},
            q.MONTH_FACET: {"buckets": [{"key": 1, "key_as_string": "2025-02", "doc_count": 1},
                                        {"key": 0, "key_as_string": "2025-01", "doc_count": 4}]}}
    counts = q.facet_counts(aggs)
    assert list(counts["status"].items()) == [("new", 3), ("closed", 2), ("open", 2)]
    assert list(counts[q.MONTH_FACET]) == ["2025-01", "2025-02"] and counts["type"] == {}


def test_three_node_config_is_loopback_with_every_node_a_seed_and_bootstraps_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(opensearch_http_port=19200, opensearch_transport_port=19300)
    first = render_node_config("node-1", 1, 3, settings, tmp_path / "d", tmp_path / "l", bootstrap=True)
    assert "network.host: 127.0.0.1\n" in first and "http.port: 19201\n" in first and "transport.port: 19301\n" in first
    assert 'discovery.seed_hosts: ["127.0.0.1:19300", "127.0.0.1:19301", "127.0.0.1:19302"]' in first
    assert 'cluster.initial_cluster_manager_nodes: ["node-0", "node-1", "node-2"]' in first
    later = render_node_config("node-1", 1, 3, settings, tmp_path / "d", tmp_path / "l", bootstrap=False)
    assert "initial_cluster_manager_nodes" not in later
    single = render_node_config("node-0", 0, 1, settings, tmp_path / "d", tmp_path / "l", bootstrap=True)
    assert "discovery.type: single-node" in single and "seed_hosts" not in single
