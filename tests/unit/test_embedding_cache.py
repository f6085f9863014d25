"""The experiments' embedding cache: a text is embedded once per model and role, across processes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kcrm.search.embedder import HashingEmbedder
from kcrm.search.embedding_cache import CachedEmbedder


class Counting(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(dim=32)
        self.embedded = 0

    def _embed(self, texts):
        self.embedded += len(texts)
        return super()._embed(texts)


def test_vectors_come_back_from_disk_and_equal_fresh_ones(tmp_path: Path) -> None:
    inner = Counting()
    cached = CachedEmbedder(inner, tmp_path)
    texts = ["refund policy", "退款政策", "refund policy"]
    first = cached.embed_passages(texts)
    assert inner.embedded == 2 and np.allclose(first, inner.embed_passages(texts))
    cached.flush()
    again = Counting()
    reopened = CachedEmbedder(again, tmp_path)
    assert np.allclose(reopened.embed_passages(texts), first) and again.embedded == 0
    reopened.embed_queries(["refund policy"])  # queries are cached apart from passages
    assert again.embedded == 1


def test_another_model_name_gets_its_own_folder(tmp_path: Path) -> None:
    a = CachedEmbedder(HashingEmbedder(dim=32), tmp_path)
    b = CachedEmbedder(HashingEmbedder(dim=32, ngram=(3, 3)), tmp_path)
    assert a.folder != b.folder
