"""The forum expert-finding evaluation on a tiny forum written here: split, metrics, baselines, CLI."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kcrm.cli import app
from kcrm.evaluation.experts import (
    ANALYZER,
    evaluate_forums,
    fit_log_linear,
    format_report,
    history_before,
    kcrm_scorer,
    log_features,
    precision_at,
    reciprocal_rank,
    term_counts,
    text_index,
)
from kcrm.foundation.errors import ValidationFailed
from kcrm.search.lexical import BM25Index
from kcrm.search.tokenizer import default_analyzer
from kcrm.search.types import ChunkRecord

TOPICS = {"vpn": ("bob", "VPN tunnel drops after login, IPsec handshake fails"),
          "printer": ("alice", "Printer spooler jams, toner page blank"),
          "envelope": ("carl", "Envelope template API returns error")}


def write_forum(directory: Path) -> None:
    """Twelve threads per topic; carl also answers everything so that he is the most active."""
    start = datetime(2020, 1, 1)
    posts, qrels = [], []
    n = 0
    for round_ in range(12):
        for topic, (expert, text) in TOPICS.items():
            n += 1
            asked = start + timedelta(days=n)
            tid = f"f:{topic}:{n}"
            posts.append({"source": "f", "forum": topic, "thread_id": tid, "post_id": tid, "type": "question",
                          "is_solution": False, "author": f"asker{n}", "created_at": asked.isoformat(),
                          "title": f"{text} #{round_}", "text": text})
            posts.append({"source": "f", "forum": topic, "thread_id": tid, "post_id": tid + ".1", "type": "answer",
                          "is_solution": True, "author": expert, "created_at": (asked + timedelta(hours=2)).isoformat(),
                          "title": "Re", "text": f"fix for {text}"})
            if expert != "carl":
                posts.append({"source": "f", "forum": topic, "thread_id": tid, "post_id": tid + ".2",
                              "type": "answer", "is_solution": False, "author": "carl",
                              "created_at": (asked + timedelta(hours=3)).isoformat(), "title": "Re", "text": "bump"})
            qrels.append({"query_id": tid, "source": "f", "forum": topic, "asked_at": asked.isoformat(),
                          "asker": f"asker{n}", "expert": expert, "solution_post_id": tid + ".1",
                          "self_answered": "False"})
    with (directory / "posts.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(p) + "\n" for p in posts)
    with (directory / "expert_qrels_solution_author.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(qrels[0]))
        writer.writeheader()
        writer.writerows(qrels)


def test_metrics() -> None:
    assert reciprocal_rank(["a", "b", "c"], "b") == 0.5
    assert reciprocal_rank(["a"] * 10 + ["b"], "b") == 0.0
    assert precision_at(["a", "b"], "a", 1) == 1.0 and precision_at(["a", "b"], "b", 5) == 0.2


def test_bm25_prefers_the_matching_document() -> None:
    index = text_index({"d1": "vpn tunnel drops", "d2": "printer toner blank", "d3": "x y"})
    scores = index.scores("VPN drops")
    assert set(scores) == {"d1"} and scores["d1"] > 0


def test_the_evaluation_matches_text_as_the_product_does() -> None:
    """The product's analyzer: case folded, stop words dropped, words stemmed (so "dropped" finds "drops")."""
    assert ANALYZER.name == default_analyzer().name
    assert term_counts("The VPN tunnel drops, the tunnel!") == {"vpn": 1, "tunnel": 2, "drop": 1}
    index = text_index({"d1": "vpn tunnel drops", "d2": "the printer", "d3": "vpn"})
    scores = index.scores("Why was the tunnel dropped?")
    assert set(scores) == {"d1"} and not index.scores("the was why")  # stop words match nothing
    lexical = BM25Index()
    lexical.add([ChunkRecord(k, k, "", "", t, "en") for k, t in
                 {"d1": "vpn tunnel drops", "d2": "the printer", "d3": "vpn"}.items()])
    same = lexical.scores("vpn tunnel")
    assert index.scores("vpn tunnel") == pytest.approx({"d1": same[0], "d3": same[2]})  # the index's own scores


