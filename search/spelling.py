"""Spelling tolerance: correct query words the index does not know to words it knows well.

BM25 matches terms exactly, so "refnud polcy" matches nothing; the dense side sees a garbled
sentence. Each Latin-script query word that the indexed text does not contain (and whose
analysed term, e.g. its stem, the lexical index does not know) is compared with the index's own surface words by Damerau-Levenshtein distance
(one edit for words of 4-7 letters, two from 8), and replaced by the closest one, the most
frequent among equals, when that word is clearly more common than the typed one. Chinese is left
alone: its terms are characters and words that a single-edit rule would only damage.
The vocabulary is the indexed text itself, so corrections never leave the corpus.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

_WORD = re.compile(r"[a-z]+")
_QUERY_WORD = re.compile(r"[A-Za-z]+")
MIN_WORD = 4
# A typed word seen more often than this in the indexed text is kept. Zero: any word the corpus
# has is taken as meant (measured: correcting words seen once or twice turned "Moss" into "most"
# and "news" into "new" in clean sample titles).
RARE = 0
# A correction must be at least this many times as frequent as the typed word.
DOMINANCE = 10


@dataclass(frozen=True)
class Correction:
    """One word replaced: what was typed, what it became, the edit distance, the new word's count."""

    term: str
    correction: str
    distance: int
    frequency: int


def max_distance(word: str) -> int:
    """Edits allowed for a word of this length (short words have too many neighbours)."""
    if len(word) < MIN_WORD:
        return 0
    return 1 if len(word) < 8 else 2


class SpellingCorrector:
    """Frequency-aware corrections against the words of the indexed texts."""

    def __init__(self, texts: Iterable[str], min_count: int = 2,
                 known: Callable[[str], bool] | None = None) -> None:
        self.known = known  # a word the index already matches well (e.g. by its stem) is kept
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(_WORD.findall(text.lower()))
        self.counts = counts
        self._choices = [w for w, n in counts.items() if n >= min_count and len(w) >= MIN_WORD - 1]

    def correct_word(self, word: str) -> Correction | None:
        """The best correction of one lower-case word, or None to keep it."""
        limit = max_distance(word)
        own = self.counts.get(word, 0)
        if limit == 0 or own > RARE or (self.known is not None and self.known(word)):
            return None
        best: Correction | None = None
        for candidate, distance, _ in process.extract(word, self._choices, scorer=DamerauLevenshtein.distance,
                                                      score_cutoff=limit, limit=50):
            frequency = self.counts[candidate]
            if candidate == word or frequency < max(DOMINANCE * own, 3):
                continue
            if best is None or (distance, -frequency, candidate) < (best.distance, -best.frequency, best.correction):
                best = Correction(word, candidate, int(distance), frequency)
        return best

    def correct(self, query: str) -> tuple[str, list[Correction]]:
        """The query with its misspelt words replaced (case kept where possible), and the corrections."""
        corrections: list[Correction] = []
        cache: dict[str, Correction | None] = {}

        def replace(match: re.Match[str]) -> str:
            typed = match.group(0)
            if len(typed) > 1 and typed.isupper():
                return typed  # an acronym or a code (RMA, SDP-PERP): not a misspelt word
            word = typed.lower()
            if word not in cache:
                found = cache[word] = self.correct_word(word)
                if found is not None:
                    corrections.append(found)
            fix = cache[word]
            if fix is None:
                return typed
            return fix.correction.capitalize() if typed[:1].isupper() else fix.correction

        corrected = _QUERY_WORD.sub(replace, query)
        return corrected, corrections


def corrector_for(texts: Sequence[str], known: Callable[[str], bool] | None = None) -> SpellingCorrector:
    """A corrector over these texts (the lexical index's titles and bodies)."""
    return SpellingCorrector(texts, known=known)
