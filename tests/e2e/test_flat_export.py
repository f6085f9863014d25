"""A flat ticket export (ticket, customer and product on every row) through a three-source mapping.

The export is generated here with repeated customers and products, conflicting names for one
e-mail and mixed case and whitespace; what the graph and `/v1/search` must hold is counted from
the file with the csv module, independently of kcrm.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from pathlib import Path

import httpx
import pytest

from kcrm import workflows

pytestmark = pytest.mark.e2e

MAPPING = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "tickets.yaml"
SOURCE = "ingtest-flat"
TOKEN = "zorblatticket"  # in every description: the lexical query that matches exactly these tickets
CLEANUP = "MATCH (n) WHERE n.uid STARTS WITH 'FLAT-' CALL (n) { DETACH DELETE n } RETURN count(*) AS n"
COLUMNS = ["Ticket ID", "Customer Name", "Customer Email", "Product Purchased", "Ticket Type", "Ticket Subject",
           "Ticket Description", "Ticket Status", "Resolution", "Ticket Priority", "Ticket Channel", "Created At"]
PEOPLE = [("Quillon Varga", "quillon.varga@flat.example"), ("Ysolde Marrak", "ysolde.m@flat.example"),
          ("Tiberio Nank", "t.nank@flat.example"), ("Oriel Fenwhistle", "oriel@flat.example"),
          ("Brannoc Ilves", "brannoc.ilves@flat.example"), ("Sefa Qorrin", "sefa.q@flat.example"),
          ("Dagny Ostrava", "dagny@flat.example"), ("Ilario Penhallow", "ilario.p@flat.example")]
PRODUCTS = ["Zorblat Router X2", "Quasifold Speaker", "Mirelight Lamp 3", "Korvex Drone"]
STATUSES = ["Open", "Pending Customer Response", "Closed"]
PRIORITIES = ["Low", "Medium", "High", "Critical"]


def messy(value: str, rng: random.Random) -> str:
    """The same value as exports write it: other case, stray spaces."""
    return rng.choice([value, value.upper(), value.lower(), f"  {value} ", f"{value}\t"])


def generate(path: Path, rows: int = 60, seed: int = 14) -> None:
    """A ticket export; the first row of each customer and product carries its clean spelling."""
    rng = random.Random(seed)
    seen_people: set[str] = set()
    seen_products: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(1, rows + 1):
            name, email = PEOPLE[n % len(PEOPLE)] if n <= len(PEOPLE) * 2 else rng.choice(PEOPLE)
            product = PRODUCTS[n % len(PRODUCTS)] if n <= len(PRODUCTS) else rng.choice(PRODUCTS)
            shown_name = name if email not in seen_people else rng.choice([name, name, name.upper(), name + " Jr"])
            shown_email = email if email not in seen_people else messy(email, rng)
            shown_product = product if product not in seen_products else messy(product, rng)
            seen_people.add(email)
            seen_products.add(product)
            writer.writerow([f"{9000 + n}", shown_name, shown_email, shown_product, "Technical issue",
                             f"Problem {n} with my device", f"Ticket {n}: the {TOKEN} device stopped working.",
                             messy(rng.choice(STATUSES), rng), "" if n % 3 else "Replaced the unit.",
                             messy(rng.choice(PRIORITIES), rng), "Email", f"2025-03-{1 + n % 28:02d}T09:00:00Z"])


def expected(path: Path) -> dict:
    """What the graph and the search facets must show, counted from the file with the csv module only."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    slug = lambda text: re.sub(r"[^\w]+", "-", text.strip().lower()).strip("-")  # noqa: E731
    first_product: dict[str, str] = {}
    for row in rows:
        first_product.setdefault(slug(row["Product Purchased"]), " ".join(row["Product Purchased"].split()))
    status_names = {"open": "open", "pending customer response": "pending", "closed": "closed"}
    names_per_email: dict[str, set[str]] = {}
    for row in rows:
        names_per_email.setdefault(row["Customer Email"].strip().lower(), set()).add(row["Customer Name"])
    return {
        "rows": len(rows),
        "emails": {row["Customer Email"].strip().lower() for row in rows},
        "products": set(first_product),
        "conflicting_emails": {e for e, names in names_per_email.items() if len(names) > 1},
        "status": Counter(status_names[row["Ticket Status"].strip().lower()] for row in rows),
        "priority": Counter({"critical": "urgent"}.get(p, p) for p in (row["Ticket Priority"].strip().lower()
                                                                        for row in rows)),
        "product": Counter(first_product[slug(row["Product Purchased"])] for row in rows),
    }


