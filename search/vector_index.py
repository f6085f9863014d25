"""The dense index: chunk vectors in FAISS plus each chunk's metadata, saved as one directory.

The index derives from the graph and is rebuilt from it at will, so its format is simple and
versioned, and a save replaces the previous version atomically: files go into a temporary
sibling directory, are fsynced, and the directory is swapped in with one rename (an atomic
exchange on Linux). A reader therefore sees the old index or the new one, never a mixture; the
manifest's checksums catch the rare reader that straddled a swap, which then simply re-reads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

from kcrm.foundation.errors import IndexIncompatible
from kcrm.search import atomic
from kcrm.search.embedder import Embedder, l2_normalise
from kcrm.search.types import ChunkHit, ChunkRecord

log = logging.getLogger(__name__)

FORMAT = "kcrm-vector-index"
FORMAT_VERSION = 1
VECTORS_FILE = "vectors.faiss"
CHUNKS_FILE = "chunks.jsonl"
MANIFEST_FILE = "manifest.json"
# Exact search costs in proportion to the collection (issue 15, quiet 2 cores: 19.8 ms a query at
# 100k chunks of 896-d vectors against 0.82 ms for HNSW); past this size HNSW, with its efSearch
# chosen by measured recall (`FaissVectorIndex.tune`; KCRM_SEARCH_EXACT_LIMIT;
# benchmarks/search_scale.py measures recall@10 on real queries).
EXACT_SEARCH_LIMIT = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# `tune` keeps the smallest efSearch whose recall@10 against exact search reaches the target.
HNSW_EF_CHOICES = (64, 128, 256, 512, 1024)
HNSW_TARGET_RECALL = 0.97
# A filter that leaves at most this many chunks is searched exactly (a dot product over them):
# HNSW with a selective filter walks a graph whose neighbours are mostly filtered out.
EXACT_SUBSET_LIMIT = 20_000
KINDS = ("flat", "hnsw")
# One query at a time needs no OpenMP team, and an idle team spinning beside the embedder's BLAS
# threads made each search ~8 ms instead of ~1.3 ms on 2 cores. Concurrency comes from requests.
FAISS_THREADS = 1


class VectorIndex(Protocol):
    """A store of unit vectors with metadata; FAISS today, a distributed engine later."""

    embedder_name: str
    dim: int

    def add(self, records: Sequence[ChunkRecord], vectors: np.ndarray) -> None:
        """Add chunks with their vectors (one row per record)."""
        ...

    def search(self, vector: np.ndarray, k: int, types: set[str] | None = None,
               uids: set[str] | None = None) -> list[ChunkHit]:
        """The `k` nearest chunks, best first, optionally only of the given item types and items."""
        ...

    def count(self) -> int:
        """How many chunks the index holds."""
        ...

    def item_count(self) -> int:
        """How many distinct items (uids) the index holds."""
        ...

    def vectors(self) -> np.ndarray:
        """Every stored vector, in storage order."""
        ...

    def save(self, directory: Path, watermark: str = "") -> Path:
        """Write the index to `directory`, replacing any previous version atomically."""
        ...


def index_kind_for(n_vectors: int, exact_limit: int = EXACT_SEARCH_LIMIT) -> str:
    """The FAISS structure for an index of this size: exact ("flat") up to `exact_limit`, HNSW above."""
    return "flat" if n_vectors <= exact_limit else "hnsw"


def _new_faiss_index(dim: int, kind: str) -> faiss.IndexIDMap2:
    """An empty index addressed by our own int64 ids, so items can be removed and replaced."""
    if faiss.omp_get_max_threads() != FAISS_THREADS:
        faiss.omp_set_num_threads(FAISS_THREADS)
    if kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH  # type: ignore[attr-defined]
        return faiss.IndexIDMap2(inner)
    raise ValueError(f"unsupported index kind {kind!r}: use one of {', '.join(KINDS)}")


class FaissVectorIndex:
    """Inner-product search over unit vectors (so scores are cosine similarities): exact ("flat")
    or approximate ("hnsw", for large indexes; filtered searches over few chunks stay exact).

    Searches may run concurrently; `add`, `remove` and `save` need exclusive use, so a service
    builds or updates a separate instance and swaps the reference.
    """

    def __init__(self, dim: int, embedder_name: str, kind: str = "flat") -> None:
        self.dim = dim
        self.embedder_name = embedder_name
        self.kind = kind
        self.manifest: dict[str, Any] = {}
        self._index = _new_faiss_index(dim, kind)
        self._records: dict[int, ChunkRecord] = {}
        self._ids_by_uid: dict[str, list[int]] = {}
        self._selectors: dict[frozenset[str], tuple[np.ndarray, Any]] = {}
        self._uid_selectors: dict[tuple[frozenset[str], frozenset[str] | None], tuple[np.ndarray, Any]] = {}
        self._next_id = 0
        self.tuning: dict[str, Any] = {}  # HNSW efSearch chosen by `tune` and the recalls measured

    @classmethod
    def for_embedder(cls, embedder: Embedder, expected_vectors: int = 0,
                     exact_limit: int = EXACT_SEARCH_LIMIT) -> FaissVectorIndex:
        """An empty index matching `embedder`, of the kind suited to the expected size."""
        return cls(embedder.dim, embedder.name, index_kind_for(expected_vectors, exact_limit))

    def rebuilt(self, kind: str) -> FaissVectorIndex:
        """A copy of this index as `kind` (same ids, records and vectors; nothing re-embedded)."""
        copy = FaissVectorIndex(self.dim, self.embedder_name, kind)
        ids = np.asarray(sorted(self._records), dtype=np.int64)
        if len(ids):
            copy._index.add_with_ids(self._vectors_of(ids), ids)
        copy._records = dict(self._records)
        copy._ids_by_uid = {uid: list(chunk_ids) for uid, chunk_ids in self._ids_by_uid.items()}
        copy._next_id = self._next_id
        copy.manifest = dict(self.manifest)
        copy.tune()
        return copy

    def _apply_tuning(self) -> None:
        """Set the efSearch `tune` chose on the current FAISS structure (after a load or a rebuild)."""
        ef = self.tuning.get("ef_search")
        if ef and self.kind == "hnsw":
            faiss.downcast_index(self._index.index).hnsw.efSearch = int(ef)  # type: ignore[attr-defined]

    def _vectors_of(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of these chunk ids, in order."""
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64)), dtype=np.float32)

    @property
    def watermark(self) -> str:
        """The caller's change watermark stored at save time ('' for a fresh index)."""
        return str(self.manifest.get("watermark", ""))

    def count(self) -> int:
        """How many chunks the index holds."""
        return int(self._index.ntotal)

    def item_count(self) -> int:
        """How many distinct items (uids) the index holds."""
        return len(self._ids_by_uid)

    def vectors(self) -> np.ndarray:
        """Every stored vector, in storage order: for baselines in benchmarks and for export."""
        return self._index.index.reconstruct_n(0, self.count())

    def chunk_ids(self) -> np.ndarray:
        """Every chunk id, in storage order (aligned with `vectors()`)."""
        return faiss.vector_to_array(self._index.id_map)

    def uids(self) -> set[str]:
        """The items present, for incremental catch-up against the graph."""
        return set(self._ids_by_uid)

    def add(self, records: Sequence[ChunkRecord], vectors: np.ndarray) -> None:
        """Add chunks with their vectors; rows are re-normalised so scores stay cosines."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape != (len(records), self.dim):
            raise ValueError(f"expected vectors of shape ({len(records)}, {self.dim}), got {matrix.shape}")
        if not records:
            return
        ids = np.arange(self._next_id, self._next_id + len(records), dtype=np.int64)
        self._index.add_with_ids(l2_normalise(matrix), ids)
        for chunk_id, record in zip(ids.tolist(), records):
            self._records[chunk_id] = record
            self._ids_by_uid.setdefault(record.uid, []).append(chunk_id)
        self._next_id += len(records)
        self._selectors.clear()
        self._uid_selectors.clear()

    def remove(self, uids: Iterable[str]) -> int:
        """Drop every chunk of these items (before re-adding changed ones); returns chunks removed."""
        doomed = [i for uid in set(uids) for i in self._ids_by_uid.pop(uid, [])]
        if not doomed:
            return 0
        for chunk_id in doomed:
            del self._records[chunk_id]
        if self.kind == "flat":
            self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(doomed, dtype=np.int64)))
        else:  # an HNSW graph cannot drop nodes: rebuild it from the kept vectors (none re-embedded)
            keep = np.asarray(sorted(self._records), dtype=np.int64)
            vectors = self._vectors_of(keep)
            self._index = _new_faiss_index(self.dim, self.kind)
            if len(keep):
                self._index.add_with_ids(vectors, keep)
            self._apply_tuning()
        self._selectors.clear()
        self._uid_selectors.clear()
        return len(doomed)

    def _type_selector(self, types: set[str]) -> tuple[np.ndarray, Any]:
        """The chunk ids of these types, and a FAISS selector for them (None: all chunks are)."""
        key = frozenset(types)
        if key not in self._selectors:
            allowed = np.asarray([i for i, record in self._records.items() if record.type in key], dtype=np.int64)
            selector = None
            if len(allowed) < self.count():
                selector = faiss.IDSelectorBatch(allowed)
            self._selectors[key] = (allowed, selector)
        return self._selectors[key]

    def _uid_selector(self, uids: set[str], types: set[str] | None) -> tuple[np.ndarray, Any]:
        """The chunk ids of these items (of these types), and a FAISS selector for them.

        A frozenset of uids (what a caller's access groups allow, asked for on every query) is
        remembered, so the selector is built once per group set rather than per query.
        """
        key = (uids, frozenset(types) if types is not None else None) if isinstance(uids, frozenset) else None
        if key is not None and key in self._uid_selectors:
            return self._uid_selectors[key]
        allowed = np.asarray([i for uid in uids for i in self._ids_by_uid.get(uid, ())
                              if types is None or self._records[i].type in types], dtype=np.int64)
        found = allowed, faiss.IDSelectorBatch(allowed)
        if key is not None:
            if len(self._uid_selectors) >= 32:
                self._uid_selectors.clear()
            self._uid_selectors[key] = found
        return found

    def _exact_subset(self, query: np.ndarray, ids: np.ndarray, k: int) -> list[ChunkHit]:
        """Exact search over a few chunks (filtered HNSW searches): one matrix product."""
        scores = self._vectors_of(ids) @ query[0]
        top = np.argsort(-scores, kind="stable")[:k]
        return [ChunkHit(self._records[int(ids[i])], float(min(1.0, max(-1.0, scores[i])))) for i in top.tolist()]

    def chunk_table(self) -> tuple[np.ndarray, list[str]]:
        """Every chunk id (ascending) and its item's uid, aligned: to map item rows to chunk ids
        with array operations instead of a set of uids per query."""
        ids = sorted(self._records)
        return np.asarray(ids, dtype=np.int64), [self._records[i].uid for i in ids]

    def tune(self, target_recall: float = HNSW_TARGET_RECALL, probes: int = 64, seed: int = 7) -> dict[str, Any]:
        """Pick HNSW's efSearch by measured recall@10 against exact search (no-op for "flat").

        Probes are midpoints of random pairs of stored vectors (queries fall between passages,
        not on them: stored vectors themselves would overstate recall). The smallest efSearch
        reaching `target_recall` is kept (the largest tried, if none does); the figures go into
        the manifest so `kcrm reindex` output says what was chosen and why.
        """
        if self.kind != "hnsw" or self.count() < 20:
            return {}
        rng = np.random.default_rng(seed)
        ids = np.asarray(sorted(self._records), dtype=np.int64)
        pairs = ids[rng.integers(0, len(ids), size=(probes, 2))]
        queries = l2_normalise(self._vectors_of(pairs[:, 0]) + self._vectors_of(pairs[:, 1]))
        truth = np.zeros((probes, 10), dtype=np.int64)
        best = np.full((probes, 10), -np.inf, dtype=np.float32)
        for start in range(0, len(ids), 50_000):  # exact top 10 in slices: bounded memory at 1M chunks
            part = ids[start:start + 50_000]
            scores = queries @ self._vectors_of(part).T
            merged = np.concatenate([best, scores], axis=1)
            merged_ids = np.concatenate([truth, np.broadcast_to(part, scores.shape)], axis=1)
            top = np.argsort(-merged, axis=1)[:, :10]
            best, truth = np.take_along_axis(merged, top, 1), np.take_along_axis(merged_ids, top, 1)
        inner = faiss.downcast_index(self._index.index)
        measured: dict[int, float] = {}
        for ef in HNSW_EF_CHOICES:
            inner.hnsw.efSearch = ef  # type: ignore[attr-defined]
            _, found = self._index.search(queries, 10)
            measured[ef] = float(np.mean([len(set(a.tolist()) & set(b.tolist())) / 10 for a, b in zip(found, truth)]))
            if measured[ef] >= target_recall:
                break
        chosen = next((ef for ef, recall in measured.items() if recall >= target_recall), max(measured))
        inner.hnsw.efSearch = chosen  # type: ignore[attr-defined]
        self.tuning = {"ef_search": chosen, "target_recall_at_10": target_recall,
                       "probe_recall_at_10": {str(ef): round(r, 4) for ef, r in measured.items()}}
        log.info("HNSW efSearch %d chosen by recall@10 on %d probes: %s", chosen, probes, self.tuning)
        return self.tuning

    def search(self, vector: np.ndarray, k: int, types: set[str] | None = None,
               uids: set[str] | None = None, ids: np.ndarray | None = None) -> list[ChunkHit]:
        """The `k` nearest chunks, best first; type and item filters apply inside FAISS, not after it.

        `ids` (chunk ids, e.g. from `chunk_table`) restricts the search like `uids` does, without
        a per-query walk over a set of uids.
        """
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self.dim:
            raise ValueError(f"query vector has {query.shape[1]} dimensions, the index {self.dim}")
        params = None
        available = self.count()
        selector = allowed = None
        bitmap = None  # kept alive while FAISS reads it
        if ids is not None:
            allowed = np.asarray(ids, dtype=np.int64)
            if len(allowed) < available:  # a bitmap over the id range: O(ids / 8), no hash set to build
                flags = np.zeros(self._next_id, dtype=bool)
                flags[allowed] = True
                bitmap = np.packbits(flags, bitorder="little")
                selector = faiss.IDSelectorBitmap(self._next_id, faiss.swig_ptr(bitmap))
        elif uids is not None:
            allowed, selector = self._uid_selector(uids, types)
        elif types is not None:
            allowed, selector = self._type_selector(types)
        if allowed is not None:
            available = len(allowed)
        k = min(k, available)
        if k <= 0:
            return []
        query = l2_normalise(query)
        if selector is not None and self.kind != "flat" and available <= EXACT_SUBSET_LIMIT:
            return self._exact_subset(query, allowed, k)  # type: ignore[arg-type]  # a selector implies allowed
        if selector is not None:
            params = faiss.SearchParameters()
            params.sel = selector
        scores, ids = self._index.search(query, k, params=params)
        return [ChunkHit(self._records[int(i)], float(min(1.0, max(-1.0, s))))
                for s, i in zip(scores[0], ids[0]) if i >= 0]

    # -- persistence ---------------------------------------------------------------------------

    def save(self, directory: Path, watermark: str = "") -> Path:
        """Write to `directory` via a fsynced temporary sibling, then swap it in atomically."""
        target = Path(directory)
        self.manifest = atomic.publish_directory(target, lambda staging: self.write_files(staging, watermark))
        log.info("saved vector index to %s: %d chunks, %d items", target, self.count(), self.item_count())
        return target

    def write_files(self, directory: Path, watermark: str) -> dict[str, Any]:
        """Write the index's files and manifest into an existing (staging) directory."""
        vectors = faiss.serialize_index(self._index).tobytes()
        lines = [json.dumps({"id": i, **asdict(record)}, ensure_ascii=False, default=str)
                 for i, record in sorted(self._records.items())]
        chunks = ("\n".join(lines) + "\n" if lines else "").encode("utf-8")
        return atomic.write_files_and_manifest(
            directory, {VECTORS_FILE: vectors, CHUNKS_FILE: chunks},
            fmt=FORMAT, version=FORMAT_VERSION, watermark=watermark, manifest_file=MANIFEST_FILE,
            details={
                "embedder": {"name": self.embedder_name, "dim": self.dim},
                "index": {"kind": self.kind, "metric": "inner_product", **({"tuning": self.tuning} if self.tuning else {})},
                "counts": {"chunks": self.count(), "items": self.item_count()},
            },
        )

    @classmethod
    def load(cls, directory: Path, expect: Embedder | None = None, attempts: int = 3) -> FaissVectorIndex:
        """Load a saved index, refusing one built for another embedder than `expect`."""
        directory = Path(directory)
        return atomic.load_consistent(lambda: cls.load_once(directory, expect), directory, attempts)

    @classmethod
    def load_once(cls, directory: Path, expect: Embedder | None) -> FaissVectorIndex:
        """One read of a saved index (`atomic.TornRead` when it changed underneath)."""
        manifest = _read_manifest(directory)
        embedder = manifest["embedder"]
        if expect is not None and (embedder["name"] != expect.name or int(embedder["dim"]) != expect.dim):
            raise IndexIncompatible(
                f"the search index at {directory} was built with embedder {embedder['name']!r} "
                f"({embedder['dim']}-d) but the configured one is {expect.name!r} ({expect.dim}-d): "
                "run `kcrm reindex`"
            )
        files = atomic.read_checked(directory, manifest, [VECTORS_FILE, CHUNKS_FILE])
        vectors, chunks = files[VECTORS_FILE], files[CHUNKS_FILE]
        index = cls(int(embedder["dim"]), embedder["name"], manifest["index"]["kind"])
        stored = faiss.deserialize_index(np.frombuffer(vectors, dtype=np.uint8))
        if not isinstance(stored, faiss.IndexIDMap2) or stored.d != index.dim:
            raise IndexIncompatible(f"{directory / VECTORS_FILE} is not a {index.dim}-d id-mapped FAISS index")
        index._index = stored
        if index.kind == "hnsw":
            faiss.downcast_index(stored.index).hnsw.efSearch = HNSW_EF_SEARCH  # type: ignore[attr-defined]
            index.tuning = dict(manifest["index"].get("tuning") or {})
            index._apply_tuning()
        for line in chunks.decode("utf-8").splitlines():
            row = json.loads(line)
            chunk_id = int(row.pop("id"))
            record = ChunkRecord(**row)
            index._records[chunk_id] = record
            index._ids_by_uid.setdefault(record.uid, []).append(chunk_id)
        stored_ids = set(faiss.vector_to_array(index._index.id_map).tolist())
        if stored_ids != set(index._records) or index.count() != manifest["counts"]["chunks"]:
            raise atomic.TornRead("vectors and chunk metadata disagree")
        index._next_id = max(stored_ids, default=-1) + 1
        index.manifest = manifest
        log.info("loaded vector index from %s: %d chunks, %d items, watermark %r", directory,
                 index.count(), index.item_count(), index.watermark)
        return index


def _read_manifest(directory: Path) -> dict[str, Any]:
    return atomic.read_manifest(directory, FORMAT, FORMAT_VERSION, MANIFEST_FILE)
