"""The analyzer that turns English and Chinese text into BM25 terms."""

from __future__ import annotations

import pytest

from kcrm.search.tokenizer import Analyzer, TextAnalyzer, default_analyzer


def test_english_is_lowercased_stemmed_and_stopped() -> None:
    terms = TextAnalyzer().terms("The Printer drivers FAILED after the updates")
    assert terms == ["printer", "driver", "fail", "updat"]


def test_english_without_stemming_or_stop_words_keeps_every_word() -> None:
    terms = TextAnalyzer(stem=False, stopwords=False).terms("The drivers failed")
    assert terms == ["the", "drivers", "failed"]


def test_model_numbers_and_accents_stay_one_term() -> None:
    assert TextAnalyzer(stem=False).terms("X200 café, IPv6-ready") == ["x200", "café", "ipv6", "ready"]


def test_chinese_is_segmented_into_words_plus_their_characters() -> None:
    terms = TextAnalyzer(cjk="words+chars").terms("打印机驱动更新")
    assert "打印机" in terms and "驱动" in terms and "更新" in terms
    assert {"打", "印", "机", "驱", "动"} <= set(terms)


def test_chinese_words_only_has_no_single_characters_from_words() -> None:
    terms = TextAnalyzer(cjk="words").terms("打印机驱动更新")
    assert terms == ["打印机", "驱动", "更新"]


def test_chinese_bigrams_are_the_dictionary_free_baseline() -> None:
    assert TextAnalyzer(cjk="bigrams").terms("退款单") == ["退", "款", "单", "退款", "款单"]


def test_chinese_particles_are_kept_for_idf_to_weigh() -> None:
    terms = TextAnalyzer(cjk="words").terms("我的花呗还款了吗")
    assert {"的", "还款", "吗"} <= set(terms)


def test_mixed_text_keeps_both_languages_in_order() -> None:
    terms = TextAnalyzer(cjk="words").terms("X200路由器 keeps dropping 断网")
    assert terms[0] == "x200" and "路由器" in terms and "drop" in terms and terms[-1] == "断网"
    assert terms.index("路由器") < terms.index("drop") < terms.index("断网")


def test_punctuation_and_empty_text_give_no_terms() -> None:
    assert TextAnalyzer().terms("，。！？ ... --") == []
    assert TextAnalyzer().terms("") == []


def test_names_differ_by_rules_so_an_index_knows_its_analyzer() -> None:
    names = {TextAnalyzer(cjk=c, stem=s).name for c in ("words", "words+chars", "bigrams") for s in (True, False)}
    assert len(names) == 6
    assert isinstance(default_analyzer(), Analyzer)


def test_unknown_chinese_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Chinese tokenisation"):
        TextAnalyzer(cjk="letters")
