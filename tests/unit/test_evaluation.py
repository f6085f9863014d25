"""BEIR folders read strictly, and an evaluation run end to end on a tiny one (hashing embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcrm.evaluation.search import evaluate_search, load_beir, read_qrels
from kcrm.foundation.config import Settings
from kcrm.foundation.errors import BadQuery, DatasetInvalid
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.fusion import RRF, ScoreFusion
from kcrm.search.service import make_fusion

DOCS = {
    "d1": ("Printer driver", "The printer driver fails after the Windows update."),
    "d2": ("Refunds", "Refunds are paid within fourteen days after the return arrives."),
    "d3": ("Router", "The router drops the wifi connection every evening."),
    "d4": ("退款", "退货后退款会在七天内到账。"),
    "d5": ("Invoice", "The invoice shows the wrong VAT number."),
}
QUERIES = {"q1": "printer driver broken after update", "q2": "when do I get my refund",
           "q3": "wifi keeps dropping", "q4": "退款多久到账", "q5": "invoice VAT wrong"}
TEST = [("q1", "d1"), ("q2", "d2"), ("q3", "d3"), ("q4", "d4")]
TRAIN = [("q5", "d5")]


def write_beir(root: Path, test=TEST, train=TRAIN) -> Path:
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": i, "title": t, "text": x}, ensure_ascii=False) + "\n" for i, (t, x) in DOCS.items()),
        encoding="utf-8")
    (root / "queries.jsonl").write_text("".join(
        json.dumps({"_id": q, "text": t}, ensure_ascii=False) + "\n" for q, t in QUERIES.items()), encoding="utf-8")
    for split, pairs in (("test", test), ("train", train)):
        (root / "qrels" / f"{split}.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in pairs), encoding="utf-8")
    return root


def test_load_beir_reads_every_part(tmp_path: Path) -> None:
    dataset = load_beir(write_beir(tmp_path / "set"))
    assert len(dataset.items) == 5 and dataset.items[3].language == "zh" and dataset.items[0].language == "en"
    assert dataset.queries["q4"] == "退款多久到账"
    assert dataset.qrels == {"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 1}, "q4": {"d4": 1}}


def test_missing_files_and_bad_lines_name_the_place(tmp_path: Path) -> None:
    with pytest.raises(DatasetInvalid, match="corpus.jsonl is missing"):
        load_beir(tmp_path)
    root = write_beir(tmp_path / "set")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\n", encoding="utf-8")
    with pytest.raises(DatasetInvalid, match=r"test.tsv:2: expected 3 tab-separated fields, found 2"):
        load_beir(root)
    with (root / "corpus.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"title": "no id"}\n')
    with pytest.raises(DatasetInvalid, match=r"corpus.jsonl:6: field '_id' is missing"):
        load_beir(root)


def test_judgments_must_refer_to_known_queries_and_documents(tmp_path: Path) -> None:
    with pytest.raises(DatasetInvalid, match="documents absent from corpus.jsonl"):
        load_beir(write_beir(tmp_path / "a", test=[("q1", "d9")]))
    with pytest.raises(DatasetInvalid, match="queries absent from queries.jsonl"):
        load_beir(write_beir(tmp_path / "b", test=[("q9", "d1")]))
    with pytest.raises(DatasetInvalid, match="score 'x' is not a number"):
        (tmp_path / "c.tsv").write_text("q1\td1\tx\n")
        read_qrels(tmp_path / "c.tsv")


def test_evaluation_scores_every_system_on_the_same_queries(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    dataset = load_beir(write_beir(tmp_path / "set"))
    report = evaluate_search(dataset, HashingEmbedder(dim=256), fusion=ScoreFusion(weights=(0.5, 0.5)),
                             tune_split="train", index_dir=tmp_path / "cache")
    assert set(report.results) == {"bm25", "dense", "hybrid", "hybrid-rrf", "hybrid-tuned"}
    assert report.queries == 4 and report.documents == 5
    for row in report.results.values():
        assert set(row) == {"ndcg@10", "mrr@10", "recall@100"}
        assert all(0.0 <= value <= 1.0 for value in row.values())
    assert report.results["bm25"]["recall@100"] == 1.0  # every query shares a word with its document
    assert report.results["hybrid"]["mrr@10"] > 0.5
    assert report.config["tuned_on"] == "train" and report.config["tuned_fusion"]
    assert "hybrid-tuned" in report.table() and json.dumps(report.as_dict())
    caplog.set_level("INFO", logger="kcrm.evaluation.search")
    again = evaluate_search(dataset, HashingEmbedder(dim=256), fusion=ScoreFusion(weights=(0.5, 0.5)),
                            index_dir=tmp_path / "cache", limit_queries=2)
    assert again.queries == 2 and "reusing the dense index" in caplog.text and "reusing the lexical" in caplog.text
    assert again.results["bm25"] == evaluate_search(dataset, HashingEmbedder(dim=256), limit_queries=2).results["bm25"]


def test_make_fusion_follows_the_settings() -> None:
    assert make_fusion(Settings(search_fusion="rrf", search_lexical_weight=0.5)).english == RRF(weights=(0.5, 0.5))
    assert make_fusion(Settings(search_lexical_weight=0.7)).english == ScoreFusion(weights=(0.7, 0.3))
    policy = make_fusion(Settings(search_fusion_zh="rrf", search_lexical_weight_zh=0.2))
    assert policy.for_query("花呗怎么还款") == RRF(weights=(0.2, 0.8))
    assert policy.for_query("refund") == policy.english
    with pytest.raises(BadQuery, match="unknown KCRM_SEARCH_FUSION"):
        make_fusion(Settings(search_fusion="borda"))


def test_expand_adds_expanded_rows_scored_on_the_same_queries(tmp_path: Path) -> None:
    dataset = load_beir(write_beir(tmp_path / "set"))
    plain = evaluate_search(dataset, HashingEmbedder(dim=256), index_dir=tmp_path / "cache")
    report = evaluate_search(dataset, HashingEmbedder(dim=256), index_dir=tmp_path / "cache", expand=True)
    assert {"bm25+expand", "hybrid+expand"} <= set(report.results) and "bm25+expand" not in plain.results
    assert report.results["bm25"] == plain.results["bm25"]
    assert report.config["expansion"]["weight"] == 0.5
    assert all(0.0 <= v <= 1.0 for row in report.results.values() for v in row.values())
