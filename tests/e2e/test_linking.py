"""Entity linking on the real graph: ingest links the cases it brings, `kcrm link` relinks everything, idempotently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcrm import workflows

pytestmark = pytest.mark.e2e

SOURCE = "ingtest-link"
CLEANUP = "MATCH (n {source: $source}) CALL (n) { DETACH DELETE n } RETURN count(*) AS n"
MENTIONS = ("MATCH (a)-[r:MENTIONS]->(b) WHERE a.uid IN $uids RETURN a.uid AS case, b.uid AS uid, labels(b)[0] AS type, "
            "r.confidence AS confidence, r.mentionText AS text, r.offset AS offset, r.mentionCount AS count, "
            "r.method AS method, r.computedAt AS at")
ALL_MENTIONS = ("MATCH (a)-[r:MENTIONS]->(b) RETURN a.uid AS a, b.uid AS b, r.confidence AS c, r.mentionText AS t, "
                "r.offset AS o, r.mentionCount AS n")


@pytest.fixture
def clean(graph, loaded):
    graph.write(CLEANUP, source=SOURCE)
    yield graph
    graph.write(CLEANUP, source=SOURCE)
    graph.write("MATCH ()-[r:MENTIONS]->() DELETE r")


def case(uid: str, title: str, description: str, language: str) -> str:
    return json.dumps({"type": "SupportCase", "uid": uid, "props": {
        "title": title, "description": description, "language": language, "status": "open",
        "openedAt": "2025-03-04T05:06:07+00:00"}}, ensure_ascii=False) + "\n"


def test_ingest_links_mentions_and_kcrm_link_is_idempotent(clean, e2e_settings, tmp_path: Path) -> None:
    customer = clean.read("MATCH (c:Customer) WHERE c.language = 'zh' RETURN c.uid AS uid, c.name AS name "
                          "ORDER BY c.uid LIMIT 1")[0]
    product = clean.read("MATCH (p:Product) WHERE p.sku IS NOT NULL RETURN p.uid AS uid, p.name AS name, p.sku AS sku "
                         "ORDER BY p.uid LIMIT 1")[0]
    employee = clean.read("MATCH (e:Employee) WHERE e.name =~ '[A-Za-z ]+' RETURN e.uid AS uid, e.name AS name "
                          "ORDER BY e.uid LIMIT 1")[0]
    policy = clean.read("MATCH (p:Policy) WHERE p.language = 'en' RETURN p.uid AS uid, p.title AS title "
                        "ORDER BY p.uid LIMIT 1")[0]
    source = tmp_path / "src"
    source.mkdir()
    title = f"{product['name']} keeps failing"
    (source / "cases.jsonl").write_text(
        case("LINK-1", title, f"Please ask {employee['name']} to check our {product['sku']}; "
                               f"the {policy['title']} says we are covered.", "en")
        + case("LINK-2", "退款进度", f"我们是{customer['name']}，设备坏了，{product['sku']}无法开机。", "zh")
        + case("LINK-3", "Nothing to link", "The weather was fine today.", "en"), encoding="utf-8")

    result = workflows.ingest(e2e_settings, clean, source, source=SOURCE)
    assert result.ok and result.enriched["linked"]["nodes"] == 3
    rows = clean.read(MENTIONS, uids=["LINK-1", "LINK-2", "LINK-3"])
    found = {(r["case"], r["uid"]) for r in rows}
    assert found == {("LINK-1", product["uid"]), ("LINK-1", employee["uid"]), ("LINK-1", policy["uid"]),
                     ("LINK-2", customer["uid"]), ("LINK-2", product["uid"])}
    first = next(r for r in rows if r["case"] == "LINK-1" and r["uid"] == product["uid"])
    assert first["offset"] == 0 and first["text"] == product["name"] and first["count"] == 2
    assert first["method"] == "ruler" and 0.5 < first["confidence"] <= 1.0 and first["at"]
    chinese = next(r for r in rows if r["case"] == "LINK-2" and r["uid"] == customer["uid"])
    text = f"退款进度\n\n我们是{customer['name']}，设备坏了，{product['sku']}无法开机。"
    assert text[chinese["offset"]:chinese["offset"] + len(chinese["text"])] == customer["name"]
    assert {r["type"] for r in rows} == {"Product", "Employee", "Policy", "Customer"}

    # the same ingest again changes no edge; a changed text drops the edge it no longer supports
    again = workflows.ingest(e2e_settings, clean, source, source=SOURCE)
    assert {(r["case"], r["uid"], r["text"], r["offset"]) for r in clean.read(MENTIONS, uids=["LINK-1", "LINK-2"])} \
        == {(r["case"], r["uid"], r["text"], r["offset"]) for r in rows}
    assert again.enriched["linked"]["removed"] == 0
    (source / "cases.jsonl").write_text(case("LINK-1", "Still failing", f"Our {product['sku']} again.", "en"),
                                        encoding="utf-8")
    changed = workflows.ingest(e2e_settings, clean, source, source=SOURCE)
    assert changed.enriched["linked"]["removed"] == 2
    assert {r["uid"] for r in clean.read(MENTIONS, uids=["LINK-1"])} == {product["uid"]}

    # kcrm link over the whole graph, twice: the same edges both times
    stats = workflows.link(e2e_settings, clean)
    total_texts = clean.read("MATCH (n) WHERE n:SupportCase OR n:Document RETURN count(n) AS n")[0]["n"]
    assert stats["nodes"] == total_texts and stats["edges"] > 0
    snapshot = {tuple(r.values()) for r in clean.read(ALL_MENTIONS)}
    stats2 = workflows.link(e2e_settings, clean)
    assert {tuple(r.values()) for r in clean.read(ALL_MENTIONS)} == snapshot
    assert stats2["removed"] == 0 and stats2["edges"] == stats["edges"] == len(snapshot)
    about = clean.read("MATCH (k:SupportCase)-[:ABOUT_PRODUCT]->(p:Product) WHERE k.language = 'en' "
                       "AND k.description CONTAINS p.name RETURN k.uid AS k, p.uid AS p LIMIT 20")
    assert about and all((r["k"], r["p"]) in {(a, b) for a, b, *_ in snapshot} for r in about)
