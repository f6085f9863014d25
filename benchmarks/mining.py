"""Customer-intelligence figures: association rules, churn precision/recall, segments, timings.

Three data sets, each figure with its baseline measured in the same process:
- groceries (public, ../shared/data/groceries_transactions): Apriori over packed bitmaps against
  the naive counter that enumerates every k-subset of every basket; both must find the same
  itemsets, and the rules must be the published 463 at support 0.006 / confidence 0.25;
- the sample company, loaded into its own Neo4j (default var/bench-mining, Bolt 27711) and mined
  by the same `run_mining` as `kcrm mine`: tiers, churn model (logistic and gradient boosting)
  against the rule-based warning, segment sizes, the whole run's time;
- Northwind (public, ../shared/data/northwind): 830 real orders of 89 customers, mined in memory
  (a 90-day churn horizon: the data spans 22 months); order totals checked against the known
  revenue 1,265,793.04.

    .venv/bin/python benchmarks/mining.py [--skip-graph] [--json var/bench-mining/mining.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kcrm import workflows
from kcrm.foundation.config import Settings
from kcrm.kg.mining.baskets import read_baskets
from kcrm.kg.mining.history import History, Order
from kcrm.kg.mining.pipeline import MiningConfig, MiningResult, mine_history, run_mining
from kcrm.kg.mining.rules import FrequentItemsets, count_itemsets_naive, format_rule, generate_rules, mine_rules
from kcrm.kg.server import LocalNeo4j
from kcrm.ontology.model import load_ontology

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def groceries(figures: dict[str, Any]) -> None:
    baskets = read_baskets(DATA / "groceries_transactions" / "groceries.csv")
    (itemsets, rules), apriori_s = _timed(lambda: mine_rules(baskets, 0.006, 0.25))
    naive, naive_s = _timed(lambda: count_itemsets_naive(baskets, 0.006))
    naive_rules = generate_rules(FrequentItemsets(naive, len(baskets), itemsets.n_items, itemsets.min_count), 0.25)
    figures["groceries"] = {
        "baskets": len(baskets), "items": itemsets.n_items, "frequent_itemsets": len(itemsets.counts),
        "rules": len(rules), "published_rules": 463, "same_itemsets_as_naive": naive == itemsets.counts,
        "same_rules_as_naive": naive_rules == rules, "apriori_s": apriori_s, "naive_s": naive_s,
        "naive_vs_apriori": naive_s / apriori_s, "top_rules": [format_rule(r) for r in rules[:5]],
    }


def _churn_figures(result: MiningResult) -> dict[str, Any]:
    e = result.churn.evaluation
    if e is None:
        return {"note": result.churn.note}
    return {"model": e.model, "horizon_days": e.horizon_days, "test_cutoff": e.test_cutoff, "train_rows": e.train_rows,
            "test_rows": e.test_rows, "test_churn_rate": e.test_churn_rate, "precision": e.precision,
            "recall": e.recall, "precision_at_0.3": e.precision_at_medium, "recall_at_0.3": e.recall_at_medium,
            "auc": e.auc, "rules_precision": e.rules_precision, "rules_recall": e.rules_recall}


def _result_figures(result: MiningResult, seconds: float) -> dict[str, Any]:
    summary = result.summary()
    return {"seconds": seconds, "customers": summary["customers_valued"], "tiers": summary["tiers"],
            "loyal": summary["loyal"], "churn_warnings": summary["churn_warnings"], "deviations": summary["deviations"],
            "churn_risk_levels": summary["churn_risk_levels"], "crosssell_rules": summary["crosssell_rules"],
            "recommendations": summary["recommendations"],
            "segments": [f"{s['uid']} {s['size']:>3}  {s['name']}" for s in summary["segments"]],
            "churn": _churn_figures(result)}


def sample_company(figures: dict[str, Any], data_dir: Path, bolt: int, http: int) -> None:
    settings = Settings(data_dir=data_dir, neo4j_bolt_port=bolt, neo4j_http_port=http)
    server = LocalNeo4j(settings)
    was_running = server.status().running
    server.start()
    try:
        graph = workflows.open_graph(settings, start_local=False)
        with graph.driver.session() as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()
        workflows.load_records(settings, graph, workflows.ensure_sample(settings))
        result, seconds = _timed(lambda: run_mining(graph, load_ontology(), MiningConfig()))
        figures["sample"] = _result_figures(result, seconds)
        gbm, _ = _timed(lambda: run_mining(graph, load_ontology(), MiningConfig(churn_model="gradient-boosting")))
        figures["sample"]["churn_gradient_boosting"] = _churn_figures(gbm)
        graph.close()
    finally:
        if not was_running:  # one that ran before is left running, as ingest.py leaves it
            server.stop()


def northwind_history() -> tuple[History, float]:
    """Northwind orders as a History (net line amounts, one currency) and the total revenue."""
    folder = DATA / "northwind"
    lines: dict[str, list[tuple[str, float]]] = {}
    with (folder / "order-details.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            net = float(row["unitPrice"]) * int(row["quantity"]) * (1 - float(row["discount"]))
            lines.setdefault(row["orderID"], []).append((row["productID"], net))
    with (folder / "products.csv").open(encoding="utf-8") as handle:
        products = {row["productID"]: row["productName"] for row in csv.DictReader(handle)}
    with (folder / "customers.csv").open(encoding="utf-8") as handle:
        customers = {row["customerID"]: row["companyName"] for row in csv.DictReader(handle)}
    orders = []
    with (folder / "orders.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            at = datetime.fromisoformat(row["orderDate"]).replace(tzinfo=UTC)
            items = lines.get(row["orderID"], [])
            orders.append(Order(row["orderID"], row["customerID"], at, sum(a for _, a in items),
                                tuple(sorted({p for p, _ in items}))))
    revenue = sum(o.amount for o in orders)
    return History(customers, orders, [], "order total (USD)", products), revenue


def northwind(figures: dict[str, Any]) -> None:
    history, revenue = northwind_history()
    config = MiningConfig(churn_horizon_days=90, crosssell_min_support=0.1, crosssell_min_confidence=0.5)
    result, seconds = _timed(lambda: mine_history(history, config))
    figures["northwind"] = {"orders": len(history.orders), "revenue": round(revenue, 2),
                            "known_revenue": 1265793.04, **_result_figures(result, seconds)}
    gbm = mine_history(history, MiningConfig(churn_horizon_days=90, churn_model="gradient-boosting"))
    figures["northwind"]["churn_gradient_boosting"] = _churn_figures(gbm)
    order_baskets = [list(o.products) for o in history.orders if o.products]
    _, rules = mine_rules(order_baskets, 0.005, 0.2)
    names = history.products
    figures["northwind"]["order_rules"] = len(rules)
    figures["northwind"]["top_order_rules"] = [
        f"{{{', '.join(names[p] for p in r.antecedent)}}} => {{{names[r.consequent[0]]}}} lift {r.lift:.2f}"
        for r in rules[:3]]


def _print(figures: dict[str, Any], indent: str = "") -> None:
    for name, value in figures.items():
        if isinstance(value, dict):
            print(f"{indent}{name}:")
            _print(value, indent + "  ")
        elif isinstance(value, list):
            print(f"{indent}{name}:")
            for item in value:
                print(f"{indent}  {item}")
        elif isinstance(value, float):
            print(f"{indent}{name:24s} {value:12.3f}")
        else:
            print(f"{indent}{name:24s} {value!s:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("var/bench-mining"))
    parser.add_argument("--bolt-port", type=int, default=27711)
    parser.add_argument("--http-port", type=int, default=27712)
    parser.add_argument("--skip-graph", action="store_true", help="Leave out the sample company (no Neo4j).")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    groceries(figures)
    northwind(figures)
    if not args.skip_graph:
        sample_company(figures, args.data_dir, args.bolt_port, args.http_port)
    _print(figures)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
