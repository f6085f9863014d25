"""Query understanding from the taxonomy: synonyms and translations for the lexical side.

BM25 cannot cross languages: `退款` shares no term with "refund". The SKOS taxonomy names each
concept in English and Chinese (prefLabels) with synonyms (altLabels), so a query that mentions
one label of a concept is expanded with the concept's other labels. The expansion's scores are
scaled to the query's and weighted (default 0.5), so an item found only through a synonym or a
translation ranks below the best items with the user's own words, and a term already in the
query is never added twice. Only the lexical side is expanded: the dense side already crosses
languages.

A label is found in the query by its analysed terms in sequence (English: stemmed words, so
"refunds" finds "refund"), or for Chinese labels as a substring of the query text (segmentation
of a label alone and inside a sentence can differ).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from kcrm.ontology.taxonomy import Concept, load_concepts
from kcrm.search.tokenizer import Analyzer, default_analyzer

log = logging.getLogger(__name__)

DEFAULT_WEIGHT = 0.5
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Expansion:
    """What a query was expanded with: the concepts recognised and the labels added."""

    concepts: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    weight: float = DEFAULT_WEIGHT
    terms: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The added labels as one text for the lexical index."""
        return " ".join(self.labels)


def _lone_han(term: str) -> bool:
    """A single Chinese character: the analyzer adds them for recall, but as an expansion term
    one character of a synonym (回 of 原路退回) matches unrelated text."""
    return len(term) == 1 and bool(_HAN.match(term))


def concept_labels(concept: Concept) -> list[str]:
    """Every name of a concept: English and Chinese prefLabels, then altLabels, without repeats."""
    seen: dict[str, str] = {}
    for label in (concept.label_en, concept.label_zh, *concept.alt_labels):
        label = " ".join(label.split())
        if label and label.lower() not in seen:
            seen[label.lower()] = label
    return list(seen.values())


def _contains(sequence: Sequence[str], part: Sequence[str]) -> bool:
    n = len(part)
    return any(tuple(sequence[i:i + n]) == tuple(part) for i in range(len(sequence) - n + 1))


class QueryExpander:
    """Finds taxonomy concepts named in a query and adds their other labels at a lower weight."""

    def __init__(self, concepts: Iterable[Concept], analyzer: Analyzer, weight: float = DEFAULT_WEIGHT) -> None:
        if not 0.0 < weight <= 1.0:
            raise ValueError(f"expansion weight must be in (0, 1], not {weight}")
        self.analyzer = analyzer
        self.weight = weight
        self._concepts: list[tuple[str, list[str], list[tuple[str, tuple[str, ...]]]]] = []
        self._pref: dict[str, set[str]] = {}
        for concept in concepts:
            labels = concept_labels(concept)
            keyed = [(label, tuple(analyzer.terms(label))) for label in labels]
            self._concepts.append((concept.uid, labels, [(lab, terms) for lab, terms in keyed if terms]))
            self._pref[concept.uid] = {concept.label_en.lower(), concept.label_zh.lower()}
        # Which concepts a query can name: by a label's first analysed term, or (Chinese labels,
        # matched as substrings) by the label itself; `expand` verifies only these candidates
        # instead of matching every label of every concept against every query.
        self._by_first: dict[str, list[int]] = {}
        self._han: list[tuple[int, str]] = []
        for position, (_, _, keyed) in enumerate(self._concepts):
            for label, label_terms in keyed:
                if _HAN.search(label):
                    self._han.append((position, label.lower()))
                else:
                    self._by_first.setdefault(label_terms[0], []).append(position)
        log.debug("query expansion over %d concepts", len(self._concepts))

    def _names(self, text: str, terms: Sequence[str], label: str, label_terms: tuple[str, ...]) -> bool:
        if _HAN.search(label):
            return len(label) >= 2 and label.lower() in text
        return _contains(terms, label_terms)

    def expand(self, query: str) -> Expansion:
        """The concepts `query` names and their labels whose terms the query lacks."""
        text = " ".join(query.lower().split())
        terms = self.analyzer.terms(text)
        have = set(terms)
        concepts: list[str] = []
        added: dict[str, str] = {}
        new_terms: dict[str, None] = {}
        candidates = {position for term in have for position in self._by_first.get(term, ())}
        candidates.update(position for position, label in self._han if len(label) >= 2 and label in text)
        for position in sorted(candidates):
            uid, labels, keyed = self._concepts[position]
            if not any(self._names(text, terms, label, label_terms) for label, label_terms in keyed):
                continue
            concepts.append(uid)
            for label in labels:
                label_terms = set(self.analyzer.terms(label))
                words = {t for t in label_terms if not _lone_han(t)}
                # BM25 has no phrases: the words of a multi-word synonym ("refund status" ->
                # refund, status) match apart, mostly in unrelated text. Only the prefLabels
                # (the translations) may add several words.
                if not words or label_terms <= have or (len(words) > 1 and label.lower() not in self._pref[uid]):
                    continue
                added[label.lower()] = label
                new_terms.update(dict.fromkeys(t for t in self.analyzer.terms(label) if t in words - have))
                have |= label_terms
        return Expansion(tuple(concepts), tuple(added.values()), self.weight, tuple(new_terms))


