"""Topic classification measured: accuracy on a held-out, stratified part against the majority baseline.

Kept apart from the classifier (`kcrm.nlp.classify`, `kcrm.nlp.topics`), which only trains and files
nodes: `kcrm classify --evaluate` and the classification benchmark score every method here.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kcrm.nlp.classify import LabelTopicModel, TfidfTopicModel, TopicModel
from kcrm.nlp.linking import cached_ruler
from kcrm.nlp.topics import TopicClassifier
from kcrm.ontology.taxonomy import load_concepts


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


def evaluate_classifier(classifier: TopicClassifier, held_out: float = 0.2, seed: int = 42) -> dict[str, Any]:
    """Accuracy on a held-out part of the graph's single-topic labelled texts, beside the majority baseline."""
    texts, topics = classifier.labelled()
    single = [(text, labels[0]) for text, labels in zip(texts, topics) if len(labels) == 1]
    broader = {c.uid: c.broader for c in load_concepts()}
    return evaluate([t for t, _ in single], [y for _, y in single], cached_ruler(classifier.graph), held_out, seed,
                    broader)
