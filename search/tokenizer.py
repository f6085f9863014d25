"""Turn English and Chinese text into index terms for the lexical (BM25) index.

Chinese has no spaces, so each run of Han characters is segmented into words with rjieba (a Rust
port of jieba, ~180k short documents a second); single characters are kept as extra terms
because customer-service text misspells and abbreviates words the dictionary does not know
(花呗 is cut as 花 + 呗). Latin text becomes lowercase words, minus stop words, Snowball-stemmed.
Chinese keeps its particles: BM25's idf already discounts them, and dropping them cost a little
on AFQMC. Each choice was measured with `kcrm eval search` (see docs/search.md).

An analyzer's `name` is stored in the lexical index's manifest: an index built with different
rules is rebuilt, never searched with mismatched query terms.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Protocol, runtime_checkable

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A token is a run of Han characters, or a run of letters/digits (Latin, accented, Greek, Cyrillic).
_TOKEN = re.compile(rf"[{_CJK}]+|[0-9a-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")

ENGLISH_STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves
""".split())


@runtime_checkable
class Analyzer(Protocol):
    """What the lexical index needs: one function from text to terms, and a stable name."""

    name: str

    def terms(self, text: str) -> list[str]:
        """Index terms of `text`, in order, repeats kept (BM25 counts them)."""
        ...


@lru_cache(maxsize=1)
def _english_stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer: Snowball in C

    stemmer = Stemmer.Stemmer("english")
    stemmer.maxCacheSize = 100_000
    return stemmer


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import rjieba

    return rjieba


class TextAnalyzer:
    """English + Chinese analysis: lowercase, segment Han runs, drop English stop words and stem.

    `cjk` chooses the Chinese terms: "words" (rjieba), "words+chars" (words plus each character
    of multi-character words), or "bigrams" (character unigrams and bigrams, the classic
    dictionary-free baseline).
    """

    def __init__(self, stem: bool = True, stopwords: bool = True, cjk: str = "words+chars") -> None:
        if cjk not in {"words", "words+chars", "bigrams"}:
            raise ValueError(f"unknown Chinese tokenisation {cjk!r}; use words, words+chars or bigrams")
        self.stem = stem
        self.stopwords = stopwords
        self.cjk = cjk
        self.name = f"text-v2:stem={'snowball' if stem else 'none'}:stop={int(stopwords)}:cjk={cjk}"

    def terms(self, text: str) -> list[str]:
        """Index terms of `text`, in order of appearance."""
        out: list[str] = []
        latin: list[str] = []
        for token in _TOKEN.findall(text.lower()):
            if _CJK_RUN.fullmatch(token):
                if latin:
                    out.extend(self._latin(latin))
                    latin = []
                out.extend(self._chinese(token))
            else:
                latin.append(token)
        if latin:
            out.extend(self._latin(latin))
        return out

    def _latin(self, words: list[str]) -> list[str]:
        if self.stopwords:
            words = [w for w in words if w not in ENGLISH_STOPWORDS]
        if self.stem and words:
            words = _english_stemmer().stemWords(words)
        return words

    def _chinese(self, run: str) -> list[str]:
        if self.cjk == "bigrams":
            return list(run) + [run[i:i + 2] for i in range(len(run) - 1)]
        out: list[str] = []
        for word in _segmenter().cut(run):
            out.append(word)
            if self.cjk == "words+chars" and len(word) > 1:
                out.extend(word)
        return out


def default_analyzer() -> TextAnalyzer:
    """The analyzer kcrm indexes with unless told otherwise."""
    return TextAnalyzer()
