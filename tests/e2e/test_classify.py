"""Topic classification on the real graph: CLASSIFIED_AS edges with score and method, idempotent, run on ingest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcrm import workflows

pytestmark = pytest.mark.e2e

SOURCE = "ingtest-classify"
CLEANUP = "MATCH (n {source: $source}) CALL (n) { DETACH DELETE n } RETURN count(*) AS n"
EDGES = "MATCH (a)-[r:CLASSIFIED_AS]->(t:Topic) RETURN a.uid AS a, t.uid AS t, r.score AS score, r.method AS method"


@pytest.fixture
def clean(graph, loaded, e2e_settings):
    graph.write(CLEANUP, source=SOURCE)
    workflows.topic_model_path(e2e_settings).unlink(missing_ok=True)
    yield graph
    graph.write(CLEANUP, source=SOURCE)
    graph.write("MATCH ()-[r:CLASSIFIED_AS]->() DELETE r")


def test_classify_files_every_text_under_topics_idempotently_and_on_ingest(clean, e2e_settings, tmp_path: Path) -> None:
    first = workflows.classify(e2e_settings, clean)
    texts = clean.read("MATCH (n) WHERE n:SupportCase OR n:Document RETURN count(n) AS n")[0]["n"]
    assert first["trained"] and first["method"] == "tfidf-nb" and first["nodes"] == texts
    edges = {(r["a"], r["t"]): r for r in clean.read(EDGES)}
    assert len({a for a, _ in edges}) == texts and first["edges"] == len(edges)
    assert all(0 < r["score"] <= 1 and r["method"] == "tfidf-nb" for r in edges.values())
    known = clean.read("MATCH (k:SupportCase)-[:HAS_TOPIC]->(t:Topic) RETURN k.uid AS k, t.uid AS t")
    best = {}
    for (a, t), r in edges.items():
        if a not in best or r["score"] > best[a][1]:
            best[a] = (t, r["score"])
    agree = sum(best[r["k"]][0] == r["t"] for r in known) / len(known)
    assert agree > 0.9  # trained on these very cases: a check of the write path, not of accuracy (see eval)

    second = workflows.classify(e2e_settings, clean)
    assert not second["trained"] and second["removed"] == 0
    assert {k: (r["score"], r["method"]) for k, r in edges.items()} == \
        {(r["a"], r["t"]): (r["score"], r["method"]) for r in clean.read(EDGES)}

    report = workflows.evaluate_topics(e2e_settings, clean)
    methods = report["methods"]
    assert report["held_out"] > 100 and set(methods) == {"majority", "taxonomy-labels", "tfidf-nb"}
    assert methods["tfidf-nb"]["accuracy"] > methods["taxonomy-labels"]["accuracy"] > methods["majority"]["accuracy"]

    source = tmp_path / "src"
    source.mkdir()
    (source / "cases.jsonl").write_text(json.dumps({"type": "SupportCase", "uid": "CLS-1", "props": {
        "title": "申请退款", "description": "退货已经寄回两周了，退款还没有到账，请尽快原路退回。", "language": "zh",
        "status": "open", "openedAt": "2025-03-04T05:06:07+00:00"}}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = workflows.ingest(e2e_settings, clean, source, source=SOURCE)
    assert result.ok and result.enriched["classified"]["nodes"] == 1 and not result.enriched["classified"]["trained"]
    filed = clean.read("MATCH (:SupportCase {uid: 'CLS-1'})-[r:CLASSIFIED_AS]->(t:Topic) "
                       "RETURN t.uid AS t, r.score AS s ORDER BY s DESC")
    assert filed[0]["t"] == "topic-refund"
