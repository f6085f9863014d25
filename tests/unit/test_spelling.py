"""Spelling tolerance: unknown query words corrected to close, frequent corpus words; known ones kept."""

from __future__ import annotations

from kcrm.search.spelling import SpellingCorrector, max_distance

TEXTS = ["Refund policy: refunds are paid within 14 days."] * 20 + \
        ["The printer driver fails after the update."] * 10 + ["Magnuson-Moss Warranty Act, news of SDP-PERP."]


def test_transposition_and_missing_letter_are_corrected() -> None:
    corrected, corrections = SpellingCorrector(TEXTS).correct("refnud polcy")
    assert corrected == "refund policy"
    assert [(c.term, c.correction, c.distance) for c in corrections] == [("refnud", "refund", 1), ("polcy", "policy", 1)]


def test_known_words_short_words_and_chinese_are_left_alone() -> None:
    speller = SpellingCorrector(TEXTS)
    assert speller.correct("printer driver fails") == ("printer driver fails", [])
    assert speller.correct("the 退款 政策") == ("the 退款 政策", [])
    assert max_distance("abc") == 0 and max_distance("polcy") == 1 and max_distance("installation") == 2


def test_a_word_nothing_is_close_to_is_kept_and_case_is_kept() -> None:
    corrected, corrections = SpellingCorrector(TEXTS).correct("Refnud zzzzzzz")
    assert corrected == "Refund zzzzzzz" and len(corrections) == 1


def test_words_the_corpus_has_and_acronyms_are_kept() -> None:
    speller = SpellingCorrector(TEXTS)
    assert speller.correct("Moss news") == ("Moss news", [])
    assert speller.correct("POLCY") == ("POLCY", [])


def test_a_known_stem_is_not_corrected() -> None:
    speller = SpellingCorrector(TEXTS, known=lambda word: word.startswith("refund"))
    assert speller.correct("refundz") == ("refundz", [])