def test_topical_evidence_beats_activity_on_the_tiny_forum(tmp_path: Path) -> None:
    write_forum(tmp_path)
    report = evaluate_forums(tmp_path)
    body = report["sources"]["f"]
    assert body["queries"] > 0 and report["mode"] == "in-memory"
    assert body["most_active"]["p@1"] < 0.5, "carl answers everything, yet is the expert of one topic in three"
    assert body["kcrm"]["mrr@10"] > body["most_active"]["mrr@10"]
    assert body["bm25_profiles"]["mrr@10"] > body["most_active"]["mrr@10"]
    assert all(0.0 <= body[name][m] <= 1.0 for name in ("kcrm", "most_active", "bm25_profiles")
               for m in ("mrr@10", "p@1"))
    assert report["all"]["queries"] == body["queries"]


def test_bad_dataset_names_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="posts.jsonl is missing"):
        evaluate_forums(tmp_path)
    write_forum(tmp_path)
    with (tmp_path / "posts.jsonl").open("a") as fh:
        fh.write(json.dumps({"source": "f", "type": "answer"}) + "\n")
    with pytest.raises(ValidationFailed, match=r"posts.jsonl:\d+: missing field\(s\) forum, thread_id"):
        evaluate_forums(tmp_path)


def test_cli_prints_and_writes_the_figures(tmp_path: Path) -> None:
    write_forum(tmp_path)
    out = tmp_path / "figures.json"
    result = CliRunner().invoke(app, ["eval", "experts", "--dataset", str(tmp_path), "--json", str(out),
                                      "--no-held-out"])
    assert result.exit_code == 0, result.output
    assert "most_active" in result.output and "bm25_profiles" in result.output
    figures = json.loads(out.read_text())
    assert set(figures["sources"]["f"]) >= {"kcrm", "kcrm_text_alone", "kcrm_activity_alone", "kcrm_before",
                                            "most_active", "bm25_profiles"}
    assert figures["weights"]["combination"] == "product"
    by_forum = CliRunner().invoke(app, ["eval", "experts", "--dataset", str(tmp_path), "--by-forum", "--no-held-out",
                                        "--no-rolling"])
    assert by_forum.exit_code == 0, by_forum.output
    assert "forum f/vpn" in by_forum.output and "forum f/printer" in by_forum.output


def test_rolling_protocol_ranks_each_question_from_what_came_before_it(tmp_path: Path) -> None:
    from kcrm.evaluation.experts import history_before, read_dataset

    write_forum(tmp_path)
    posts, qrels = read_dataset(tmp_path)
    cut = max(q["at"] for q in qrels)
    history = history_before("f", posts, cut)
    assert history.answers and all(p["at"] < cut for p in history.answers)
    assert not any(p["author"].startswith("asker") for p in history.answers)
    report = evaluate_forums(tmp_path)
    rolling = report["rolling"]["all"]
    assert rolling["queries"] == report["all"]["queries"] > 0
    assert {"kcrm", "most_active", "bm25_profiles", "recently_active", "ceiling"} <= set(rolling)
    for name in ("kcrm", "most_active", "bm25_profiles", "recently_active"):
        assert rolling[name]["mrr@10"] <= rolling["ceiling"]["mrr@10"] == 1.0
    assert rolling["kcrm"]["mrr@10"] > rolling["recently_active"]["mrr@10"]
    assert report["all"]["ceiling"]["mrr@10"] == 1.0
    assert "rolling all" in format_report(report)


