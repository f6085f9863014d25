"""The shipped sample company: a deterministic generator of Skylark Systems' customer knowledge.

`kcrm demo` loads what this writes. Everything derives from one seed through named sub-streams
(`random.Random(f"{seed}:customers")`...), so the same seed gives byte-identical files and a
change in one part does not reshuffle the others. Topics and product categories are not written:
they come from `ontology/taxonomy.ttl`, and this module checks every reference to them.

Conventions of the files: each relationship is written once, on the record that keeps the files
small and local - PLACED on the Transaction (`from` Customer), RAISED on the SupportCase (`from`
Customer), AUTHORED on the Document (`from` Employee); IN_SEGMENT, PURCHASED and GOVERNED_BY on
the Customer; HAS_SKILL and OWNS on the Employee. Date-times are UTC with an explicit offset;
`industry`, `country` and `jurisdiction` values are canonical facet values (English, except the
Chinese jurisdiction name "中国大陆" on Chinese rules), while names, cities and texts are in the
customer's own language.

Run `kcrm sample --out DIR --seed N` to write the files by hand.
"""

from __future__ import annotations

import json
import logging
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from kcrm.ontology.taxonomy import load_concepts
from kcrm.sample.access import assign_access_groups
from kcrm.sample.actions import build_actions
from kcrm.sample.campaigns import build_campaigns
from kcrm.sample.cases import CaseContext, build_cases, region_matches
from kcrm.sample.catalog import CHANNELS, PRODUCTS, SEGMENTS, TOPICS, ProductRow
from kcrm.sample.common import SCENARIO_KINDS, TEXT_KEYS, Record, iso, record, rel_from, rel_to
from kcrm.sample.docs import DocContext, build_documents
from kcrm.sample.orders import Order, build_orders
from kcrm.sample.people import Customer, Employee, build_customers, build_employees
from kcrm.sample.policies import JURISDICTION_OF_REGION, POLICIES, Regulation
from kcrm.sample.rules import RULES
from kcrm.sample.texts import LANGUAGES, load_texts

log = logging.getLogger(__name__)

GENERATOR = "kcrm.sample"
FILES = {"Customer": "customers.jsonl", "Product": "products.jsonl", "Policy": "policies.jsonl",
         "IndustryRule": "industry_rules.jsonl", "Employee": "employees.jsonl", "SupportCase": "support_cases.jsonl",
         "Document": "documents.jsonl", "Segment": "segments.jsonl", "Channel": "channels.jsonl",
         "Transaction": "transactions.jsonl", "Campaign": "campaigns.jsonl",
         "Action": "actions.jsonl"}
TEXTS = {language: load_texts(language) for language in LANGUAGES}
# product category -> e-mail local parts of the staff who own products in it
_PRODUCT_OWNERS = {
    "cat-laser-printers": ["daniel.kim", "zhao.qiang"], "cat-inkjet-printers": ["zhang.min", "michael.brooks"],
    "cat-printer-supplies": ["michael.brooks", "zhang.min"], "cat-laptops": ["james.walsh", "zhou.ting"],
    "cat-routers": ["aisha.rahman", "wu.hao"], "cat-switches": ["chris.anderson", "zheng.kai"],
    "cat-access-points": ["kevin.murphy", "zheng.kai"], "cat-security-software": ["ben.thompson", "ma.chao"],
    "cat-office-software": ["olivia.bennett", "sun.yue"], "cat-cloud-storage": ["marcus.lee", "sun.yue"],
    "cat-docks-hubs": ["ryan.oconnor", "james.walsh"], "cat-headsets": ["ryan.oconnor", "li.na"],
    "cat-support-plans": ["robert.hughes", "lin.feng"], "cat-extended-warranty": ["paul.martin", "zhu.lin"],
}


def _stream(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}:{name}")


def _check_taxonomy() -> dict[str, Any]:
    """Fail fast if the catalogue or the templates name a concept the taxonomy lacks."""
    concepts = {c.uid: c for c in load_concepts()}
    parents = {c.broader for c in concepts.values() if c.broader}
    names = [*TOPICS, *(r.category for r in PRODUCTS)]
    names += [t for reg in (*POLICIES, *RULES) for t in (*reg.topics, *reg.categories)]
    missing = sorted({n for n in names if n not in concepts})
    if missing:
        raise ValueError(f"sample data refers to concepts missing from taxonomy.ttl: {missing}")
    not_leaf = sorted({t for t in TOPICS if t in parents} | {r.category for r in PRODUCTS if r.category in parents})
    if not_leaf:
        raise ValueError(f"cases and products must use leaf concepts: {not_leaf}")
    for lang, texts in TEXTS.items():
        if sorted(texts) != sorted(TOPICS):
            raise ValueError(f"{lang} templates do not cover exactly the case topics")
        for topic, text in texts.items():
            if sorted(text) != sorted(TEXT_KEYS) or any(s[0] not in SCENARIO_KINDS for s in text["scenarios"]):
                raise ValueError(f"{lang} templates for {topic} are malformed")
    return concepts


