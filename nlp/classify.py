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
`SECOND_TOPIC`. `evaluate` measures them on a held-out split against the majority topic.
"""

from __future__ import annotations

import logging
import pickle
import random
from collections import Counter, defaultdict
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


@dataclass
class MajorityTopicModel:
    """The trivial baseline: every text gets the most frequent topic of the training texts."""

    topic: str
    method: str = "majority"

    @classmethod
    def train(cls, labels: Sequence[str]) -> MajorityTopicModel:
        return cls(Counter(labels).most_common(1)[0][0])

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [{self.topic: 1.0} for _ in texts]


def chosen(scores: dict[str, float]) -> list[tuple[str, float]]:
    """The topics a node is filed under: the best one, and others scoring at least SECOND_TOPIC."""
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [(t, round(s, 4)) for i, (t, s) in enumerate(ranked) if i == 0 or s >= SECOND_TOPIC][:MAX_TOPICS]


def split(texts: Sequence[str], labels: Sequence[str], held_out: float = 0.2, seed: int = 42
          ) -> tuple[list[int], list[int]]:
    """Indexes of a train and a held-out part, stratified by topic (every topic in both where it can be)."""
    by_topic: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_topic[label].append(index)
    rng = random.Random(seed)
    train, test = [], []
    for members in by_topic.values():
        rng.shuffle(members)
        cut = int(round(len(members) * held_out)) if len(members) > 1 else 0
        test += members[:cut]
        train += members[cut:]
    return sorted(train), sorted(test)


def accuracy(model: TopicModel, texts: Sequence[str], labels: Sequence[str],
             broader: dict[str, str | None] | None = None) -> dict[str, float]:
    """Top-1 accuracy, and the share whose best topic is under the right top-level topic."""
    predicted = [max(s.items(), key=lambda kv: kv[1])[0] if s else None for s in model.scores(texts)]
    hits = sum(p == y for p, y in zip(predicted, labels))
    out = {"accuracy": hits / len(labels) if labels else 0.0, "answered": sum(p is not None for p in predicted)}
    if broader is not None:
        def top(topic: str | None) -> str | None:
            while topic is not None and broader.get(topic):
                topic = broader[topic]
            return topic
        out["top_level_accuracy"] = sum(top(p) == top(y) for p, y in zip(predicted, labels)) / max(len(labels), 1)
    return out


def evaluate(texts: Sequence[str], labels: Sequence[str], ruler: Any = None, held_out: float = 0.2, seed: int = 42,
             broader: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Hold out a stratified part, train on the rest, and score every method against the majority baseline."""
    train, test = split(texts, labels, held_out, seed)
    train_texts, train_labels = [texts[i] for i in train], [labels[i] for i in train]
    test_texts, test_labels = [texts[i] for i in test], [labels[i] for i in test]
    models: list[TopicModel] = [MajorityTopicModel.train(train_labels),
                                TfidfTopicModel.train(train_texts, train_labels)]
    if ruler is not None:
        models.insert(1, LabelTopicModel(ruler))
    report: dict[str, Any] = {"train": len(train), "held_out": len(test), "topics": len(set(labels)), "methods": {}}
    for model in models:
        report["methods"][model.method] = accuracy(model, test_texts, test_labels, broader)
    return report


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


__all__ = ["LabelTopicModel", "MajorityTopicModel", "TfidfTopicModel", "TopicModel", "accuracy", "chosen",
           "evaluate", "fit", "load_model", "save_model", "split"]