def test_standing_skills_rank_a_forum_s_recent_regular_over_an_occasional_visitor() -> None:
    from datetime import UTC

    from kcrm.evaluation.experts import SplitData, _profiles

    now = datetime(2021, 1, 1, tzinfo=UTC)
    data = SplitData(source="f", cut=now, threads={"t1": "q", "t2": "q", "t3": "q"},
                     forum_of={"t1": "vpn", "t2": "vpn", "t3": "printer"})
    data.answers = [{"author": "bob", "thread_id": "t1", "forum": "vpn", "at": now - timedelta(days=5)},
                     {"author": "bob", "thread_id": "t2", "forum": "vpn", "at": now - timedelta(days=6)},
                     {"author": "eve", "thread_id": "t3", "forum": "printer", "at": now - timedelta(days=400)},
                     {"author": "eve", "thread_id": "t1", "forum": "vpn", "at": now - timedelta(days=400)}]
    standing = _profiles(data, 30.0, standing=True)
    assert standing["bob"].skills == {"vpn": 5} and "vpn" not in standing["eve"].skills
    assert _profiles(data, 30.0)["eve"].skills["vpn"] == 5  # own share of work: blind to age and to others


def test_recut_by_forum_makes_one_community_per_forum(tmp_path: Path) -> None:
    from kcrm.evaluation.experts import read_dataset, recut_by_forum, split_source

    write_forum(tmp_path)
    posts, qrels = recut_by_forum(*read_dataset(tmp_path))
    assert {p["source"] for p in posts} == {q["source"] for q in qrels} == {"f/vpn", "f/printer", "f/envelope"}
    vpn = split_source("f/vpn", posts, qrels)
    assert vpn.queries and {p["author"] for p in vpn.answers} == {"bob", "carl"}, "only the forum's own history"


def test_thread_texts_carry_the_answers_seen_so_far(tmp_path: Path) -> None:
    from kcrm.evaluation.experts import history_before, read_dataset

    write_forum(tmp_path)
    posts, qrels = read_dataset(tmp_path)
    data = history_before("f", posts, max(q["at"] for q in qrels))
    tid = next(t for t in data.threads if ":vpn:" in t)
    assert "fix for" in data.thread_texts(True)[tid] and "fix for" not in data.thread_texts(False)[tid]
    assert data.index(True).scores("fix")  # answer words are searchable
    assert not data.index(False).scores("fix")


def test_fit_log_linear_recovers_which_feature_decides() -> None:
    """The expert is always the candidate highest on feature 0; feature 1 is noise."""
    import random

    rng = random.Random(3)
    cases = []
    for _ in range(60):
        rows = [[rng.uniform(-3, 0), rng.uniform(-3, 0)] for _ in range(5)]
        cases.append((rows, max(range(5), key=lambda i: rows[i][0])))
    w = fit_log_linear(cases + [([[0.0, 0.0]], 3)])  # a query whose expert is not a candidate is skipped
    assert w[0] > 1.0 and abs(w[1]) < w[0] / 5
    with pytest.raises(ValueError, match="no query"):
        fit_log_linear([([[0.0]], -1)])


def test_log_features_are_the_logs_the_product_multiplies(tmp_path: Path) -> None:
    from dataclasses import replace

    from kcrm.evaluation.experts import read_dataset
    from kcrm.kg.expert_scoring import FORUM_WEIGHTS

    write_forum(tmp_path)
    posts, qrels = read_dataset(tmp_path)
    query = {**qrels[-1], "text": "VPN tunnel drops", "forum": "vpn"}
    weights = replace(FORUM_WEIGHTS, prior_mix=((1.0, 0.5), (30.0, 1.0)), text_exponent=0.7)
    ranked = kcrm_scorer(history_before("f", posts, query["at"]), weights)(query)
    features = log_features(ranked)
    for entry in ranked:
        assert len(features[entry.expert]) == 3
        assert entry.score == pytest.approx(math.exp(0.5 * features[entry.expert][0] + features[entry.expert][1]
                                                     + 0.7 * features[entry.expert][2]))
    assert all(len(row) == 2 for row in log_features(ranked, with_text=False).values())
