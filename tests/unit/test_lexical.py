"""The BM25 lexical index: scoring sanity, filters, updates and atomic persistence.

`LexicalIndexContract` holds what every `LexicalIndex` backend owes; a new backend's test class
inherits it and supplies `make_index` and `load_index`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from kcrm.foundation.errors import IndexIncompatible, IndexNotReady
from kcrm.search import atomic
from kcrm.search.lexical import DOCS_FILE, MANIFEST_FILE, POSTINGS_FILE, TERMS_FILE, BM25Index, LexicalIndex
from kcrm.search.tokenizer import TextAnalyzer
from kcrm.search.vector_index import ChunkRecord

PLAIN = TextAnalyzer(stem=False, stopwords=False, cjk="words")


def rec(uid: str, text: str, type_: str = "SupportCase", title: str = "") -> ChunkRecord:
    return ChunkRecord(chunk_id=uid, uid=uid, type=type_, title=title, text=text, language="en", meta={"k": uid})


CORPUS = [
    rec("C1", "printer driver fails after the update"),
    rec("C2", "refund for the returned router has not arrived"),
    rec("C3", "客户要求退款，路由器已经退回", title="退款没有到账"),
    rec("D1", "how to install the printer driver on windows", "Document"),
    rec("P1", "refunds are paid within fourteen days", "Policy", title="Refund policy"),
]


class LexicalIndexContract:
    """Behaviour any LexicalIndex backend must show."""

    def make_index(self) -> LexicalIndex:
        raise NotImplementedError

    def load_index(self, directory: Path) -> LexicalIndex:
        raise NotImplementedError

    def filled(self) -> LexicalIndex:
        index = self.make_index()
        index.add(CORPUS)
        return index

    def test_matching_records_only_best_first(self) -> None:
        hits = self.filled().search("printer driver", k=10)
        assert [h.record.uid for h in hits][:2] in (["C1", "D1"], ["D1", "C1"])
        assert {h.record.uid for h in hits} == {"C1", "D1"}
        assert hits[0].score >= hits[1].score > 0

    def test_chinese_query_finds_the_chinese_record(self) -> None:
        hits = self.filled().search("退款", k=3)
        assert hits and hits[0].record.uid == "C3"

    def test_type_filter_applies_before_ranking(self) -> None:
        index = self.filled()
        hits = index.search("printer driver", k=1, types={"Document"})
        assert [h.record.uid for h in hits] == ["D1"]
        assert index.search("printer", k=5, types={"Policy"}) == []

    def test_no_match_and_unknown_words_give_nothing(self) -> None:
        assert self.filled().search("zeppelin", k=5) == []

    def test_remove_then_re_add(self) -> None:
        index = self.filled()
        assert index.remove(["C1", "nope"]) == 1
        assert [h.record.uid for h in index.search("printer", k=5)] == ["D1"]
        index.add([rec("C1", "printer jams")])
        assert {h.record.uid for h in index.search("printer", k=5)} == {"C1", "D1"}
        assert index.count() == 5 and index.item_count() == 5

    def test_save_and_load_round_trip(self, tmp_path: Path) -> None:
        index = self.filled()
        before = [(h.record, h.score) for h in index.search("refund router", k=5)]
        index.save(tmp_path / "lexical", watermark="w1")
        loaded = self.load_index(tmp_path / "lexical")
        after = [(h.record, h.score) for h in loaded.search("refund router", k=5)]
        assert [r for r, _ in after] == [r for r, _ in before]
        assert [s for _, s in after] == pytest.approx([s for _, s in before])
        assert loaded.count() == index.count()


class TestBM25Index(LexicalIndexContract):
    def make_index(self) -> BM25Index:
        return BM25Index(PLAIN)

    def load_index(self, directory: Path) -> BM25Index:
        return BM25Index.load(directory, PLAIN)

    def test_score_equals_the_bm25_formula(self) -> None:
        index = BM25Index(PLAIN, k1=1.2, b=0.75)
        index.add([rec("a", "cat cat dog"), rec("b", "dog bird"), rec("c", "fish")])
        scores = index.scores("cat")
        avgdl = (3 + 2 + 1) / 3
        idf = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
        expected = idf * 2 * 2.2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / avgdl))
        assert scores.tolist() == pytest.approx([expected, 0.0, 0.0])

    def test_rare_terms_weigh_more_and_term_frequency_saturates(self) -> None:
        index = BM25Index(PLAIN)
        index.add([rec("a", "common rare"), rec("b", "common"), rec("c", "common"),
                   rec("d", "spam " * 2 + "x " * 8), rec("e", "spam " * 8 + "x " * 2)])
        s = index.scores("common")
        assert index.scores("rare")[0] > s[0] > 0
        tf2, tf8 = index.scores("spam")[3], index.scores("spam")[4]
        assert tf8 > tf2 and tf8 < 4 * tf2  # more occurrences help, with diminishing returns

    def test_shorter_record_wins_at_equal_term_frequency(self) -> None:
        index = BM25Index(PLAIN)
        index.add([rec("short", "router"), rec("long", "router " + "word " * 30)])
        assert [h.record.uid for h in index.search("router", k=2)] == ["short", "long"]

    def test_allowed_mask_and_deterministic_ties(self) -> None:
        index = BM25Index(PLAIN)
        index.add([rec(f"u{i}", "same text") for i in range(5)])
        assert [h.record.uid for h in index.search("same", k=3)] == ["u0", "u1", "u2"]
        allowed = np.array([False, True, False, True, False])
        assert [h.record.uid for h in index.search("same", k=5, allowed=allowed)] == ["u1", "u3"]

    def test_title_is_indexed(self) -> None:
        index = BM25Index(PLAIN)
        index.add([rec("t", "body text", title="Warranty claim")])
        assert [h.record.uid for h in index.search("warranty", k=1)] == ["t"]

    def test_manifest_and_files(self, tmp_path: Path) -> None:
        index = BM25Index(PLAIN)
        index.add(CORPUS)
        index.save(tmp_path / "lexical", watermark="mark")
        assert sorted(os.listdir(tmp_path / "lexical")) == sorted(
            [DOCS_FILE, MANIFEST_FILE, POSTINGS_FILE, "terms.json"])
        loaded = BM25Index.load(tmp_path / "lexical", PLAIN)
        assert loaded.watermark == "mark" and loaded.manifest["analyzer"] == PLAIN.name
        assert loaded.records() == CORPUS

    def test_loading_with_another_analyzer_is_refused(self, tmp_path: Path) -> None:
        index = BM25Index(PLAIN)
        index.add(CORPUS)
        index.save(tmp_path / "lexical")
        with pytest.raises(IndexIncompatible, match="analyzer"):
            BM25Index.load(tmp_path / "lexical", TextAnalyzer())

    def test_missing_or_damaged_index_is_not_ready(self, tmp_path: Path) -> None:
        with pytest.raises(IndexNotReady, match="no search index"):
            BM25Index.load(tmp_path / "nothing", PLAIN)
        index = BM25Index(PLAIN)
        index.add(CORPUS)
        index.save(tmp_path / "lexical")
        (tmp_path / "lexical" / POSTINGS_FILE).write_bytes(b"garbage")
        with pytest.raises(IndexNotReady, match="damaged"):
            BM25Index.load(tmp_path / "lexical", PLAIN, attempts=1)

    def test_replacing_is_atomic_and_a_failed_save_keeps_the_old_index(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        old = BM25Index(PLAIN)
        old.add(CORPUS)
        old.save(tmp_path / "lexical", watermark="old")
        new = BM25Index(PLAIN)
        new.add([rec("N", "new")])
        real_write = atomic.write_durably

        def write_then_fail(path: Path, data: bytes) -> None:
            if path.name == POSTINGS_FILE:
                raise OSError("disk full")
            real_write(path, data)

        monkeypatch.setattr(atomic, "write_durably", write_then_fail)
        with pytest.raises(OSError, match="disk full"):
            new.save(tmp_path / "lexical", watermark="new")
        monkeypatch.undo()
        assert BM25Index.load(tmp_path / "lexical", PLAIN).watermark == "old"
        new.save(tmp_path / "lexical", watermark="new")
        assert BM25Index.load(tmp_path / "lexical", PLAIN).watermark == "new"
        assert os.listdir(tmp_path) == ["lexical"]

    def test_empty_index_searches_and_saves(self, tmp_path: Path) -> None:
        index = BM25Index(PLAIN)
        assert index.search("anything", k=3) == []
        index.save(tmp_path / "lexical")
        assert BM25Index.load(tmp_path / "lexical", PLAIN).count() == 0


def test_add_analysed_builds_the_same_index_as_add(tmp_path: Path) -> None:
    """Term counts made with the index's analyzer give the same index, files included, as `add`."""
    from collections import Counter

    from kcrm.search.tokenizer import default_analyzer

    analyzer = default_analyzer()
    by_text, by_counts = BM25Index(analyzer), BM25Index(analyzer)
    by_text.add(CORPUS)
    by_counts.add_analysed(CORPUS, [Counter(analyzer.terms(f"{r.title}\n{r.text}" if r.title else r.text))
                                    for r in CORPUS])
    assert np.array_equal(by_text.scores("refund router 退款"), by_counts.scores("refund router 退款"))
    for name, index in (("a", by_text), ("b", by_counts)):
        index.save(tmp_path / name, watermark="w")
    for file in (DOCS_FILE, TERMS_FILE, POSTINGS_FILE):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    with pytest.raises(ValueError):
        by_counts.add_analysed(CORPUS, [])


def test_memory_bm25_scores_every_matching_document_by_key() -> None:
    from kcrm.search.lexical import MemoryBM25

    texts = {r.uid: r.text for r in CORPUS}
    memory = MemoryBM25.from_texts(texts)
    index = BM25Index()
    index.add([rec(uid, text) for uid, text in texts.items()])
    full = index.scores("printer drivers")
    scores = memory.scores("printer drivers")
    assert set(scores) == {"C1", "D1"}  # stemmed: "drivers" finds "driver"; non-matching ids are left out
    assert scores == pytest.approx({"C1": full[0], "D1": full[3]})
    assert memory.term_scores(["printer", "driver"]) == scores  # already-analysed terms score the same
    assert memory.scores("the") == {} and len(memory) == 5
    assert MemoryBM25({}).scores("printer") == {}