def expanded_scores(scores_of: Callable[[str], np.ndarray], terms_of: Callable[[Iterable[str]], np.ndarray],
                    query: str, expansion: Expansion, allowed: np.ndarray | None = None,
                    groups: np.ndarray | None = None) -> np.ndarray:
    """BM25 of the query plus `weight` times the scaled BM25 of the expansion's new terms.

    The expansion's part is scaled so that its best item scores what the query's best item
    scores: an item found only through expansion then ranks at most `weight` times the best
    match of the user's own words, however many terms the labels analyse into. `allowed` (a
    mask of the records that pass the filters) applies first, so the scale is that of the
    items that can be returned; records outside it score 0.

    `groups` (a language code per record) normalises per language: in a language the query's
    own words reach nowhere (English items for `退款`), raw BM25 of the expansion cannot be
    compared with the query's own scores (Chinese scores crowd near the top, English ones fall
    off), so that language's matches are placed by rank instead (a language whose best own-word
    match is under `weight` times the query's best counts as not reached): its j-th best item scores just
    below the (j / weight)-th best match of the query's own words (weight 0.5: every third hit
    is from the other language, the first at rank 3). Languages the query's words do reach
    are scored as without `groups`.
    """
    base = scores_of(query)
    if allowed is not None:
        base = np.where(allowed, base, 0.0)
    if not expansion.terms:
        return base
    extra = terms_of(expansion.terms)
    if allowed is not None:
        extra = np.where(allowed, extra, 0.0)
    top_extra, top_base = float(extra.max(initial=0.0)), float(base.max(initial=0.0))
    if not (top_extra > 0 and top_base > 0):
        return base + expansion.weight * extra
    if groups is None:
        return base + expansion.weight * extra * (top_base / top_extra)
    out = base.copy()
    unreached: list[np.ndarray] = []
    # per language, the best own-word score: over the matched rows only (scores are >= 0)
    hit = np.flatnonzero(base > 0)
    best_base = np.zeros(int(groups.max(initial=-1)) + 2)
    np.maximum.at(best_base, groups[hit] + 1, base[hit])
    reach = np.flatnonzero(extra > 0)  # only rows the expansion matches change
    reach_groups = groups[reach]
    for group in np.unique(reach_groups).tolist():
        rows = reach[reach_groups == group]
        if best_base[group + 1] >= expansion.weight * top_base:
            out[rows] += expansion.weight * extra[rows] * (top_base / top_extra)
        else:  # the query's words reach this language weakly at best (a stray character)
            unreached.append(rows)
    own = np.sort(out[out > 0])[::-1]  # the reached languages' final scores, best first
    for found in unreached:  # rows of one language the expansion matches, ascending
        found = found[np.argsort(-extra[found], kind="stable")]
        slots = np.ceil(np.arange(1, len(found) + 1) / expansion.weight).astype(np.int64) - 1
        inside = slots < len(own)
        placed = np.empty(len(found))
        placed[inside] = own[slots[inside]] * (1.0 - 1e-6)
        placed[~inside] = own[-1] * 0.5 * extra[found[~inside]] / float(extra[found].max())
        out[found] = np.maximum(base[found], placed)
    return out


def taxonomy_expander(analyzer: Analyzer | None = None, weight: float = DEFAULT_WEIGHT) -> QueryExpander:
    """An expander over the shipped taxonomy, analysing labels as the lexical index does."""
    return QueryExpander(load_concepts(), analyzer or default_analyzer(), weight)
