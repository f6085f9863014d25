"""A rebuild reuses the vectors of passages the previous index already embedded (same embedder only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from kcrm.foundation.errors import IndexIncompatible
from kcrm.search.chunking import chunk_text, passage_text
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.semantic import IndexItem, ReusingEmbedder, SemanticSearch


class Counting(HashingEmbedder):
    """The hashing embedder, counting the passages it really embeds."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.passages: list[str] = []

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages.extend(texts)
        return super().embed_passages(texts)


LONG = " ".join(f"Sentence {n} says the printer driver needs reinstalling after update {n}." for n in range(40))
ITEMS = [IndexItem("C1", "SupportCase", "Printer  driver\tbroken", LONG, "en", {"tier": "gold"}),
         IndexItem("C2", "SupportCase", "", "Refund for a double charge.", "en"),
         IndexItem("C3", "Document", "Title only", "", "en"),
         IndexItem("C4", "Document", "退款政策", "退款在十四天内处理。", "zh")]


def test_chunk_passage_text_is_rebuilt_from_the_stored_record() -> None:
    index = SemanticSearch.build(ITEMS, HashingEmbedder(), batch_size=3)
    stored = {record.chunk_id: record for record in index._records.values()}
    for item in ITEMS:
        for chunk in chunk_text(item.uid, item.title, item.text):
            record = stored[chunk.chunk_id]
            assert passage_text(record.title, record.text) == chunk.embed_text


def test_a_rebuild_embeds_only_changed_passages_and_gives_the_same_vectors() -> None:
    first = SemanticSearch.build(ITEMS, HashingEmbedder(), batch_size=3)
    changed = [*ITEMS[:3], IndexItem("C4", "Document", "退款政策", "退款在七天内处理。", "zh"),
               IndexItem("C5", "SupportCase", "New case", "A new text.", "en")]
    changed[0] = IndexItem("C1", "SupportCase", ITEMS[0].title, LONG, "en", {"tier": "silver"})  # metadata only
    counting = Counting()
    reusing = ReusingEmbedder(counting, first)
    second = SemanticSearch.build(changed, reusing, batch_size=3)
    assert sorted(counting.passages) == sorted(["退款政策\n退款在七天内处理。", "New case\nA new text."])
    assert reusing.embedded == 2 and reusing.reused == second.count() - 2
    fresh = SemanticSearch.build(changed, HashingEmbedder(), batch_size=3)
    assert np.allclose(second.vectors(), fresh.vectors(), atol=1e-6)
    assert [r.meta for r in second._records.values()] == [r.meta for r in fresh._records.values()]
    query = reusing.embed_queries(["printer driver"])[0]
    assert [h.record.chunk_id for h in second.search(query, 5)] == [h.record.chunk_id for h in fresh.search(query, 5)]


def test_vectors_of_another_embedder_are_never_reused() -> None:
    first = SemanticSearch.build(ITEMS, HashingEmbedder(ngram=(2, 3)))
    with pytest.raises(IndexIncompatible):
        ReusingEmbedder(HashingEmbedder(), first)


def test_without_a_published_index_every_passage_is_embedded(tmp_path) -> None:
    from kcrm.foundation.config import Settings
    from kcrm.search.service import reusing_embedder

    embedder = reusing_embedder(Settings(data_dir=tmp_path, embedder="hashing"))
    assert not isinstance(embedder, ReusingEmbedder) and embedder.name == HashingEmbedder().name