def _product_records(employees: list[Employee],
                     rng: random.Random) -> tuple[list[Record], dict[str, str], dict[str, str]]:
    """Product records, the uid of each model, and each product's owner."""
    by_local = {e.email.split("@")[0]: e.uid for e in employees}
    records, uid_of_model, owners = [], {}, {}
    for n, row in enumerate(PRODUCTS, start=1):
        uid = f"PRD-{n:04d}"
        uid_of_model[row.model] = uid
        owners[uid] = by_local[rng.choice(_PRODUCT_OWNERS[row.category])]
        description = f"{row.feature_en[0].upper()}{row.feature_en[1:]}. {row.feature_zh}。"
        props = {"name": row.name, "sku": f"SKL-{row.model.upper()}", "description": description,
                 "price": float(row.price_usd), "currency": "USD"}
        records.append(record("Product", uid, props, [rel_to("IN_CATEGORY", row.category, "ProductCategory")]))
    return records, uid_of_model, owners


def _employee_records(employees: list[Employee], customers: list[Customer], owners: dict[str, str]) -> list[Record]:
    owned: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for customer in customers:
        owned[customer.owner].append((customer.uid, "Customer"))
    for product, owner in owners.items():
        owned[owner].append((product, "Product"))
    records = []
    for e in employees:
        rels = [rel_to("HAS_SKILL", topic, "Topic", {"level": level}) for topic, level in sorted(e.skills.items())]
        rels += [rel_to("OWNS", uid, kind) for uid, kind in sorted(owned[e.uid], key=lambda x: (x[1], x[0]))]
        props = {"name": e.name, "email": e.email, "team": e.team, "jobTitle": e.job_title,
                 "languages": list(e.languages)}
        records.append(record("Employee", e.uid, props, rels))
    return records


def customer_rules(customer: Customer, rules: tuple[Regulation, ...]) -> list[str]:
    """Industry rules that bind this customer: data laws for businesses, consumer law for people."""
    found = []
    for rule in rules:
        if not region_matches(rule.region, customer):
            continue
        if customer.is_person and rule.consumer_only:
            found.append(rule.uid)
        elif not customer.is_person and rule.binds and ("*" in rule.binds or customer.industry in rule.binds):
            found.append(rule.uid)
    return found


def _customer_records(customers: list[Customer], orders: list[Order]) -> list[Record]:
    purchased: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    for order in orders:
        for line in order.lines:
            seen = purchased[order.customer].setdefault(line.product, [order.ordered_at, order.ordered_at, 0])
            seen[1] = order.ordered_at
            seen[2] += line.quantity
    records = []
    for c in customers:
        props = {"name": c.name, "industry": c.industry, "country": c.country, "city": c.city, "email": c.email,
                 "phone": c.phone, "customerSince": c.since.isoformat(), "language": c.language}
        rels = [rel_to("IN_SEGMENT", c.segment, "Segment")]
        rels += [rel_to("PURCHASED", product, "Product",
                        {"firstPurchase": iso(first), "lastPurchase": iso(last), "quantity": qty})
                 for product, (first, last, qty) in sorted(purchased[c.uid].items())]
        rels += [rel_to("GOVERNED_BY", uid, "IndustryRule") for uid in customer_rules(c, RULES)]
        records.append(record("Customer", c.uid, props, rels))
    return records


def _transaction_records(orders: list[Order]) -> list[Record]:
    records = []
    for o in orders:
        props = {"orderNumber": o.number, "orderedAt": iso(o.ordered_at), "total": o.total, "currency": o.currency}
        rels = [rel_from("PLACED", o.customer, "Customer"), rel_to("VIA_CHANNEL", o.channel, "Channel")]
        rels += [rel_to("CONTAINS", line.product, "Product",
                        {"quantity": line.quantity, "unitPrice": line.unit_price, "lineNo": n})
                 for n, line in enumerate(o.lines, start=1)]
        records.append(record("Transaction", o.uid, props, rels))
    return records


