"""The sample company: counts, format, referential integrity, language mix, determinism and realism."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from kcrm.ingest.validate import validate_record
from kcrm.kg.records import read_jsonl
from kcrm.ontology.model import load_ontology
from kcrm.ontology.taxonomy import leaf_concepts, load_concepts
from kcrm.sample import FILES, GENERATOR, generate_sample

MINIMUMS = {"Customer": 300, "Product": 60, "Policy": 25, "IndustryRule": 25, "Employee": 40, "SupportCase": 3000,
            "Document": 150, "Segment": 6, "Channel": 5, "Transaction": 6000}
PREFIXES = {"Customer": "CUS-", "Product": "PRD-", "Policy": "POL-", "IndustryRule": "RULE-", "Employee": "EMP-",
            "SupportCase": "CASE-", "Document": "DOC-", "Segment": "SEG-", "Channel": "CH-", "Transaction": "TXN-",
            "Campaign": "CMP-", "Action": "ACT-"}
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
CJK = re.compile(r"[\u4e00-\u9fff]")
Data = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sample")
    generate_sample(directory, seed=42)  # its speed is benchmarks/pipeline.py's business, not a test's
    return directory


@pytest.fixture(scope="module")
def data(out: Path) -> Data:
    return {rtype: [json.loads(line) for line in (out / name).read_text(encoding="utf-8").splitlines()]
            for rtype, name in FILES.items()}


def _ends(rec: dict[str, Any], rtype: str) -> list[str]:
    return [r.get("to") or r["from"] for r in rec["rels"] if r["type"] == rtype]


def _one(rec: dict[str, Any], rtype: str) -> str:
    ends = _ends(rec, rtype)
    assert len(ends) == 1, (rec["uid"], rtype, ends)
    return ends[0]


def test_counts_meet_the_minimums_and_match_the_manifest(out: Path, data: Data) -> None:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generator"] == GENERATOR == "kcrm.sample" and manifest["seed"] == 42
    assert manifest["counts"] == {rtype: len(records) for rtype, records in data.items()}
    for rtype, minimum in MINIMUMS.items():
        assert len(data[rtype]) >= minimum, rtype
    assert len(data["Channel"]) == 5 and len(data["Segment"]) <= 8
    assert {c["props"]["name"] for c in data["Channel"]} == {"Email", "Phone", "Live chat", "Web portal", "WeChat"}


def test_lines_are_sorted_utf8_records_in_the_loader_shape(out: Path, data: Data) -> None:
    for rtype, name in FILES.items():
        text = (out / name).read_text(encoding="utf-8")
        assert "\\u" not in text, f"{name} escapes non-ASCII"
        for line in text.splitlines():
            rec = json.loads(line)
            assert json.dumps(rec, ensure_ascii=False, sort_keys=True) == line
            assert set(rec) == {"type", "uid", "props", "rels"} and rec["type"] == rtype
            assert rec["uid"].startswith(PREFIXES[rtype])
            for key, value in rec["props"].items():
                assert CAMEL.match(key), key
                assert isinstance(value, (str, int, float, bool)) or (
                    isinstance(value, list) and all(isinstance(v, str) for v in value)), (rec["uid"], key)
            for rel in rec["rels"]:
                assert ("to" in rel) != ("from" in rel), rel
                end = "to" if "to" in rel else "from"
                assert set(rel) - {"props"} == {"type", end, f"{end}_type"}


def test_every_record_passes_the_ontology_validator(out: Path) -> None:
    ontology = load_ontology()
    for name in FILES.values():
        for item in read_jsonl(out / name):
            record, problems = validate_record(ontology, item)  # type: ignore[arg-type]
            assert record is not None and not problems, problems[:3]


def test_every_relationship_target_exists_and_is_written_once(data: Data) -> None:
    concepts = load_concepts()
    known = {(c.kind, c.uid) for c in concepts}
    known |= {(rtype, rec["uid"]) for rtype, records in data.items() for rec in records}
    uids = [(rtype, rec["uid"]) for rtype, records in data.items() for rec in records]
    assert len(uids) == len(set(uids))
    edges: Counter[tuple[str, str, str]] = Counter()
    for rtype, records in data.items():
        for rec in records:
            for rel in rec["rels"]:
                other = (rel.get("to_type") or rel["from_type"], rel.get("to") or rel["from"])
                assert other in known, (rec["uid"], rel)
                start, end = ((rtype, rec["uid"]), other) if "to" in rel else (other, (rtype, rec["uid"]))
                edges[(start[1], rel["type"], end[1])] += 1
    repeated = [edge for edge, n in edges.items() if n > 1]
    assert not repeated, repeated[:5]


def test_cases_and_products_use_leaf_concepts(data: Data) -> None:
    concepts = load_concepts()
    leaf_topics = {c.uid for c in leaf_concepts(concepts, "topics")}
    leaf_categories = {c.uid for c in leaf_concepts(concepts, "product-categories")}
    assert {_one(c, "HAS_TOPIC") for c in data["SupportCase"]} <= leaf_topics
    assert len({_one(c, "HAS_TOPIC") for c in data["SupportCase"]}) == len(leaf_topics)
    assert {_one(p, "IN_CATEGORY") for p in data["Product"]} <= leaf_categories


def test_about_a_third_of_the_text_is_chinese(data: Data) -> None:
    for rtype in ("Customer", "SupportCase", "Document", "Policy"):
        share = sum(r["props"]["language"] == "zh" for r in data[rtype]) / len(data[rtype])
        assert 0.27 <= share <= 0.42, (rtype, share)
    for case in data["SupportCase"]:
        chinese = bool(CJK.search(case["props"]["description"]))
        assert chinese == (case["props"]["language"] == "zh"), case["uid"]
    for customer in data["Customer"]:
        is_zh = customer["props"]["language"] == "zh"
        assert is_zh == (customer["props"]["country"] == "China") == bool(CJK.search(customer["props"]["name"]))


def test_generation_is_deterministic_across_processes(out: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    code = "import sys; from pathlib import Path; from kcrm.sample import generate_sample; " \
           "generate_sample(Path(sys.argv[1]), seed=42)"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "again")], check=True, env=env)
    for name in [*FILES.values(), "manifest.json"]:
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name


def test_another_seed_gives_another_company(out: Path, tmp_path: Path) -> None:
    counts = generate_sample(tmp_path, seed=7)
    assert counts["SupportCase"] == 3000
    assert (tmp_path / "support_cases.jsonl").read_bytes() != (out / "support_cases.jsonl").read_bytes()


def test_case_texts_are_varied(data: Data) -> None:
    cases = data["SupportCase"]
    descriptions = [c["props"]["description"] for c in cases]
    assert len(set(descriptions)) / len(descriptions) > 0.95
    assert len({c["props"]["title"] for c in cases}) > 1000
    assert len({c["props"]["resolution"] for c in cases if c["props"]["resolution"]}) > 1000
    for case in cases:
        body = case["props"]["description"].split("\n")[-1]
        sentences = len(re.findall(r"[。！？]", body)) if case["props"]["language"] == "zh" else \
            len(re.findall(r"[.!?](?:\s|$)", body))
        assert 2 <= sentences <= 7, (case["uid"], body)


def test_case_lifecycle_is_consistent(data: Data) -> None:
    for case in data["SupportCase"]:
        props, done = case["props"], case["props"]["status"] in ("resolved", "closed")
        assert props["priority"] in ("low", "medium", "high", "urgent")
        assert props["status"] in ("open", "pending", "resolved", "closed")
        assert "2023-01-01" <= props["openedAt"] <= "2026-10-31T23:59:59+00:00"
        assert ("closedAt" in props) == done == bool(props["resolution"]) == bool(_ends(case, "RESOLVED_BY"))
        if done:
            assert props["openedAt"] < props["closedAt"] <= "2026-10-31T23:59:59+00:00"
        assert len(_ends(case, "RAISED")) == 1 and len(_ends(case, "ABOUT_PRODUCT")) == 1
    statuses = Counter(c["props"]["status"] for c in data["SupportCase"])
    assert statuses["open"] + statuses["pending"] >= 10


def _topic_cases(data: Data, topic: str, lang: str) -> list[dict[str, Any]]:
    return [c for c in data["SupportCase"] if _one(c, "HAS_TOPIC") == topic and c["props"]["language"] == lang]


def test_refund_cases_exist_in_both_languages_with_refund_words(data: Data) -> None:
    en = _topic_cases(data, "topic-refund", "en")
    zh = _topic_cases(data, "topic-refund", "zh")
    text = lambda c: (c["props"]["title"] + " " + c["props"]["description"]).lower()  # noqa: E731
    assert sum("refund" in text(c) for c in en) >= 50 and any("money back" in text(c) for c in en)
    assert sum("退款" in text(c) for c in zh) >= 30 and any("退货退款" in text(c) for c in zh)
    policies = {p["uid"]: set(_ends(p, "HAS_TOPIC")) for p in data["Policy"]}
    for case in en + zh:
        governing = [uid for uid in _ends(case, "GOVERNED_BY") if uid.startswith("POL-")]
        assert governing and "topic-refund" in policies[governing[0]], case["uid"]


def test_printer_driver_after_os_update_story_exists_in_both_languages(data: Data) -> None:
    printer_categories = ("cat-laser-printers", "cat-inkjet-printers")
    printers = {p["uid"] for p in data["Product"] if _one(p, "IN_CATEGORY") in printer_categories}
    for lang, words in (("en", ("update", "windows")), ("zh", ("更新", "升级"))):
        text = lambda c: (c["props"]["title"] + " " + c["props"]["description"]).lower()  # noqa: E731
        story = [c for c in _topic_cases(data, "topic-driver-update", lang) if _one(c, "ABOUT_PRODUCT") in printers
                 and ("驱动" in text(c) or "driver" in text(c)) and any(w in text(c) for w in words)]
        assert len(story) >= 5, lang


def test_a_few_skilled_people_resolve_most_cases_of_a_topic(data: Data) -> None:
    staff = {e["uid"]: e for e in data["Employee"]}
    skills = {uid: {r["to"]: r["props"]["level"] for r in e["rels"] if r["type"] == "HAS_SKILL"}
              for uid, e in staff.items()}
    assert all(2 <= len(s) <= 5 and all(1 <= v <= 5 for v in s.values()) for s in skills.values())
    by_topic: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    skilled = total = 0
    for case in data["SupportCase"]:
        for resolver in _ends(case, "RESOLVED_BY"):
            topic = _one(case, "HAS_TOPIC")
            by_topic[(topic, case["props"]["language"])][resolver] += 1
            skilled += topic in skills[resolver]
            total += 1
            assert case["props"]["language"] in staff[resolver]["props"]["languages"], case["uid"]
    assert 0.8 <= skilled / total < 1.0
    for (topic, lang), counts in by_topic.items():
        if sum(counts.values()) >= 25:
            (top, _), = counts.most_common(1)
            assert skills[top].get(topic, 0) >= 4, (topic, lang)
            assert sum(n for _, n in counts.most_common(2)) / sum(counts.values()) >= 0.5, (topic, lang)


def test_documents_are_written_by_skilled_authors_in_their_language(data: Data) -> None:
    staff = {e["uid"]: e for e in data["Employee"]}
    skills = {uid: set(_ends(e, "HAS_SKILL")) for uid, e in staff.items()}
    assert {d["props"]["docType"] for d in data["Document"]} == {"manual", "faq", "kb-article", "troubleshooting-guide",
                                                                  "release-notes"}
    matched = 0
    for doc in data["Document"]:
        author = _one(doc, "AUTHORED")
        assert doc["props"]["language"] in staff[author]["props"]["languages"]
        matched += bool(skills[author] & set(_ends(doc, "HAS_TOPIC")))
        assert doc["props"]["text"].count("\n\n") >= 2, doc["uid"]
    assert matched / len(data["Document"]) >= 0.8


def test_transactions_add_up_and_span_the_whole_period(data: Data) -> None:
    purchased: dict[tuple[str, str], int] = Counter()
    years: Counter[str] = Counter()
    for txn in data["Transaction"]:
        props, lines = txn["props"], [r for r in txn["rels"] if r["type"] == "CONTAINS"]
        assert 1 <= len(lines) <= 4 and len(_ends(txn, "VIA_CHANNEL")) == 1
        line_sum = sum(r["props"]["quantity"] * r["props"]["unitPrice"] for r in lines)
        assert props["total"] == pytest.approx(line_sum, abs=0.01)
        assert "2023-01-01" <= props["orderedAt"] <= "2026-10-31T23:59:59+00:00"
        years[props["orderedAt"][:4]] += 1
        for line in lines:
            purchased[(_one(txn, "PLACED"), line["to"])] += line["props"]["quantity"]
    assert set(years) == {"2023", "2024", "2025", "2026"} and min(years.values()) > 900
    summary = {(c["uid"], r["to"]): r["props"] for c in data["Customer"] for r in c["rels"] if r["type"] == "PURCHASED"}
    assert set(summary) == set(purchased)
    for key, props in summary.items():
        assert props["quantity"] == purchased[key] and props["firstPurchase"] <= props["lastPurchase"]


def test_some_customers_stop_buying_in_the_last_six_months(data: Data) -> None:
    last: dict[str, str] = {}
    for txn in data["Transaction"]:
        customer = _one(txn, "PLACED")
        last[customer] = max(last.get(customer, ""), txn["props"]["orderedAt"])
    assert set(last) == {c["uid"] for c in data["Customer"]}
    lapsed = [c for c, day in last.items() if "2025-01-01" <= day < "2026-05-01"]
    assert 0.1 <= len(lapsed) / len(last) <= 0.35


def test_every_customer_has_an_account_manager_who_speaks_their_language(data: Data) -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    staff = {e["uid"]: e for e in data["Employee"]}
    for employee in data["Employee"]:
        for rel in employee["rels"]:
            if rel["type"] == "OWNS" and rel["to_type"] == "Customer":
                owners[rel["to"]].append(employee["uid"])
    for customer in data["Customer"]:
        (manager,) = owners[customer["uid"]]
        assert staff[manager]["props"]["team"] == "Account Management"
        assert customer["props"]["language"] in staff[manager]["props"]["languages"]
        assert len(_ends(customer, "IN_SEGMENT")) == 1
    teams = Counter(e["props"]["team"] for e in data["Employee"])
    assert set(teams) == {"Billing", "Technical Support L1", "Technical Support L2", "Networking",
                          "Security & Compliance", "Account Management", "Logistics"}


def test_rules_and_policies_apply_where_they_should(data: Data) -> None:
    rules = {r["uid"]: r for r in data["IndustryRule"]}
    irish_businesses = [c for c in data["Customer"]
                        if c["props"]["country"] == "Ireland" and c["props"]["industry"] != "Consumer"]
    assert irish_businesses and all("RULE-001" in _ends(c, "GOVERNED_BY") for c in irish_businesses)
    chinese = [c for c in data["Customer"] if c["props"]["country"] == "China"]
    assert all(any(rules[u]["props"]["jurisdiction"] == "中国大陆" for u in _ends(c, "GOVERNED_BY")) for c in chinese)
    for reg in [*data["Policy"], *data["IndustryRule"]]:
        assert _ends(reg, "HAS_TOPIC") and _ends(reg, "APPLIES_TO"), reg["uid"]
        assert len(reg["props"]["text"]) > 150


def test_policies_carry_the_jurisdiction_of_their_region(data: Data) -> None:
    from kcrm.sample.policies import JURISDICTION_OF_REGION, POLICIES

    written = {rec["uid"]: rec["props"].get("jurisdiction") for rec in data["Policy"]}
    assert written == {p.uid: JURISDICTION_OF_REGION[p.region] for p in POLICIES}
    assert {"中国大陆", "International (excluding China)", "Global"} <= set(written.values())
