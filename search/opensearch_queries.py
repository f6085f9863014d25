"""The OpenSearch mapping and query bodies of the opensearch backend, built in one place.

Pure functions from kcrm's own inputs (analysed terms, a `SearchFilter`, the caller's access
groups) to request bodies, so every rule the local backend applies can be read and unit-tested
without a cluster:

- text is indexed as kcrm's analysed terms joined by spaces, under a whitespace analyser, so
  segmentation, stemming and stopwords are the local backend's own (OPENSEARCH.md: the standard
  analyser splits Chinese into single characters);
- filters and access groups sit inside the query, and inside the `knn` clause, never after it
  (a post-filter on kNN returned 2 of 10 matching hits where the pre-filter returned 10);
- facets have their own size-0 query over the whole filtered match set (aggregations on a kNN
  query count only its top k).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kcrm.search.facets import CONTAINS_FIELDS, MONTH_FACET
from kcrm.search.filters import FILTER_FIELDS, SearchFilter
from kcrm.search.lexical import DEFAULT_B, DEFAULT_K1
from kcrm.security.access import PUBLIC_GROUP

ITEM, CHUNK = "item", "chunk"
"""Two kinds of document share one index: whole items for BM25 and facets, chunks for vectors."""

TERMS_FIELD = "terms"
VECTOR_FIELD = "vector"
GROUPS_FIELD = "groups"
PUBLIC_FIELD = "public"
DATE_FIELD = "date"
SOURCE_EXCLUDES = [VECTOR_FIELD, TERMS_FIELD]
"""Vectors and terms never travel back with hits: the vectors alone were a third of the latency."""
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 100
FACET_SIZE = 50


def index_body(dimension: int, shards: int, embedder: str = "") -> dict[str, Any]:
    """Settings and mapping of one index generation.

    `auto_expand_replicas: 0-1` gives one replica wherever a second node exists (a node can die
    without losing a shard) and none on a single node (which would otherwise stay yellow).
    The kNN engine is Lucene: faiss and nmslib need native libraries the Maven artifacts lack,
    and their first write hangs.
    """
    keyword = {"type": "keyword"}
    properties: dict[str, Any] = {
        "kind": keyword, "uid": keyword, "chunk_id": keyword, GROUPS_FIELD: keyword,
        PUBLIC_FIELD: {"type": "boolean"},
        DATE_FIELD: {"type": "date", "format": "strict_date||strict_year_month||strict_year", "ignore_malformed": True},
        TERMS_FIELD: {"type": "text", "analyzer": "kcrm_terms", "similarity": "kcrm_bm25"},
        VECTOR_FIELD: {"type": "knn_vector", "dimension": dimension,
                       "method": {"name": "hnsw", "engine": "lucene", "space_type": "cosinesimil",
                                  "parameters": {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION}}},
        "record": {"type": "object", "enabled": False},
        "length": {"type": "integer"},
    }
    for name in FILTER_FIELDS:
        properties[f"f_{name}"] = {"type": "keyword", "normalizer": "kcrm_lower"}
        properties[f"v_{name}"] = keyword
    return {
        "settings": {
            "index": {"number_of_shards": shards, "auto_expand_replicas": "0-1", "knn": True,
                      "refresh_interval": "1s"},
            "similarity": {"kcrm_bm25": {"type": "BM25", "k1": DEFAULT_K1, "b": DEFAULT_B}},
            "analysis": {
                "analyzer": {"kcrm_terms": {"type": "custom", "tokenizer": "whitespace"}},
                "normalizer": {"kcrm_lower": {"type": "custom", "filter": ["lowercase"]}},
            },
        },
        "mappings": {"_meta": {"embedder": embedder, "dim": dimension}, "dynamic": "strict", "_source": {"excludes": SOURCE_EXCLUDES}, "properties": properties},
    }


def access_clause(groups: frozenset[str] | None) -> dict[str, Any] | None:
    """Who may see a document: public ones, or ones sharing a group with the caller (None: everyone)."""
    if groups is None:
        return None
    should: list[dict[str, Any]] = [{"term": {PUBLIC_FIELD: True}}]
    if groups:
        should.append({"terms": {GROUPS_FIELD: sorted(groups)}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def filter_clauses(kind: str, flt: SearchFilter | None, groups: frozenset[str] | None) -> list[dict[str, Any]]:
    """The document kind, the field filter and the access rule as filter clauses (AND).

    Values of one field are alternatives; names (product, customer, topic, category) match by
    containment, codes exactly, both case-insensitively, as `FacetTable.mask` does.
    """
    clauses: list[dict[str, Any]] = [{"term": {"kind": kind}}]
    access = access_clause(groups)
    if access is not None:
        clauses.append(access)
    if flt is None:
        return clauses
    for name, wanted in sorted(flt.fields.items()):
        field = f"f_{name}"
        if name in CONTAINS_FIELDS:
            should = [{"wildcard": {field: {"value": f"*{_escape_wildcard(value)}*", "case_insensitive": True}}}
                      for value in sorted(wanted)]
        else:
            should = [{"term": {field: value.lower()}} for value in sorted(wanted)]
        clauses.append({"bool": {"should": should, "minimum_should_match": 1}})
    if flt.date_from or flt.date_to:
        bounds = {key: value for key, value in (("gte", flt.date_from), ("lte", flt.date_to)) if value}
        clauses.append({"range": {DATE_FIELD: {**bounds, "format": "strict_date"}}})
    return clauses


def _escape_wildcard(value: str) -> str:
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def terms_clause(weighted_terms: dict[str, float]) -> dict[str, Any]:
    """BM25 over kcrm's terms: one `term` query per distinct term, boosted by its weight.

    Weights carry kcrm's query expansion (synonyms and translations below 1.0); a repeated
    query term is counted once, as the local index does.
    """
    should = [{"term": {TERMS_FIELD: {"value": term, "boost": weight}}}
              for term, weight in sorted(weighted_terms.items()) if weight > 0]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def lexical_body(weighted_terms: dict[str, float], k: int, flt: SearchFilter | None,
                 groups: frozenset[str] | None) -> dict[str, Any]:
    """The top `k` items by BM25 among those passing the filter and the access rule."""
    return {"size": k, "track_total_hits": True, "_source": ["uid", "record"],
            "query": {"bool": {"must": [terms_clause(weighted_terms)],
                               "filter": filter_clauses(ITEM, flt, groups)}}}


def knn_body(vector: list[float], k: int, flt: SearchFilter | None, groups: frozenset[str] | None) -> dict[str, Any]:
    """The `k` nearest chunks with the filter and access rule inside the kNN clause (pre-filter)."""
    return {"size": k, "_source": ["uid", "chunk_id", "record"],
            "query": {"knn": {VECTOR_FIELD: {"vector": vector, "k": k,
                                             "filter": {"bool": {"filter": filter_clauses(CHUNK, flt, groups)}}}}}}


def match_set_body(weighted_terms: dict[str, float] | None, uids: Sequence[str], flt: SearchFilter | None,
                   groups: frozenset[str] | None, facets: bool, newest: int) -> dict[str, Any]:
    """The match set (items the terms match, plus the dense candidates `uids`) after filters and access.

    One request gives its size, its facet counts (`facets`) and its `newest` items by date, so
    hybrid totals and facets count exactly what the local backend counts.
    """
    should: list[dict[str, Any]] = []
    if weighted_terms:
        should.append(terms_clause(weighted_terms))
    if uids:
        should.append({"terms": {"uid": list(uids)}})
    query: dict[str, Any] = {"filter": filter_clauses(ITEM, flt, groups)}
    if should:
        query.update(should=should, minimum_should_match=1)
    body: dict[str, Any] = {"size": newest, "track_total_hits": True, "_source": ["uid", "record"],
                            "query": {"bool": query}}
    if newest:
        body["sort"] = [{DATE_FIELD: {"order": "desc", "missing": "_last"}}, {"uid": "desc"}]
    if facets:
        body["aggs"] = facet_aggregations()
    return body


def facet_aggregations() -> dict[str, Any]:
    """A terms aggregation per filter field and the month histogram."""
    aggs: dict[str, Any] = {name: {"terms": {"field": f"v_{name}", "size": FACET_SIZE}} for name in FILTER_FIELDS}
    aggs[MONTH_FACET] = {"date_histogram": {"field": DATE_FIELD, "calendar_interval": "month", "format": "yyyy-MM",
                                            "min_doc_count": 1}}
    return aggs


def statistics_body(terms: Sequence[str], groups: frozenset[str] | None) -> dict[str, Any]:
    """Visible items, their average length and each term's document frequency, in one request."""
    return {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": filter_clauses(ITEM, None, groups)}},
            "aggs": {"avgdl": {"avg": {"field": "length"}},
                     "df": {"filters": {"filters": {t: {"term": {TERMS_FIELD: t}} for t in terms}}}}}


def facet_counts(aggregations: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The aggregations of `facets_body` in FacetTable.counts' shape: largest first, then by name."""
    out: dict[str, dict[str, int]] = {}
    for name in (*FILTER_FIELDS, MONTH_FACET):
        buckets = aggregations.get(name, {}).get("buckets", [])
        pairs = [(str(b.get("key_as_string", b["key"])), int(b["doc_count"])) for b in buckets if b["doc_count"]]
        order = sorted(pairs) if name == MONTH_FACET else sorted(pairs, key=lambda p: (-p[1], p[0]))
        out[name] = dict(order)
    return out


def is_public_item(groups: frozenset[str]) -> bool:
    """The local rule (`trimming.is_public`): no groups, or the public group among them."""
    return not groups or PUBLIC_GROUP in groups
