"""Both indexes published as one generation; HNSW chosen by size; incremental change planning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kcrm.foundation.errors import IndexIncompatible, IndexNotReady
from kcrm.search import generation
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.hybrid import build_lexical_index, lexical_records
from kcrm.search.incremental import plan_changes
from kcrm.search.semantic import IndexItem, SemanticSearch, add_items
from kcrm.search.vector_index import ChunkRecord, FaissVectorIndex, index_kind_for

EMBEDDER = HashingEmbedder(dim=64)
ITEMS = [
    IndexItem("CASE-1", "SupportCase", "Printer driver fails", "The driver fails after the update.", "en",
              {"updatedAt": "1"}),
    IndexItem("CASE-2", "SupportCase", "Refund not received", "I returned the router and want my refund.", "en",
              {"updatedAt": "1"}),
    IndexItem("POL-1", "Policy", "Refund policy", "Refunds are paid within 14 days.", "en", {"updatedAt": "1"}),
]


def built() -> tuple[FaissVectorIndex, object]:
    return SemanticSearch.build(ITEMS, EMBEDDER), build_lexical_index(ITEMS)


def test_publish_writes_one_generation_with_both_indexes(tmp_path: Path) -> None:
    dense, lexical = built()
    first = generation.publish(tmp_path / "index", dense, lexical, "w1")
    second = generation.publish(tmp_path / "index", dense, lexical, "w2")
    assert (first["generation"], second["generation"]) == (1, 2)
    loaded_dense, loaded_lexical, top = generation.load(tmp_path / "index", EMBEDDER)
    assert top["watermark"] == "w2" and top["dense"]["build_id"] == loaded_dense.manifest["build_id"]
    assert loaded_dense.watermark == loaded_lexical.watermark == "w2"
    assert loaded_lexical.item_count() == loaded_dense.item_count() == 3
    assert generation.generation_id(tmp_path / "index") == second["build_id"]


def test_a_side_from_another_build_is_refused_not_mixed(tmp_path: Path) -> None:
    dense, lexical = built()
    generation.publish(tmp_path / "a", dense, lexical, "w1")
    generation.publish(tmp_path / "b", dense, lexical, "w1")
    # graft b's lexical index into a: the top manifest names another build, so reads retry, then give up
    target = tmp_path / "a" / generation.LEXICAL_DIR
    for path in (tmp_path / "b" / generation.LEXICAL_DIR).iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    with pytest.raises(IndexNotReady, match="damaged"):
        generation.load(tmp_path / "a", EMBEDDER, attempts=1)


def test_an_old_single_index_layout_asks_for_a_reindex(tmp_path: Path) -> None:
    dense, _ = built()
    dense.save(tmp_path / "index")
    with pytest.raises(IndexIncompatible, match="kcrm reindex"):
        generation.load(tmp_path / "index", EMBEDDER)
    assert generation.generation_id(tmp_path / "nothing") is None


def test_plan_changes_finds_new_changed_and_removed() -> None:
    new, changed, removed = plan_changes({"a": "1", "b": "1", "c": "1"}, {"a": "1", "b": "2", "d": "1"})
    assert (new, changed, removed) == ({"d"}, {"b"}, {"c"})


def test_upsert_and_delete_in_place_match_a_fresh_build(tmp_path: Path) -> None:
    dense, lexical = built()
    changed = IndexItem("CASE-2", "SupportCase", "Refund arrived late", "The refund came after six weeks.", "en",
                        {"updatedAt": "2"})
    added = IndexItem("DOC-9", "Document", "Toner guide", "Replace the toner cartridge.", "en", {"updatedAt": "1"})
    for index in (dense, lexical):
        index.remove({"CASE-2", "POL-1"})
    lexical.add(list(lexical_records([changed, added])))
    add_items(dense, [changed, added], EMBEDDER)
    fresh = [ITEMS[0], changed, added]
    fresh_dense, fresh_lexical = SemanticSearch.build(fresh, EMBEDDER), build_lexical_index(fresh)
    assert dense.uids() == fresh_dense.uids() == lexical.uids() == {"CASE-1", "CASE-2", "DOC-9"}
    query = EMBEDDER.embed_queries(["refund came late"])[0]
    assert [h.record.uid for h in dense.search(query, 3)] == [h.record.uid for h in fresh_dense.search(query, 3)]
    assert np.allclose(lexical.scores("refund toner"), fresh_lexical.scores("refund toner"))


def test_index_kind_follows_the_exact_limit() -> None:
    assert index_kind_for(10, exact_limit=100) == "flat"
    assert index_kind_for(100, exact_limit=100) == "flat"
    assert index_kind_for(101, exact_limit=100) == "hnsw"
    assert SemanticSearch.build(ITEMS, EMBEDDER, exact_limit=1).kind == "hnsw"
    assert SemanticSearch.build(ITEMS, EMBEDDER, exact_limit=1000).kind == "flat"


def _records(n: int) -> list[ChunkRecord]:
    return [ChunkRecord(f"U{i}#0", f"U{i}", "SupportCase" if i % 10 else "Policy", "", "", "en") for i in range(n)]


def test_hnsw_recall_against_exact_and_filtered_search_stays_exact() -> None:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(50, 32))
    vectors = (centres[rng.integers(0, 50, 3000)] + 0.3 * rng.normal(size=(3000, 32))).astype(np.float32)
    records = _records(3000)
    flat, hnsw = FaissVectorIndex(32, "x"), FaissVectorIndex(32, "x", kind="hnsw")
    flat.add(records, vectors)
    hnsw.add(records, vectors)
    queries = vectors[:50] + 0.1 * rng.normal(size=(50, 32)).astype(np.float32)
    recall = np.mean([len({h.record.uid for h in flat.search(q, 10)} & {h.record.uid for h in hnsw.search(q, 10)}) / 10
                      for q in queries])
    assert recall >= 0.9
    for q in queries[:10]:  # a selective filter (300 policies) is answered exactly
        assert [h.record.uid for h in hnsw.search(q, 10, types={"Policy"})] == \
               [h.record.uid for h in flat.search(q, 10, types={"Policy"})]
    hnsw.remove({"U1", "U2"})
    assert hnsw.count() == 2998 and "U1" not in {h.record.uid for h in hnsw.search(vectors[1], 5)}
    converted = flat.rebuilt("hnsw")
    assert converted.kind == "hnsw" and converted.count() == 3000
    assert converted.search(vectors[5], 1)[0].record.uid == "U5"