def _regulation_records(uid_of_model: dict[str, str]) -> list[Record]:
    records = []
    for reg in (*POLICIES, *RULES):
        if reg.kind == "Policy":
            props = {"title": reg.title, "text": reg.text, "effectiveFrom": reg.effective_from,
                     "language": reg.language, "jurisdiction": JURISDICTION_OF_REGION[reg.region]}
        else:
            props = {"title": reg.title, "text": reg.text, "jurisdiction": reg.jurisdiction, "industry": reg.industry,
                     "language": reg.language}
        rels = [rel_to("APPLIES_TO", c, "ProductCategory") for c in reg.categories]
        rels += [rel_to("APPLIES_TO", uid_of_model[m], "Product") for m in reg.products]
        rels += [rel_to("APPLIES_TO", s, "Segment") for s in reg.segments]
        rels += [rel_to("HAS_TOPIC", t, "Topic") for t in reg.topics]
        records.append(record(reg.kind, reg.uid, props, rels))
    return records


def _case_examples(cases: list[Record]) -> dict[tuple[str, str], list[tuple[str, str, str, str]]]:
    """Resolved cases by (topic, language) as (product, closedAt, description, resolution), quoted in articles."""
    found: dict[tuple[str, str], list[tuple[str, str, str, str]]] = defaultdict(list)
    for case in cases:
        props = case["props"]
        if props["resolution"]:
            ends = {r["type"]: r["to"] for r in case["rels"] if "to" in r}
            found[(ends["HAS_TOPIC"], props["language"])].append(
                (ends["ABOUT_PRODUCT"], props["closedAt"], props["description"].split("\n")[-1], props["resolution"]))
    return found


def build_sample(seed: int = 42) -> dict[str, list[Record]]:
    """All sample records by class, in file order."""
    return build_sample_with_truth(seed)[0]


def build_sample_with_truth(seed: int = 42) -> tuple[dict[str, list[Record]], dict[str, Any]]:
    """All sample records by class, and the true effect of each kind of action (see `sample.actions`).

    Cases and documents are built from the ordinary orders only; the extra orders the actions
    caused join the transactions and the customers' purchase summaries.
    """
    concepts = _check_taxonomy()
    employees = build_employees()
    customers = build_customers(_stream(seed, "customers"), employees)
    product_records, uid_of_model, owners = _product_records(employees, _stream(seed, "products"))
    rows = {uid: row for uid, row in zip((r["uid"] for r in product_records), PRODUCTS, strict=True)}
    catalogue: list[tuple[str, ProductRow]] = list(rows.items())
    orders = build_orders(customers, [(row.category, row) for _, row in catalogue], [uid for uid, _ in catalogue],
                          _stream(seed, "orders"))
    regulations = [*POLICIES, *RULES]
    case_ctx = CaseContext(customers, orders, rows, employees, regulations, TEXTS)
    cases = build_cases(_stream(seed, "cases"), case_ctx, uid_of_model)
    doc_ctx = DocContext(catalogue, employees, owners, {k: v for k, v in concepts.items() if v.kind == "Topic"},
                         TEXTS, _case_examples(cases))
    regulation_records = _regulation_records(uid_of_model)
    campaigns = build_campaigns(_stream(seed, "campaigns"), customers)
    actions, extra_orders, truth = build_actions(_stream(seed, "actions"), customers, orders, rows, campaigns)
    all_orders = orders + extra_orders
    data = {
        "Segment": [record("Segment", s.uid, {"name": s.name, "description": s.description}) for s in SEGMENTS],
        "Channel": [record("Channel", uid, {"name": name}) for uid, name, _, _ in CHANNELS],
        "Product": product_records,
        "Employee": _employee_records(employees, customers, owners),
        "Customer": _customer_records(customers, all_orders),
        "Transaction": _transaction_records(all_orders),
        "Policy": [r for r in regulation_records if r["type"] == "Policy"],
        "IndustryRule": [r for r in regulation_records if r["type"] == "IndustryRule"],
        "SupportCase": cases,
        "Document": build_documents(_stream(seed, "documents"), doc_ctx),
        "Campaign": campaigns,
        "Action": actions,
    }
    assign_access_groups(data)
    return data, truth


def _write_jsonl(path: Path, records: list[Record]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for rec in records:
            handle.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")


def generate_sample(out_dir: Path, seed: int = 42) -> dict[str, int]:
    """Write the sample company as JSON Lines (one file per class) plus manifest.json; return counts per class."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data, truth = build_sample_with_truth(seed)
    counts = {rtype: len(records) for rtype, records in data.items()}
    for rtype, records in data.items():
        _write_jsonl(out_dir / FILES[rtype], records)
    manifest = {"generator": GENERATOR, "seed": seed, "counts": dict(sorted(counts.items())), "actions": truth}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n",
                                           encoding="utf-8")
    log.info("wrote sample company (seed %d) to %s: %s", seed, out_dir, counts)
    return counts

