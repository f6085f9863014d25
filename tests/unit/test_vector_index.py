"""The vector index and semantic search over it, with the hashing embedder (no model needed).

`VectorIndexContract` holds the behaviour every `VectorIndex` backend owes; a new backend's test
class inherits it and supplies `make_index` and `load_index`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from kcrm.foundation.errors import BadQuery, IndexNotReady
from kcrm.search import atomic
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.semantic import IndexItem, SemanticSearch, make_snippet, query_terms
from kcrm.search.vector_index import (
    CHUNKS_FILE,
    MANIFEST_FILE,
    VECTORS_FILE,
    ChunkRecord,
    FaissVectorIndex,
    IndexIncompatible,
    VectorIndex,
)

EMBEDDER = HashingEmbedder(dim=128)

LONG_CASE = " ".join(f"Step {i}: the printer driver fails again after the update." for i in range(30))
ITEMS = [
    IndexItem("CASE-1", "SupportCase", "Printer driver fails", LONG_CASE, "en", {"status": "resolved"}),
    IndexItem("CASE-2", "SupportCase", "Refund not received", "I returned the router and want my refund.", "en", {}),
    IndexItem("CASE-3", "SupportCase", "退款没有到账", "客户退回了路由器，要求退款。", "zh", {"product": "AX3000"}),
    IndexItem("DOC-1", "Document", "Printer driver install guide", "How to install the printer driver.", "en", {}),
    IndexItem("POL-1", "Policy", "Refund policy", "Refunds are paid within 14 days of the return.", "en", {}),
]


def record(uid: str, n: int = 0, type_: str = "SupportCase") -> ChunkRecord:
    return ChunkRecord(chunk_id=f"{uid}#{n}", uid=uid, type=type_, title=uid, text=f"text of {uid}", language="en",
                       meta={"n": n})


def unit_vectors(count: int, dim: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class VectorIndexContract:
    """Behaviour any VectorIndex backend must show."""

    def make_index(self, dim: int, name: str) -> VectorIndex:
        raise NotImplementedError

    def load_index(self, directory: Path, expect: HashingEmbedder | None = None) -> VectorIndex:
        raise NotImplementedError

    def filled(self, count: int = 6, dim: int = 16) -> tuple[VectorIndex, np.ndarray]:
        index = self.make_index(dim, "test-embedder")
        vectors = unit_vectors(count, dim)
        types = ["SupportCase", "Document"]
        index.add([record(f"U{i // 2}", i % 2, types[i % 2]) for i in range(count)], vectors)
        return index, vectors

    def test_counts_chunks_and_items(self) -> None:
        index, _ = self.filled()
        assert (index.count(), index.item_count()) == (6, 3)

    def test_vectors_returns_what_was_stored(self) -> None:
        index, vectors = self.filled()
        np.testing.assert_allclose(index.vectors(), vectors, atol=1e-6)

    def test_nearest_is_the_vector_itself_with_cosine_one(self) -> None:
        index, vectors = self.filled()
        hits = index.search(vectors[4], k=3)
        assert hits[0].record.chunk_id == "U2#0"
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    def test_type_filter_applies_before_k(self) -> None:
        index, vectors = self.filled()
        hits = index.search(vectors[0], k=10, types={"Document"})
        assert len(hits) == 3 and {h.record.type for h in hits} == {"Document"}
        assert index.search(vectors[0], k=10, types={"Nothing"}) == []

    def test_wrong_shapes_are_refused(self) -> None:
        index, _ = self.filled()
        with pytest.raises(ValueError):
            index.add([record("X")], np.zeros((2, 16), dtype=np.float32))
        with pytest.raises(ValueError):
            index.search(np.zeros(8, dtype=np.float32), k=1)

    def test_empty_index_returns_no_hits(self) -> None:
        index = self.make_index(16, "test-embedder")
        assert index.search(unit_vectors(1, 16)[0], k=5) == []

    def test_save_load_round_trip(self, tmp_path: Path) -> None:
        index, vectors = self.filled()
        index.save(tmp_path / "index", watermark="2025-01-01T00:00:00Z|6")
        loaded = self.load_index(tmp_path / "index")
        assert (loaded.count(), loaded.item_count(), loaded.dim, loaded.embedder_name) == (6, 3, 16, "test-embedder")
        before = [(h.record, round(h.score, 5)) for h in index.search(vectors[1], k=6)]
        after = [(h.record, round(h.score, 5)) for h in loaded.search(vectors[1], k=6)]
        assert before == after

    def test_missing_index_is_not_ready(self, tmp_path: Path) -> None:
        with pytest.raises(IndexNotReady, match="reindex"):
            self.load_index(tmp_path / "nowhere")


class TestFaissVectorIndex(VectorIndexContract):
    def make_index(self, dim: int, name: str) -> FaissVectorIndex:
        return FaissVectorIndex(dim, name)

    def load_index(self, directory: Path, expect: HashingEmbedder | None = None) -> FaissVectorIndex:
        return FaissVectorIndex.load(directory, expect=expect)

    def test_manifest_and_files(self, tmp_path: Path) -> None:
        index, _ = self.filled()
        index.save(tmp_path / "index", watermark="mark-1")
        assert sorted(os.listdir(tmp_path / "index")) == sorted([CHUNKS_FILE, MANIFEST_FILE, VECTORS_FILE])
        manifest = json.loads((tmp_path / "index" / MANIFEST_FILE).read_text())
        assert manifest["embedder"] == {"name": "test-embedder", "dim": 16}
        assert manifest["counts"] == {"chunks": 6, "items": 3}
        assert manifest["watermark"] == "mark-1" and manifest["format_version"] == 1
        assert manifest["created_at"]
        assert FaissVectorIndex.load(tmp_path / "index").watermark == "mark-1"
        assert os.listdir(tmp_path) == ["index"], "staging directories left behind"

    def test_failed_save_leaves_the_previous_index_intact(self, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
        old, vectors = self.filled()
        old.save(tmp_path / "index", watermark="old")
        new = FaissVectorIndex(16, "test-embedder")
        new.add([record("NEW")], unit_vectors(1, 16, seed=9))
        real_write = atomic.write_durably

        def write_then_fail(path: Path, data: bytes) -> None:
            if path.name == CHUNKS_FILE:
                path.write_bytes(data[: len(data) // 2])
                raise OSError("disk full")
            real_write(path, data)

        monkeypatch.setattr(atomic, "write_durably", write_then_fail)
        with pytest.raises(OSError, match="disk full"):
            new.save(tmp_path / "index", watermark="new")
        monkeypatch.undo()
        loaded = FaissVectorIndex.load(tmp_path / "index")
        assert (loaded.watermark, loaded.count(), loaded.item_count()) == ("old", 6, 3)
        assert loaded.search(vectors[0], k=1)[0].record.chunk_id == "U0#0"
        assert os.listdir(tmp_path) == ["index"]

    def test_replacing_an_index_without_atomic_exchange(self, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
        first, _ = self.filled()
        first.save(tmp_path / "index", watermark="one")
        first.save(tmp_path / "index", watermark="two")
        assert FaissVectorIndex.load(tmp_path / "index").watermark == "two"
        assert os.listdir(tmp_path) == ["index"]

    def test_embedder_mismatch_is_a_clear_error(self, tmp_path: Path) -> None:
        index = SemanticSearch.build(ITEMS, EMBEDDER)
        index.save(tmp_path / "index")
        with pytest.raises(IndexIncompatible, match=r"hashing-char-ngrams-2-4.*128-d.*64-d.*reindex"):
            FaissVectorIndex.load(tmp_path / "index", expect=HashingEmbedder(dim=64))
        with pytest.raises(IndexIncompatible, match="hashing-char-ngrams-3-3"):
            FaissVectorIndex.load(tmp_path / "index", expect=HashingEmbedder(dim=128, ngram=(3, 3)))
        assert FaissVectorIndex.load(tmp_path / "index", expect=EMBEDDER).count() == index.count()

    def test_other_format_version_is_incompatible(self, tmp_path: Path) -> None:
        index, _ = self.filled()
        index.save(tmp_path / "index")
        path = tmp_path / "index" / MANIFEST_FILE
        manifest = json.loads(path.read_text())
        path.write_text(json.dumps({**manifest, "format_version": 99}))
        with pytest.raises(IndexIncompatible, match="version 99"):
            FaissVectorIndex.load(tmp_path / "index")

    def test_damaged_files_are_detected(self, tmp_path: Path) -> None:
        index, _ = self.filled()
        index.save(tmp_path / "index")
        with open(tmp_path / "index" / VECTORS_FILE, "r+b") as handle:
            handle.seek(-4, os.SEEK_END)
            handle.write(b"\xff\xff\xff\xff")
        with pytest.raises(IndexNotReady, match="damaged"):
            FaissVectorIndex.load(tmp_path / "index", attempts=1)

    def test_remove_by_item_then_add_and_round_trip(self, tmp_path: Path) -> None:
        index, vectors = self.filled()
        assert index.remove(["U1", "absent"]) == 2
        assert (index.count(), index.item_count()) == (4, 2)
        assert all(h.record.uid != "U1" for h in index.search(vectors[2], k=10))
        index.add([record("U1", 0)], vectors[2:3])
        index.save(tmp_path / "index")
        loaded = FaissVectorIndex.load(tmp_path / "index")
        assert loaded.uids() == {"U0", "U1", "U2"}
        assert loaded.search(vectors[2], k=1)[0].record.chunk_id == "U1#0"


# -- semantic search over the index ---------------------------------------------------------


@pytest.fixture(scope="module")
def search() -> SemanticSearch:
    return SemanticSearch(SemanticSearch.build(ITEMS, EMBEDDER, target_chars=200, overlap_chars=40), EMBEDDER)


def test_build_chunks_long_items(search: SemanticSearch) -> None:
    assert search.item_count == len(ITEMS)
    assert search.chunk_count > len(ITEMS)


def test_one_hit_per_item_best_chunk_wins(search: SemanticSearch) -> None:
    hits = search.search("printer driver fails after the update", k=10)
    uids = [h.uid for h in hits]
    assert len(uids) == len(set(uids)) == len(ITEMS)
    assert uids[0] == "CASE-1"
    assert hits[0].chunk_id.startswith("CASE-1#")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(-1.0 <= h.score <= 1.0 for h in hits)


def test_k_counts_items_not_chunks(search: SemanticSearch) -> None:
    assert {h.uid for h in search.search("printer driver", k=2)} == {"CASE-1", "DOC-1"}


def test_fetches_deeper_when_one_item_owns_the_top_chunks() -> None:
    many = IndexItem("BIG", "Document", "", "\n\n".join(["printer driver fails"] * 80), "en", {})
    other = IndexItem("SMALL", "Document", "", "printer toner", "en", {})
    engine = SemanticSearch(SemanticSearch.build([many, other], EMBEDDER, target_chars=60, overlap_chars=0),
                            EMBEDDER)
    assert engine.chunk_count > 32  # more than the first fetch
    assert [h.uid for h in engine.search("printer driver fails", k=2)] == ["BIG", "SMALL"]


def test_types_filter(search: SemanticSearch) -> None:
    hits = search.search("refund", k=10, types={"Policy", "Document"})
    assert {h.type for h in hits} == {"Policy", "Document"}
    assert hits[0].uid == "POL-1"
    assert search.search("refund", types=set()) == []


def test_hit_carries_metadata(search: SemanticSearch) -> None:
    hit = next(h for h in search.search("退款", k=5) if h.uid == "CASE-3")
    assert (hit.title, hit.language, hit.meta, hit.type) == ("退款没有到账", "zh", {"product": "AX3000"}, "SupportCase")
    assert "退款" in hit.snippet


@pytest.mark.parametrize("query", ["", "   ", "x" * 1001])
def test_bad_queries_are_refused(search: SemanticSearch, query: str) -> None:
    with pytest.raises(BadQuery):
        search.search(query)


@pytest.mark.parametrize("k", [0, -1, 1001])
def test_bad_k_is_refused(search: SemanticSearch, k: int) -> None:
    with pytest.raises(BadQuery):
        search.search("printer", k=k)


def test_search_refuses_an_index_from_another_embedder() -> None:
    index = SemanticSearch.build(ITEMS[:1], EMBEDDER)
    with pytest.raises(IndexIncompatible):
        SemanticSearch(index, HashingEmbedder(dim=64))


def test_load_round_trip_searches_the_same(tmp_path: Path, search: SemanticSearch) -> None:
    search.index.save(tmp_path / "index", watermark="w")
    loaded = SemanticSearch.load(tmp_path / "index", EMBEDDER)
    assert [(h.uid, round(h.score, 5)) for h in loaded.search("refund policy")] == \
        [(h.uid, round(h.score, 5)) for h in search.search("refund policy")]


def test_duplicate_uids_keep_the_first() -> None:
    index = SemanticSearch.build([ITEMS[1], ITEMS[1]], EMBEDDER)
    assert (index.count(), index.item_count()) == (1, 1)


def test_snippet_centres_on_a_query_term() -> None:
    text = "Intro sentence. " * 30 + "The refund arrived late because of a bank holiday. " + "Outro words. " * 30
    snippet = make_snippet(text, "Why was my refund late?")
    assert "refund arrived late" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) <= 242
    assert not snippet[1:].startswith(("ntro", "ntence"))  # cut at a word boundary


def test_snippet_without_a_match_is_the_start() -> None:
    text = "Alpha beta gamma. " * 40
    snippet = make_snippet(text, "printer")
    assert snippet.startswith("Alpha beta") and snippet.endswith("…")
    assert make_snippet("short text", "x") == "short text"


def test_snippet_finds_chinese_terms() -> None:
    text = "客户来电咨询。" * 50 + "退款已于昨日到账。" + "谢谢。" * 50
    assert "退款已于昨日到账" in make_snippet(text, "退款什么时候到账")


def test_query_terms_mix_english_words_and_chinese_bigrams() -> None:
    terms = query_terms("Refund the 路由器 please")
    assert {"refund", "please", "路由器", "路由", "由器"} <= set(terms)
    assert "the" not in terms
    assert terms[0] in ("refund", "please")


class TestHnswVectorIndex(VectorIndexContract):
    """The same contract for the approximate kind used above KCRM_SEARCH_EXACT_LIMIT."""

    def make_index(self, dim: int, name: str) -> FaissVectorIndex:
        return FaissVectorIndex(dim, name, kind="hnsw")

    def load_index(self, directory: Path, expect: HashingEmbedder | None = None) -> FaissVectorIndex:
        index = FaissVectorIndex.load(directory, expect=expect)
        assert index.kind == "hnsw"
        return index


def test_hnsw_search_width_is_chosen_by_measured_recall(tmp_path: Path) -> None:
    vectors = unit_vectors(3000, 32, seed=5)
    exact = FaissVectorIndex(32, "test-embedder", kind="flat")
    exact.add([record(f"U{i}") for i in range(3000)], vectors)
    approx = exact.rebuilt("hnsw")  # tuned as it is rebuilt
    tuning = approx.tuning
    chosen = tuning["ef_search"]
    assert tuning["probe_recall_at_10"][str(chosen)] >= tuning["target_recall_at_10"]
    assert all(r < tuning["target_recall_at_10"] for ef, r in tuning["probe_recall_at_10"].items() if int(ef) < chosen)
    approx.save(tmp_path / "hnsw")
    loaded = FaissVectorIndex.load(tmp_path / "hnsw")
    assert loaded.tuning == tuning
    probe = unit_vectors(30, 32, seed=9)
    hits = [{h.record.uid for h in loaded.search(v, 10)} for v in probe]
    truth = [{h.record.uid for h in exact.search(v, 10)} for v in probe]
    assert np.mean([len(a & b) / 10 for a, b in zip(hits, truth)]) >= 0.9


def test_search_restricted_to_chunk_ids_uses_only_them() -> None:
    vectors = unit_vectors(500, 16, seed=2)
    for kind in ("flat", "hnsw"):
        index = FaissVectorIndex(16, "test-embedder", kind=kind)
        index.add([record(f"U{i}") for i in range(500)], vectors)
        ids, uids = index.chunk_table()
        assert len(ids) == 500 and uids[7] == "U7"
        allowed = ids[::3]
        hits = index.search(vectors[1], 20, ids=allowed)
        assert len(hits) == 20 and {h.record.uid for h in hits} <= {uids[i] for i in allowed.tolist()}, kind
        assert index.search(vectors[1], 5, ids=ids)[0].record.uid == "U1"
