"""Embeddings kept on disk, keyed by model name and text hash, so experiments embed each text once.

Evaluating a fusion or a weight should not re-run a model over 5,000 abstracts: on a shared
2-core machine that is minutes per run. `CachedEmbedder` wraps any embedder and stores each
vector under `<cache_dir>/<model name digest>/` in append-only `.npz` shards (written every
`FLUSH_EVERY` new vectors and at exit; many small shards are merged into one on open), queries
and passages apart (asymmetric models embed them differently). Never used by the service: a
rebuild reuses only the vectors of the index it replaces (`semantic.ReusingEmbedder`).
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kcrm.search.embedder import Embedder

log = logging.getLogger(__name__)

FLUSH_EVERY = 2048


def text_key(kind: str, text: str) -> str:
    """The cache key of one text: its role ('q' or 'p') and a SHA-1 of its UTF-8 bytes."""
    return kind + hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """The wrapped embedder's vectors, read from disk when they were computed before."""

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.folder = Path(cache_dir) / hashlib.sha1(inner.name.encode("utf-8")).hexdigest()[:16]
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "model.txt").write_text(inner.name + "\n", encoding="utf-8")
        self._vectors: dict[str, np.ndarray] = {}
        shards = sorted(p for p in self.folder.glob("*.npz") if not p.name.endswith(".tmp.npz"))
        for shard in shards:
            with np.load(shard) as data:
                for key, row in zip(data["keys"].tolist(), data["vectors"]):
                    self._vectors[key] = row
        self._pending: list[str] = []
        self._written = 0
        self.hits = self.misses = 0
        if len(shards) > 8:
            self._pending = list(self._vectors)
            self.flush()
            for shard in shards:
                shard.unlink()
        atexit.register(self.flush)

    def flush(self) -> None:
        """Write the vectors computed since the last flush as one new shard."""
        if not self._pending:
            return
        keys, self._pending = self._pending, []
        self._written += 1
        shard = self.folder / f"{os.getpid()}-{time.time_ns()}-{self._written:05d}.npz"
        np.savez(shard.with_suffix(".tmp.npz"), keys=np.array(keys), vectors=np.stack([self._vectors[k] for k in keys]))
        shard.with_suffix(".tmp.npz").rename(shard)

    def _get(self, kind: str, texts: Sequence[str], embed) -> np.ndarray:
        keys = [text_key(kind, t) for t in texts]
        missing = sorted({k: i for i, k in enumerate(keys) if k not in self._vectors}.values())
        self.misses += len(missing)
        self.hits += len(keys) - len(missing)
        if missing:
            fresh = np.asarray(embed([texts[i] for i in missing]), dtype=np.float32)
            for i, row in zip(missing, fresh):
                self._vectors[keys[i]] = row
                self._pending.append(keys[i])
            if len(self._pending) >= FLUSH_EVERY:
                self.flush()
        return np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Cached query vectors (computed by the wrapped embedder when new)."""
        return self._get("q", list(texts), self.inner.embed_queries)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Cached passage vectors (computed by the wrapped embedder when new)."""
        return self._get("p", list(texts), self.inner.embed_passages)
