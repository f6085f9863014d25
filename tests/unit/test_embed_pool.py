"""Bulk embedding in worker processes returns the in-process vectors, in input order."""

from __future__ import annotations

import numpy as np
import pytest

from kcrm.foundation.config import Settings
from kcrm.search.embed_pool import MIN_POOLED, PooledEmbedder, running_pools
from kcrm.search.embedder import HashingEmbedder, bulk_workers, make_embedder


def test_pooled_passages_equal_in_process_ones_in_input_order() -> None:
    inner = HashingEmbedder()
    pooled = PooledEmbedder(inner, Settings(embedder="hashing"), workers=2)
    try:
        texts = [("word " * (i % 17)) + f"text {i} 文本" for i in range(3 * MIN_POOLED + 5)]
        assert np.allclose(pooled.embed_passages(texts), inner.embed_passages(texts), atol=1e-6)
        assert pooled._pool is not None  # the batch was large enough to go to the workers
        assert np.allclose(pooled.embed_queries(["refund"]), inner.embed_queries(["refund"]))
        assert pooled.name == inner.name and pooled.dim == inner.dim
    finally:
        pooled.close()


def test_small_batches_never_start_a_pool() -> None:
    pooled = PooledEmbedder(HashingEmbedder(), Settings(embedder="hashing"), workers=2)
    pooled.embed_passages(["a", "b"])
    assert pooled._pool is None


def test_one_worker_is_no_pool() -> None:
    with pytest.raises(ValueError):
        PooledEmbedder(HashingEmbedder(), Settings(embedder="hashing"), workers=1)
    assert bulk_workers(Settings(embed_workers=3)) == 3
    assert bulk_workers(Settings()) >= 1
    assert isinstance(make_embedder(Settings(embedder="hashing", embed_workers=2)), HashingEmbedder)


def test_embedders_of_one_configuration_share_one_pool() -> None:
    """Each reindex or incremental update makes an embedder; they must not each leave a pool behind."""
    texts = [f"text {i}" for i in range(2 * MIN_POOLED)]
    first = PooledEmbedder(HashingEmbedder(), Settings(embedder="hashing"), workers=2)
    second = PooledEmbedder(HashingEmbedder(), Settings(embedder="hashing"), workers=2)
    try:
        before = running_pools()
        first.embed_passages(texts)
        second.embed_passages(texts)
        assert running_pools() == before + 1 and first._pool is second._pool
        pids = {p.pid for p in first._pool._processes.values()}  # type: ignore[union-attr]
        assert len(pids) == 2
    finally:
        first.close()
    assert second._pool is None
