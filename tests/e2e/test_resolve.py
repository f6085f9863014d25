"""Two sources describing overlapping customers: a shared key merges them (recorded, nothing lost); a name
alone only makes a possible duplicate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kcrm import workflows

pytestmark = pytest.mark.e2e

CLEANUP = "MATCH (n) WHERE n.uid STARTS WITH 'RES-' CALL (n) { DETACH DELETE n } RETURN count(*) AS n"
NODES = "MATCH (c:Customer) WHERE c.uid STARTS WITH 'RES-' RETURN c.uid AS uid, properties(c) AS props"


@pytest.fixture
def clean(graph, loaded):
    graph.write(CLEANUP)
    yield graph
    graph.write(CLEANUP)


def customer(uid: str, **props) -> dict:
    return {"type": "Customer", "uid": uid, "props": props}


def write(folder: Path, name: str, records: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return folder


def test_overlapping_customers_from_two_sources_fold_into_one_node_each(clean, e2e_settings, tmp_path: Path) -> None:
    crm = write(tmp_path / "crm", "crm.jsonl", [
        customer("RES-CRM-1", name="Skyline Robotics Ltd", email="info@skyline-robotics.example", country="UK"),
        customer("RES-CRM-2", name="Zhongke Xinda", country="China"),
        customer("RES-CRM-3", name="Qingdao Lanhai Marine Supplies", nameZh="青岛蓝海船舶用品", country="China"),
        customer("RES-CRM-4", name="Nordic Widgets AS", country="Norway"),
    ])
    erp = write(tmp_path / "erp", "erp.jsonl", [
        customer("RES-ERP-1", name="SKYLINE ROBOTICS LIMITED", email="Info@Skyline-Robotics.example",
                 phone="+44 20 7946 0000", industry="Manufacturing"),
        customer("RES-ERP-2", name="中科信达", city="北京"),
        customer("RES-ERP-3", name="青岛蓝海船舶用品有限公司", email="sales@lanhai.example.cn"),
        customer("RES-ERP-4", name="Northern Gadgets", country="Sweden"),
        {"type": "Transaction", "uid": "RES-T1", "props": {"orderedAt": "2025-05-06T07:08:09+00:00", "total": 12.5},
         "rels": [{"from": "RES-ERP-1", "from_type": "Customer", "type": "PLACED"}]},
    ])
    assert workflows.ingest(e2e_settings, clean, crm, source="ingtest-crm").ok
    result = workflows.ingest(e2e_settings, clean, erp, source="ingtest-erp")
    assert result.ok, result.rejected
    assert {(m["merged"], m["keep"], m["rule"]) for m in result.merged} == {("RES-ERP-1", "RES-CRM-1", "email")}
    assert result.summary()["merged"] == 1
    possible = {(p["existing"], p["incoming"]) for p in result.possible}
    assert {("RES-CRM-2", "RES-ERP-2"), ("RES-CRM-3", "RES-ERP-3")} <= possible  # pinyin, Chinese legal form
    assert not any("RES-ERP-4" in pair for pair in possible)

    nodes = {r["uid"]: r["props"] for r in clean.read(NODES)}
    assert set(nodes) == {"RES-CRM-1", "RES-CRM-2", "RES-CRM-3", "RES-CRM-4", "RES-ERP-2", "RES-ERP-3", "RES-ERP-4"}
    skyline = nodes["RES-CRM-1"]
    assert skyline["name"] == "Skyline Robotics Ltd" and skyline["source"] == "ingtest-crm"
    assert skyline["phone"] == "+44 20 7946 0000" and skyline["industry"] == "Manufacturing"  # filled in
    assert skyline["mergedFrom"] == ["RES-ERP-1"]
    entry = json.loads(skyline["mergeLog"][0])
    assert entry["merged"] == "RES-ERP-1" and entry["source"] == "ingtest-erp" and entry["rule"] == "email"
    assert entry["score"] == 100.0 and entry["sourceRecord"] == "erp.jsonl:1" and entry["mergedAt"]
    assert entry["props"]["name"] == "SKYLINE ROBOTICS LIMITED"  # nothing lost: the other source's values kept
    assert set(entry["filled"]) == {"phone", "industry"}
    assert [(r["type"], r["out"], r["other"]) for r in entry["rels"]] == [("PLACED", True, "RES-T1")]
    assert "mergeLog" not in nodes["RES-CRM-2"] and nodes["RES-ERP-2"]["city"] == "北京"
    placed = clean.read("MATCH (c:Customer)-[r:PLACED]->(:Transaction {uid: 'RES-T1'}) RETURN c.uid AS uid, "
                        "r.source AS source")
    assert placed == [{"uid": "RES-CRM-1", "source": "ingtest-erp"}]

    again = workflows.ingest(e2e_settings, clean, erp, source="ingtest-erp")
    assert again.ok and len(again.merged) == 1
    assert {r["uid"]: r["props"] for r in clean.read(NODES)} == nodes  # same merges, nothing rewritten
