"""Topic classification logic: the split, the choice of topics, the fallback, and accuracy beside a baseline."""

from __future__ import annotations

from pathlib import Path

from kcrm.evaluation.topics import MajorityTopicModel, accuracy, evaluate, split
from kcrm.nlp.classify import TfidfTopicModel, chosen, fit, load_model, save_model

EN = {"topic-refund": ["I want my money back for order {n}", "refund for the returned item {n} please",
                       "when will the refund {n} arrive"],
      "topic-invoice": ["the invoice {n} has the wrong VAT number", "please send a tax invoice for {n}",
                        "correct the billing address on invoice {n}"],
      "topic-shipping-delay": ["my parcel {n} has not arrived", "order {n} is late, where is it",
                               "tracking for {n} shows no movement"]}
ZH = {"topic-refund": ["订单{n}申请退款", "退款{n}还没到账"], "topic-invoice": ["发票{n}抬头错误", "请开增值税发票{n}"],
      "topic-shipping-delay": ["快递{n}没到", "物流{n}停滞"]}


def corpus() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for table in (EN, ZH):
        for topic, patterns in table.items():
            for n in range(12):
                for pattern in patterns:
                    texts.append(pattern.format(n=n))
                    labels.append(topic)
    return texts, labels


def test_split_is_stratified_disjoint_and_repeatable() -> None:
    texts, labels = corpus()
    train, test = split(texts, labels, 0.25, seed=3)
    assert not set(train) & set(test) and len(train) + len(test) == len(texts)
    assert {labels[i] for i in test} == set(labels)
    assert split(texts, labels, 0.25, seed=3) == (train, test)


def test_chosen_keeps_the_best_and_strong_seconds() -> None:
    assert chosen({"a": 0.5, "b": 0.35, "c": 0.15}) == [("a", 0.5), ("b", 0.35)]
    assert chosen({"a": 0.2, "b": 0.1}) == [("a", 0.2)]
    assert chosen({}) == []


def test_supervised_model_beats_the_majority_baseline_in_both_languages() -> None:
    texts, labels = corpus()
    report = evaluate(texts, labels, held_out=0.25, seed=1)
    methods = report["methods"]
    assert methods["tfidf-nb"]["accuracy"] > methods["majority"]["accuracy"] + 0.3
    model = TfidfTopicModel.train(texts, labels)
    best = [max(s, key=s.get) for s in model.scores(["退款99还没到账", "parcel 99 has not arrived"])]
    assert best == ["topic-refund", "topic-shipping-delay"]


def test_too_little_labelled_text_falls_back_to_the_labels() -> None:
    calls = []
    model = fit(["refund"], ["topic-refund"], lambda: calls.append(1) or "RULER")
    assert model.method == "taxonomy-labels" and calls == [1]
    texts, labels = corpus()
    assert fit(texts, labels, lambda: calls.append(2)).method == "tfidf-nb" and calls == [1]


def test_accuracy_counts_top_level_hits() -> None:
    broader = {"topic-refund": "topic-billing", "topic-invoice": "topic-billing", "topic-billing": None}
    result = accuracy(MajorityTopicModel("topic-refund"), ["x", "y"], ["topic-refund", "topic-invoice"], broader)
    assert result["accuracy"] == 0.5 and result["top_level_accuracy"] == 1.0


def test_a_saved_model_is_reused_only_for_the_same_data(tmp_path: Path) -> None:
    texts, labels = corpus()
    path = tmp_path / "m" / "topics.pkl"
    save_model(TfidfTopicModel.train(texts, labels), path, (1, "a"))
    assert load_model(path, (1, "a")) is not None
    assert load_model(path, (2, "a")) is None
    path.write_bytes(b"torn")
    assert load_model(path, (1, "a")) is None
