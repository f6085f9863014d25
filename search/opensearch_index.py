"""The opensearch backend's index: documents in, candidates out, generations behind an alias.

Why: past one machine the derived search index must live in a cluster (DESIGN.md, decision 7),
while ranking stays kcrm's. This class does the engine's part only: it stores each item
(its analysed terms, facet fields, access groups, date) and each chunk (its vector), and answers
BM25 candidates, filtered kNN candidates, facet counts and newest-first browsing, every one of
them with the field filter and the access rule applied inside the query. Fusion, expansion,
spelling and explain stay in `kcrm.search.hybrid`, on top of these candidates.

A rebuild writes a new index `<alias>-<generation>` and then moves the alias in one atomic
`_aliases` request, the cluster's counterpart of the local generation swap; readers see the old
index or the new one, never a half-built one. Incremental updates write to the index the alias
points at and refresh before returning, so an acknowledged update is searchable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from opensearchpy import OpenSearch, helpers

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import IndexNotReady
from kcrm.search import opensearch_queries as q
from kcrm.search.facets import field_value, record_date
from kcrm.search.filters import FILTER_FIELDS, SearchFilter
from kcrm.search.opensearch_client import guarded, make_client
from kcrm.search.tokenizer import Analyzer, default_analyzer
from kcrm.search.trimming import item_groups
from kcrm.search.vector_index import ChunkHit, ChunkRecord

log = logging.getLogger(__name__)

# How long a write waits out a failover (a node lost, a replica being promoted), and the per-document
# statuses worth a repeat: unavailable shards and throttling.
FAILOVER_S = 120.0
RETRIABLE = {429, 503}
# How long publishing a generation waits for its replicas before going live without them.
REPLICA_WAIT_S = 60

BULK_CHUNK = 500


def record_fields(record: ChunkRecord) -> dict[str, Any]:
    """The filterable part of a document: facet values, access groups, public flag, date."""
    groups = item_groups(record.meta)
    doc: dict[str, Any] = {"uid": record.uid, q.GROUPS_FIELD: sorted(groups), q.PUBLIC_FIELD: q.is_public_item(groups)}
    for name in FILTER_FIELDS:
        value = field_value(record, name)
        if value is not None:
            doc[f"f_{name}"] = value
            doc[f"v_{name}"] = value
    day = record_date(record)
    if day:
        doc[q.DATE_FIELD] = day
    return doc


def record_source(record: ChunkRecord) -> dict[str, Any]:
    """What a hit needs to show without asking the graph (the record itself, not indexed)."""
    return {"chunk_id": record.chunk_id, "uid": record.uid, "type": record.type, "title": record.title,
            "text": record.text, "language": record.language, "meta": record.meta, "start": record.start,
            "end": record.end}


def record_from_source(source: dict[str, Any]) -> ChunkRecord:
    return ChunkRecord(**source["record"])


class OpenSearchIndex:
    """Items and chunks of one kcrm index in an OpenSearch cluster, behind `settings.opensearch_index`."""

    def __init__(self, settings: Settings, client: OpenSearch | None = None, analyzer: Analyzer | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self.alias = settings.opensearch_index
        self.analyzer = analyzer or default_analyzer()

    # ----------------------------------------------------------------- documents

    def item_document(self, record: ChunkRecord) -> dict[str, Any]:
        """An item for BM25 and facets: kcrm's analysed terms of title + text, joined by spaces."""
        text = f"{record.title}\n{record.text}" if record.title else record.text
        terms = self.analyzer.terms(text)
        return {**record_fields(record), "kind": q.ITEM, "chunk_id": record.uid, q.TERMS_FIELD: " ".join(terms),
                "length": len(terms), "record": record_source(record)}

    @staticmethod
    def chunk_document(record: ChunkRecord, vector: np.ndarray) -> dict[str, Any]:
        """A chunk for kNN: its unit vector plus the same filter fields as its item."""
        return {**record_fields(record), "kind": q.CHUNK, "chunk_id": record.chunk_id,
                q.VECTOR_FIELD: [float(x) for x in vector], "record": record_source(record)}

    def _actions(self, index: str, items: Sequence[ChunkRecord], chunks: Sequence[ChunkRecord],
                 vectors: np.ndarray | None) -> Iterable[dict[str, Any]]:
        for record in items:
            yield {"_index": index, "_id": f"item:{record.uid}", "_routing": record.uid,
                   "_source": self.item_document(record)}
        if vectors is not None:
            for record, vector in zip(chunks, vectors, strict=True):
                yield {"_index": index, "_id": f"chunk:{record.chunk_id}", "_routing": record.uid,
                       "_source": self.chunk_document(record, vector)}

    # ----------------------------------------------------------------- generations

    def current_index(self) -> str | None:
        """The index the alias points at (None before the first build)."""
        # local: this node's copy of the cluster state, so no cluster-manager round trip; while a
        # new manager is being elected (a node killed) a forwarded read would wait and time out.
        found = guarded(self.settings, lambda: self.client.indices.get_alias(
            name=self.alias, ignore=[404], params={"local": "true"}))
        names = [name for name in found if name not in ("error", "status")] if isinstance(found, dict) else []
        return names[0] if names else None

    def live(self) -> str:
        """The live generation, or `IndexNotReady` saying how to build one."""
        name = self.current_index()
        if name is None:
            raise IndexNotReady(f"no OpenSearch index behind alias {self.alias!r} at "
                                f"{self.settings.opensearch_endpoint}; run `kcrm reindex`")
        return name

    def meta(self) -> dict[str, Any]:
        """The live generation's `_meta` (the embedder that filled it)."""
        live = self.live()
        mapping = guarded(self.settings, lambda: self.client.indices.get_mapping(index=live))
        return dict(mapping[live]["mappings"].get("_meta", {}))

    def create_generation(self, dimension: int, embedder: str) -> str:
        """A new empty index `<alias>-<timestamp>`, not yet searchable through the alias."""
        name = f"{self.alias}-{time.strftime('%Y%m%d%H%M%S')}-{time.monotonic_ns() % 1_000_000:06d}"
        body = q.index_body(dimension, self.settings.opensearch_shards, embedder)
        guarded(self.settings, lambda: self.client.indices.create(index=name, body=body))
        return name

    def write(self, index: str, items: Sequence[ChunkRecord], chunks: Sequence[ChunkRecord],
              vectors: np.ndarray | None) -> int:
        """Write documents; any document the cluster refused is an error (nothing lost silently).

        Documents refused as unavailable (503: a primary shard not active while a replica is being
        promoted after a node loss) or throttled (429) are sent again until FAILOVER_S has passed;
        document ids are deterministic, so a repeat overwrites rather than duplicates.
        """
        pending = list(self._actions(index, items, chunks, vectors))
        deadline = time.monotonic() + FAILOVER_S
        written, pause = 0, 1.0
        while True:
            batch = pending
            done, errors = guarded(self.settings, lambda: helpers.bulk(
                self.client, batch, chunk_size=BULK_CHUNK, raise_on_error=False, max_retries=3,
                request_timeout=self._write_timeout_s))
            written += int(done)
            failed = {next(iter(e.values())).get("_id"): e for e in errors}
            retriable = {i for i, e in failed.items() if next(iter(e.values())).get("status") in RETRIABLE}
            if not failed:
                return written
            if retriable != set(failed) or time.monotonic() + pause > deadline:
                first = next(iter(failed.values()))
                raise IndexNotReady(f"OpenSearch refused {len(failed)} documents in {index}; first: {first}")
            log.warning("OpenSearch refused %d documents as unavailable (failover?); sending them again in %.0f s",
                        len(failed), pause)
            time.sleep(pause)
            pause = min(pause * 2, 10.0)
            pending = [a for a in batch if a["_id"] in retriable]

    def refresh(self, index: str) -> None:
        """Make written documents searchable; given the write timeout, since a refresh waits out a
        shard failover after a node is lost."""
        guarded(self.settings, lambda: self.client.indices.refresh(index=index, request_timeout=self._write_timeout_s))

    @property
    def _write_timeout_s(self) -> float:
        """Writes and refreshes may wait out a cluster-manager election (tens of seconds); reads stay short."""
        return max(60.0, self.settings.opensearch_timeout_s)

    def publish(self, name: str) -> None:
        """Make `name` searchable: refresh, wait for its primaries and then (briefly) its replicas, move
        the alias atomically, drop the old.

        Why wait for replicas: a generation that goes live before its replicas are copied has one copy
        of each shard, so losing the node that holds it blocks every write to that shard until the node
        returns (seen on CI: a node killed seconds after a rebuild froze incremental updates for
        minutes). Green is awaited for at most REPLICA_WAIT_S; a cluster that cannot place replicas
        (one node) is green at once, since `auto_expand_replicas` asks for none there.
        """
        self.refresh(name)
        wait_s = int(self.settings.opensearch_start_timeout_s)
        guarded(self.settings, lambda: self.client.cluster.health(  # `timeout=` would be the client's socket timeout
            index=name, params={"wait_for_status": "yellow", "timeout": f"{wait_s}s"}, request_timeout=wait_s + 5))
        health = guarded(self.settings, lambda: self.client.cluster.health(
            index=name, params={"wait_for_status": "green", "timeout": f"{REPLICA_WAIT_S}s"},
            request_timeout=REPLICA_WAIT_S + 5, ignore=[408]))  # 408: timed out, body says the status
        if health.get("status") != "green":
            log.warning("opensearch generation %s goes live %s: its replicas were not all placed within %d s",
                        name, health.get("status"), REPLICA_WAIT_S)
        old = self.current_index()
        actions: list[dict[str, Any]] = [{"add": {"index": name, "alias": self.alias}}]
        if old:
            actions.insert(0, {"remove": {"index": old, "alias": self.alias}})
        guarded(self.settings, lambda: self.client.indices.update_aliases(body={"actions": actions}))
        existing = guarded(self.settings, lambda: self.client.indices.get(index=f"{self.alias}-*", ignore=[404]))
        for other in existing if isinstance(existing, dict) else {}:
            if other not in (name, "error", "status"):
                self.drop(other)
        log.info("opensearch generation %s live behind alias %s", name, self.alias)

    def drop(self, name: str) -> None:
        self.client.indices.delete(index=name, ignore=[404])

    def build(self, items: Sequence[ChunkRecord], chunks: Sequence[ChunkRecord], vectors: np.ndarray,
              dimension: int, embedder: str = "") -> str:
        """Write a whole new generation from records and publish it (tests and benchmarks)."""
        name = self.create_generation(dimension, embedder)
        try:
            self.write(name, items, chunks, vectors)
            self.publish(name)
        except Exception:
            self.drop(name)
            raise
        return name

    # ----------------------------------------------------------------- incremental

    def upsert(self, items: Sequence[ChunkRecord], chunks: Sequence[ChunkRecord], vectors: np.ndarray) -> int:
        """Replace these items (and all their chunks) in the live generation; searchable on return."""
        uids = sorted({record.uid for record in items} | {record.uid for record in chunks})
        index = self.live()
        self._delete_uids(index, uids)
        written = self.write(index, items, chunks, vectors)
        self.refresh(index)
        return written

    def remove(self, uids: Iterable[str]) -> int:
        """Delete these items and their chunks from the live generation; returns items deleted."""
        index = self.live()
        wanted = sorted(set(uids))
        present = self.match_count_uids(wanted)
        self._delete_uids(index, wanted)
        self.refresh(index)
        return present

    def _delete_uids(self, index: str, uids: list[str]) -> int:
        """Delete every document of these items: find their ids, then one bulk delete.

        `_delete_by_query` lives in OpenSearch's reindex module, which the bundled nodes do not
        load; a search by uid plus a bulk delete works on any cluster.
        """
        deleted = 0
        for start in range(0, len(uids), 500):
            batch = uids[start:start + 500]
            body = {"size": 10_000, "_source": False, "query": {"terms": {"uid": batch}}}
            found = guarded(self.settings, lambda: self.client.search(index=index, body=body))
            actions = [{"_op_type": "delete", "_index": index, "_id": hit["_id"], "_routing": hit.get("_routing")}
                       for hit in found["hits"]["hits"]]
            if not actions:
                continue
            done, errors = guarded(self.settings, lambda: helpers.bulk(self.client, actions, raise_on_error=False))
            if errors:
                raise IndexNotReady(f"OpenSearch could not delete {len(errors)} documents from {index}: {errors[0]}")
            deleted += int(done)
        return deleted

    # ----------------------------------------------------------------- queries

    def _search(self, body: dict[str, Any], dfs: bool = False) -> dict[str, Any]:
        """One search on the alias; `dfs` makes BM25 statistics global, as in the single local index."""
        params = {"search_type": "dfs_query_then_fetch"} if dfs else {}
        answer: dict[str, Any] = guarded(self.settings, lambda: self.client.search(
            index=self.alias, body=body, params=params))
        return answer

    def lexical(self, weighted_terms: dict[str, float], k: int, flt: SearchFilter | None = None,
                groups: frozenset[str] | None = None) -> tuple[list[ChunkHit], int]:
        """BM25 candidates (one per item, Lucene's scale) and how many visible items match in all."""
        if not weighted_terms:
            return [], 0
        answer = self._search(q.lexical_body(weighted_terms, k, flt, groups), dfs=True)
        hits = [ChunkHit(record_from_source(h["_source"]), float(h["_score"])) for h in answer["hits"]["hits"]]
        return hits, int(answer["hits"]["total"]["value"])

    def query_terms(self, query: str) -> dict[str, float]:
        """kcrm's analysed query terms, each weighted 1."""
        return {term: 1.0 for term in self.analyzer.terms(query)}

    def dense(self, vector: np.ndarray, k: int, flt: SearchFilter | None = None,
              groups: frozenset[str] | None = None) -> list[ChunkHit]:
        """The `k` nearest visible chunks passing the filter, cosine similarity as the score.

        The Lucene engine's cosinesimil score is (1 + cos) / 2; it is mapped back to the cosine so
        scores mean what the local FAISS index's do.
        """
        answer = self._search(q.knn_body([float(x) for x in vector], k, flt, groups))
        return [ChunkHit(record_from_source(h["_source"]), 2.0 * float(h["_score"]) - 1.0)
                for h in answer["hits"]["hits"]]

    def match_set(self, weighted_terms: dict[str, float] | None, uids: Sequence[str], flt: SearchFilter | None,
                  groups: frozenset[str] | None, facets: bool = False, newest: int = 0,
                  browse: bool = False) -> MatchSet:
        """Size, facets and newest items of the match set (`browse`: every item passing the filter)."""
        body = q.match_set_body(None if browse else weighted_terms, [] if browse else uids, flt, groups, facets, newest)
        if not browse and not weighted_terms and not uids:
            return MatchSet(0, q.facet_counts({}) if facets else None, [])
        answer = self._search(body)
        return MatchSet(total=int(answer["hits"]["total"]["value"]),
                        facets=q.facet_counts(answer.get("aggregations", {})) if facets else None,
                        records=[record_from_source(h["_source"]) for h in answer["hits"]["hits"]])

    def match_count(self, weighted_terms: dict[str, float], flt: SearchFilter | None,
                    groups: frozenset[str] | None) -> int:
        """Visible items passing `flt` that contain at least one of the terms."""
        if not weighted_terms:
            return 0
        return self.match_set(weighted_terms, [], flt, groups).total

    def match_count_uids(self, uids: Sequence[str]) -> int:
        """How many of these items are indexed."""
        return self.match_set(None, uids, None, None).total if uids else 0

    def item(self, uid: str, groups: frozenset[str] | None) -> ChunkRecord | None:
        """One item's record if the caller may see it."""
        body = {"size": 1, "_source": ["record"], "query": {"bool": {
            "filter": [*q.filter_clauses(q.ITEM, None, groups), {"term": {"uid": uid}}]}}}
        hits = self._search(body)["hits"]["hits"]
        return record_from_source(hits[0]["_source"]) if hits else None

    def term_statistics(self, terms: Sequence[str], groups: frozenset[str] | None) -> tuple[int, float, dict[str, int]]:
        """(visible items, their average length in terms, document frequency of each term)."""
        answer = self._search(q.statistics_body(terms, groups))
        aggs = answer["aggregations"]
        frequencies = {t: int(bucket["doc_count"]) for t, bucket in aggs["df"]["buckets"].items()}
        return int(answer["hits"]["total"]["value"]), float(aggs["avgdl"]["value"] or 0.0), frequencies

    def scan_items(self, groups: frozenset[str] | None) -> Iterator[ChunkRecord]:
        """Every item the caller may see (for the spelling vocabulary), streamed."""
        query = {"_source": ["record"], "query": {"bool": {"filter": q.filter_clauses(q.ITEM, None, groups)}}}
        for hit in guarded(self.settings, lambda: list(helpers.scan(self.client, query=query, index=self.alias,
                                                                    size=1000, preserve_order=False))):
            yield record_from_source(hit["_source"])

    def _count(self, kind: str) -> int:
        live = self.live()
        answer = guarded(self.settings, lambda: self.client.count(index=live, body={"query": {"term": {"kind": kind}}}))
        return int(answer["count"])

    def item_count(self) -> int:
        """Items in the live generation."""
        return self._count(q.ITEM)

    def chunk_count(self) -> int:
        """Passages (vectors) in the live generation."""
        return self._count(q.CHUNK)


@dataclass
class MatchSet:
    """A match set's size, facet counts (when asked) and newest records (when asked)."""

    total: int
    facets: dict[str, dict[str, int]] | None
    records: list[ChunkRecord]
