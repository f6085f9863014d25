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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

from kcrm.errors import IndexIncompatible
from kcrm.search import atomic
from kcrm.search.embedder import Embedder, l2_normalise

log = logging.getLogger(__name__)

FORMAT = "kcrm-vector-index"
FORMAT_VERSION = 1
VECTORS_FILE = "vectors.faiss"
CHUNKS_FILE = "chunks.jsonl"
MANIFEST_FILE = "manifest.json"
# MODELS.md: exact search over 100k vectors takes ~5 ms a query on 2 cores. Past this size an
# approximate (HNSW) variant pays off; `index_kind_for` is where it will be chosen.
EXACT_SEARCH_LIMIT = 200_000
# One query at a time needs no OpenMP team, and an idle team spinning beside the embedder's BLAS
# threads made each search ~8 ms instead of ~1.3 ms on 2 cores. Concurrency comes from requests.
FAISS_THREADS = 1


@dataclass
class ChunkRecord:
    """What a hit needs to show without asking the graph again."""

    chunk_id: str
    uid: str
    type: str
    title: str
    text: str
    language: str
    meta: dict[str, Any] = field(default_factory=dict)
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class ChunkHit:
    """One chunk and its cosine similarity to the query."""

    record: ChunkRecord
    score: float


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


def index_kind_for(n_vectors: int) -> str:
    """The FAISS structure for an index of this size: exact ("flat") until HNSW is built."""
    if n_vectors > EXACT_SEARCH_LIMIT:
        log.info("%d vectors exceed the exact-search limit %d; HNSW is not implemented yet, using flat",
                 n_vectors, EXACT_SEARCH_LIMIT)
    return "flat"


def _new_faiss_index(dim: int, kind: str) -> faiss.IndexIDMap2:
    """An empty index addressed by our own int64 ids, so items can be removed and replaced."""
    if faiss.omp_get_max_threads() != FAISS_THREADS:
        faiss.omp_set_num_threads(FAISS_THREADS)
    if kind != "flat":
        raise ValueError(f"unsupported index kind {kind!r}")
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


class FaissVectorIndex:
    """Exact inner-product search over unit vectors (so scores are cosine similarities).

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
        self._selectors: dict[frozenset[str], tuple[int, Any]] = {}
        self._uid_selectors: dict[tuple[frozenset[str], frozenset[str] | None], tuple[int, Any]] = {}
        self._next_id = 0

    @classmethod
    def for_embedder(cls, embedder: Embedder, expected_vectors: int = 0) -> FaissVectorIndex:
        """An empty index matching `embedder`, of the kind suited to the expected size."""
        return cls(embedder.dim, embedder.name, index_kind_for(expected_vectors))

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
        self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(doomed, dtype=np.int64)))
        for chunk_id in doomed:
            del self._records[chunk_id]
        self._selectors.clear()
        self._uid_selectors.clear()
        return len(doomed)

    def _type_selector(self, types: set[str]) -> tuple[int, Any]:
        """How many chunks have these types, and a FAISS selector for them (None: all do)."""
        key = frozenset(types)
        if key not in self._selectors:
            allowed = [i for i, record in self._records.items() if record.type in key]
            selector = None
            if len(allowed) < self.count():
                selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            self._selectors[key] = (len(allowed), selector)
        return self._selectors[key]

    def _uid_selector(self, uids: set[str], types: set[str] | None) -> tuple[int, Any]:
        """How many chunks belong to these items (of these types), and a FAISS selector for them.

        A frozenset of uids (what a caller's access groups allow, asked for on every query) is
        remembered, so the selector is built once per group set rather than per query.
        """
        key = (uids, frozenset(types) if types is not None else None) if isinstance(uids, frozenset) else None
        if key is not None and key in self._uid_selectors:
            return self._uid_selectors[key]
        allowed = [i for uid in uids for i in self._ids_by_uid.get(uid, ())
                   if types is None or self._records[i].type in types]
        found = len(allowed), faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        if key is not None:
            if len(self._uid_selectors) >= 32:
                self._uid_selectors.clear()
            self._uid_selectors[key] = found
        return found

    def search(self, vector: np.ndarray, k: int, types: set[str] | None = None,
               uids: set[str] | None = None) -> list[ChunkHit]:
        """The `k` nearest chunks, best first; type and item filters apply inside FAISS, not after it."""
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self.dim:
            raise ValueError(f"query vector has {query.shape[1]} dimensions, the index {self.dim}")
        params = None
        available = self.count()
        selector = None
        if uids is not None:
            available, selector = self._uid_selector(uids, types)
        elif types is not None:
            available, selector = self._type_selector(types)
        if selector is not None:
            params = faiss.SearchParameters()
            params.sel = selector
        k = min(k, available)
        if k <= 0:
            return []
        scores, ids = self._index.search(l2_normalise(query), k, params=params)
        return [ChunkHit(self._records[int(i)], float(min(1.0, max(-1.0, s))))
                for s, i in zip(scores[0], ids[0]) if i >= 0]

    # -- persistence ---------------------------------------------------------------------------

    def save(self, directory: Path, watermark: str = "") -> Path:
        """Write to `directory` via a fsynced temporary sibling, then swap it in atomically."""
        target = Path(directory)
        self.manifest = atomic.publish_directory(target, lambda staging: self._write_files(staging, watermark))
        log.info("saved vector index to %s: %d chunks, %d items", target, self.count(), self.item_count())
        return target

    def _write_files(self, directory: Path, watermark: str) -> dict[str, Any]:
        vectors = faiss.serialize_index(self._index).tobytes()
        lines = [json.dumps({"id": i, **asdict(record)}, ensure_ascii=False, default=str)
                 for i, record in sorted(self._records.items())]
        chunks = ("\n".join(lines) + "\n" if lines else "").encode("utf-8")
        return atomic.write_files_and_manifest(
            directory, {VECTORS_FILE: vectors, CHUNKS_FILE: chunks},
            fmt=FORMAT, version=FORMAT_VERSION, watermark=watermark, manifest_file=MANIFEST_FILE,
            details={
                "embedder": {"name": self.embedder_name, "dim": self.dim},
                "index": {"kind": self.kind, "metric": "inner_product"},
                "counts": {"chunks": self.count(), "items": self.item_count()},
            },
        )

    @classmethod
    def load(cls, directory: Path, expect: Embedder | None = None, attempts: int = 3) -> FaissVectorIndex:
        """Load a saved index, refusing one built for another embedder than `expect`."""
        directory = Path(directory)
        return atomic.load_consistent(lambda: cls._load_once(directory, expect), directory, attempts)

    @classmethod
    def _load_once(cls, directory: Path, expect: Embedder | None) -> FaissVectorIndex:
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