SNAPSHOT = """
MATCH (n) WHERE n.uid STARTS WITH 'FLAT-'
OPTIONAL MATCH (n)-[r]->(m)
WITH n, collect([type(r), m.uid]) AS out
RETURN n.uid AS uid, labels(n) AS labels, properties(n) AS props, out ORDER BY uid
"""


@pytest.fixture
def flat(graph, loaded, e2e_settings):
    graph.write(CLEANUP)
    yield graph
    graph.write(CLEANUP)
    workflows.update_index_after_ingest(e2e_settings, graph)


def test_a_flat_export_yields_every_entity_once_with_its_edges_and_facets(flat, e2e_settings, api: httpx.Client,
                                                                          tmp_path: Path) -> None:
    export = tmp_path / "tickets_2025.csv"
    generate(export)
    want = expected(export)
    assert len(want["emails"]) < want["rows"] and len(want["products"]) < want["rows"]  # the export repeats them
    assert want["conflicting_emails"]

    result = workflows.ingest(e2e_settings, flat, export, mapping=str(MAPPING), source=SOURCE)
    assert result.ok, [p.as_dict() for p in result.rejected[:5]]
    assert result.files[0].sources == [1, 2, 3] and result.files[0].accepted == want["rows"]
    assert result.folded > 0 and not result.unmatched_sources
    assert not result.merged  # none of these people is a sample customer: no key agrees
    conflicted = {c["uid"] for c in result.conflicts if c["field"] == "name" and c["type"] == "Customer"}
    assert len(conflicted) == len(want["conflicting_emails"])
    for conflict in result.conflicts:
        assert len(conflict["values"]) >= 2 and len(conflict["rows"]) >= 2 and conflict["kept"] == conflict["values"][0]

    counts = {row["label"]: row["n"] for row in flat.read(
        "MATCH (n) WHERE n.uid STARTS WITH 'FLAT-' RETURN labels(n)[0] AS label, count(*) AS n")}
    assert counts == {"Customer": len(want["emails"]), "Product": len(want["products"]), "SupportCase": want["rows"]}
    emails = {row["email"] for row in flat.read("MATCH (c:Customer) WHERE c.uid STARTS WITH 'FLAT-' "
                                                "RETURN c.email AS email")}
    assert emails == want["emails"]
    edges = flat.read("MATCH (t:SupportCase) WHERE t.uid STARTS WITH 'FLAT-' "
                      "RETURN count { (:Customer)-[:RAISED]->(t) } AS raised, "
                      "count { (t)-[:ABOUT_PRODUCT]->(:Product) } AS about")
    assert len(edges) == want["rows"] and all(e["raised"] == 1 and e["about"] == 1 for e in edges)

    page = api.get("/v1/search", params={"q": TOKEN, "mode": "lexical", "k": 5, "facets": "true"})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == want["rows"]
    for field in ("status", "priority", "product"):
        assert Counter(body["facets"][field]) == want[field], field

    before = flat.read(SNAPSHOT)
    again = workflows.ingest(e2e_settings, flat, export, mapping=str(MAPPING), source=SOURCE)
    assert again.ok and again.load is not None
    assert not again.load.created and not again.load.updated
    assert flat.read(SNAPSHOT) == before


def test_unmatched_sources_and_files_are_reported(flat, e2e_settings, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    generate(folder / "tickets_a.csv", rows=4)
    (folder / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    mapping = MAPPING.read_text(encoding="utf-8") + '  - file: "orders*.csv"\n    entity:\n      class: Product\n' \
                                                    '      uid: "FLAT-O-{sku}"\n      properties: {name: name}\n'
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    result = workflows.ingest(e2e_settings, flat, folder, mapping=str(tmp_path / "m.yaml"), source=SOURCE,
                              dry_run=True)
    summary = result.summary()
    assert summary["unmatched_sources"] == ["#4 orders*.csv"]
    assert summary["unmatched_files"] == ["notes.csv"]
    assert result.records == 4 + len({p for p in PRODUCTS[:4]}) + len({PEOPLE[n % 8][1] for n in range(1, 5)})
