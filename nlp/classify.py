"""Topic classification: cases and documents filed under the SKOS support topics.

Two methods, chosen by what the graph can teach:
- `tfidf-nb`: character 2-4-grams (TF-IDF, so Chinese needs no segmenter and English gets
  sub-word evidence) and a complement naive Bayes, trained on the texts whose source
  already states a topic (HAS_TOPIC). Used when there are at least `MIN_TRAINING` such texts over
  two or more topics. (On the sample a logistic regression was as accurate, 0.997 against 0.995,
  and took 9-50 s to train against 0.3 s: too slow to retrain after an ingest on two cores.)
- `taxonomy-labels`: counts the taxonomy's preferred and alternative labels (both languages) that
  the entity ruler finds in the text; the zero-shot fallback for a graph with no labelled text.
Both give a score in 0..1 per topic; a node keeps its best topic and any other scoring at least
`SECOND_TOPIC`. `kcrm.evaluation.topics` measures them on a held-out split against the majority topic.
"""

from __future__ import annotations

import logging
import pickle
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

MIN_TRAINING = 50
SECOND_TOPIC = 0.3
MAX_TOPICS = 3


class TopicModel(Protocol):
    """Anything that scores texts against topics."""

    method: str

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]: ...


@dataclass
class TfidfTopicModel:
    """Character n-gram TF-IDF and complement naive Bayes over the labelled texts."""

    method: str = "tfidf-nb"
    pipeline: Any = None
    topics: list[str] = field(default_factory=list)

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str]) -> TfidfTopicModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.naive_bayes import ComplementNB
        from sklearn.pipeline import make_pipeline

        pipeline = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2, max_features=150_000,
                            lowercase=True),
            ComplementNB(alpha=0.3))
        pipeline.fit(list(texts), list(labels))
        return cls(pipeline=pipeline, topics=[str(t) for t in pipeline.classes_])

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        probabilities = self.pipeline.predict_proba(list(texts))
        return [{self.topics[i]: float(row[i]) for i in np.argsort(-row)[:MAX_TOPICS]} for row in probabilities]


@dataclass
class LabelTopicModel:
    """Zero-shot: the share of taxonomy labels found in the text that belong to each topic."""

    ruler: Any
    method: str = "taxonomy-labels"

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        out = []
        for mentions in self.ruler.extract_many((text, None) for text in texts):
            counts = Counter(m.uid for m in mentions if m.type == "Topic")
            total = sum(counts.values())
            out.append({topic: n / total for topic, n in counts.most_common(MAX_TOPICS)} if total else {})
        return out


def chosen(scores: dict[str, float]) -> list[tuple[str, float]]:
    """The topics a node is filed under: the best one, and others scoring at least SECOND_TOPIC."""
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [(t, round(s, 4)) for i, (t, s) in enumerate(ranked) if i == 0 or s >= SECOND_TOPIC][:MAX_TOPICS]


def fit(texts: Sequence[str], labels: Sequence[str], ruler: Callable[[], Any]) -> TopicModel:
    """The model the graph can support: supervised when it has enough labelled text, else the labels.

    `ruler` is called only for the fallback (building one costs seconds)."""
    if len(texts) >= MIN_TRAINING and len(set(labels)) >= 2:
        return TfidfTopicModel.train(texts, labels)
    return LabelTopicModel(ruler())


def save_model(model: TfidfTopicModel, path: Path, fingerprint: tuple[Any, ...]) -> None:
    """Keep a trained model beside the data (written by kcrm itself, read back only by kcrm)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps({"fingerprint": fingerprint, "model": model}))
    tmp.replace(path)


def load_model(path: Path, fingerprint: tuple[Any, ...]) -> TfidfTopicModel | None:
    """The saved model if it was trained on the same labelled data, else None."""
    if not path.exists():
        return None
    try:
        saved = pickle.loads(path.read_bytes())
    except Exception as exc:  # a torn or foreign file: retrain rather than fail
        log.warning("ignoring the saved topic model %s: %s", path, exc)
        return None
    return saved["model"] if saved.get("fingerprint") == fingerprint else None


__all__ = ["LabelTopicModel", "TfidfTopicModel", "TopicModel", "chosen", "fit", "load_model", "save_model"]
