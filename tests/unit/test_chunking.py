"""Chunking: offsets exact, breaks at paragraph and sentence ends in English and Chinese."""

from __future__ import annotations

from itertools import pairwise

import pytest

from kcrm.search.chunking import Chunk, chunk_text

EN_SENTENCE = "The printer driver fails after the latest Windows update on the office laptops. "
ZH_SENTENCE = "打印机驱动程序在系统更新后无法正常工作，客户已经重新安装了两次。"


def assert_exact_offsets(chunks: list[Chunk], source: str) -> None:
    for n, chunk in enumerate(chunks):
        assert chunk.n == n
        assert chunk.chunk_id == f"{chunk.uid}#{n}"
        assert source[chunk.start:chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()


def covered(chunks: list[Chunk], source: str) -> str:
    mask = [False] * len(source)
    for chunk in chunks:
        mask[chunk.start:chunk.end] = [True] * (chunk.end - chunk.start)
    return "".join(ch for ch, hit in zip(source, mask) if not hit and not ch.isspace())


def test_short_text_is_one_chunk_with_the_title_prefixed() -> None:
    chunks = chunk_text("CASE-1", "Printer issue", "Driver fails.")
    assert len(chunks) == 1
    chunk = chunks[0]
    assert (chunk.chunk_id, chunk.start, chunk.end, chunk.text) == ("CASE-1#0", 0, 13, "Driver fails.")
    assert chunk.embed_text == "Printer issue\nDriver fails."


def test_empty_text_still_gives_a_title_only_chunk() -> None:
    chunks = chunk_text("POL-1", "  Refund   policy ", "   \n\n ")
    assert [(c.chunk_id, c.text, c.embed_text) for c in chunks] == [("POL-1#0", "", "Refund policy")]


def test_no_title_embeds_the_text_alone() -> None:
    assert chunk_text("X", "", "Hello there.")[0].embed_text == "Hello there."


@pytest.mark.parametrize("target", [120, 300, 500])
def test_english_chunks_respect_target_break_at_sentence_ends_and_cover_everything(target: int) -> None:
    source = EN_SENTENCE * 20
    chunks = chunk_text("CASE-2", "t", source, target_chars=target, overlap_chars=40)
    assert len(chunks) > 1
    assert_exact_offsets(chunks, source)
    assert all(len(c.text) <= target for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)
    assert covered(chunks, source) == ""


def test_chinese_breaks_at_chinese_sentence_ends() -> None:
    source = (ZH_SENTENCE + "问题仍然存在吗？是的！请联系技术支持；") * 15
    chunks = chunk_text("CASE-3", "打印机", source, target_chars=200, overlap_chars=40)
    assert len(chunks) > 2
    assert_exact_offsets(chunks, source)
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(c.text[-1] in "。！？；" for c in chunks)
    assert covered(chunks, source) == ""
    assert chunks[1].embed_text.startswith("打印机\n")


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    first = (EN_SENTENCE * 4).strip()
    second = (ZH_SENTENCE * 8).strip()
    source = f"{first}\n\n{second}"
    chunks = chunk_text("DOC-1", "mixed", source, target_chars=500)
    assert [c.text for c in chunks] == [first, second]
    assert chunks[1].start == len(first) + 2


def test_consecutive_chunks_in_a_paragraph_overlap_by_whole_sentences() -> None:
    source = " ".join(f"Sentence number {i} says something useful." for i in range(40))
    chunks = chunk_text("DOC-2", "t", source, target_chars=200, overlap_chars=60)
    for before, after in pairwise(chunks):
        assert after.start < before.end, "no overlap"
        shared = source[after.start:before.end]
        assert len(shared) <= 60 + 1
        assert shared.strip().endswith(".") and shared.strip()[0].isupper()
        assert after.end > before.end, "no progress"


def test_no_overlap_across_a_paragraph_break() -> None:
    source = (EN_SENTENCE * 5).strip() + "\n\n" + (EN_SENTENCE * 5).strip()
    chunks = chunk_text("DOC-3", "t", source, target_chars=450, overlap_chars=100)
    assert len(chunks) == 2
    assert chunks[1].start >= chunks[0].end


def test_zero_overlap() -> None:
    source = EN_SENTENCE * 20
    chunks = chunk_text("DOC-4", "t", source, target_chars=200, overlap_chars=0)
    assert all(after.start >= before.end for before, after in pairwise(chunks))


def test_an_overlong_english_sentence_is_cut_between_words() -> None:
    source = " ".join(["word"] * 400)
    chunks = chunk_text("DOC-5", "t", source, target_chars=100, overlap_chars=0)
    assert_exact_offsets(chunks, source)
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(set(c.text.split()) == {"word"} for c in chunks)
    assert covered(chunks, source) == ""


def test_an_overlong_chinese_sentence_is_cut_after_a_comma_when_possible() -> None:
    source = "，".join(["客户反映设备无法连接网络"] * 60) + "。"
    chunks = chunk_text("DOC-6", "t", source, target_chars=100, overlap_chars=0)
    assert_exact_offsets(chunks, source)
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(c.text.endswith(("，", "。")) for c in chunks)
    assert covered(chunks, source) == ""


def test_unpunctuated_chinese_is_hard_cut_at_the_target() -> None:
    source = "退款" * 300
    chunks = chunk_text("DOC-7", "t", source, target_chars=100, overlap_chars=0)
    assert [len(c.text) for c in chunks] == [100] * 6


def test_decimals_and_versions_do_not_end_sentences() -> None:
    source = "Firmware 3.5.1 fixed it. Version 2.0 did not."
    chunks = chunk_text("DOC-8", "t", source, target_chars=60, overlap_chars=0)
    assert [c.text for c in chunks] == [source]


def test_single_line_breaks_are_sentence_boundaries() -> None:
    source = "\n".join(f"- step {i}: restart the router and check the lights" for i in range(12))
    chunks = chunk_text("DOC-9", "t", source, target_chars=120, overlap_chars=0)
    assert all(c.text.startswith("- step") for c in chunks)
    assert covered(chunks, source) == ""


@pytest.mark.parametrize(("target", "overlap"), [(10, 0), (100, 60), (100, -1)])
def test_rejects_unworkable_settings(target: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_text("X", "t", "text", target_chars=target, overlap_chars=overlap)
