"""Association rules: hand-checked figures, a brute-force cross-check, the basket reader, and the
published groceries answer (463 rules at support 0.006, confidence 0.25)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest

from kcrm.foundation.errors import MiningInputError
from kcrm.kg.mining.baskets import parse_baskets, read_baskets
from kcrm.kg.mining.rules import count_itemsets_naive, frequent_itemsets, mine_rules

GROCERIES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "groceries_transactions" / "groceries.csv"

# a, b in 3 of 5 baskets together; a in 4, b in 3, c in 3
SMALL = [["a", "b", "c"], ["a", "b"], ["a", "c"], ["b", "a"], ["c", "d"]]


def test_hand_checked_support_confidence_and_lift() -> None:
    itemsets, rules = mine_rules(SMALL, min_support=0.4, min_confidence=0.5)
    assert itemsets.counts == {("a",): 4, ("b",): 3, ("c",): 3, ("a", "b"): 3, ("a", "c"): 2}
    by_pair = {(r.antecedent, r.consequent): r for r in rules}
    b_to_a = by_pair[(("b",), ("a",))]
    assert b_to_a.support == pytest.approx(3 / 5) and b_to_a.confidence == pytest.approx(1.0)
    assert b_to_a.lift == pytest.approx(1.0 / (4 / 5))
    a_to_c = by_pair[(("a",), ("c",))]
    assert a_to_c.confidence == pytest.approx(2 / 4) and a_to_c.lift == pytest.approx(0.5 / 0.6)
    assert set(by_pair) == {(("b",), ("a",)), (("a",), ("b",)), (("c",), ("a",)), (("a",), ("c",))}
    assert [r.lift for r in rules] == sorted((r.lift for r in rules), reverse=True)


def _brute_force(baskets: list[list[str]], min_support: float, min_confidence: float):
    """Every subset of the item universe counted by scanning every basket: slow, obviously right."""
    universe = sorted({i for b in baskets for i in b})
    sets = [set(b) for b in baskets]
    n = len(baskets)
    support = {}
    for size in range(1, len(universe) + 1):
        for combo in combinations(universe, size):
            count = sum(1 for s in sets if set(combo) <= s)
            if count / n >= min_support - 1e-12:
                support[combo] = count
    rules = set()
    for itemset, count in support.items():
        for item in itemset:
            rest = tuple(i for i in itemset if i != item)
            if rest and count / support[rest] >= min_confidence - 1e-12:
                lift = (count / support[rest]) / (support[(item,)] / n)
                rules.add((rest, item, count, round(lift, 9)))
    return support, rules


@pytest.mark.parametrize("seed", range(6))
def test_apriori_matches_brute_force_on_random_baskets(seed: int) -> None:
    rng = random.Random(seed)
    items = [f"i{k}" for k in range(9)]
    weights = [rng.random() for _ in items]
    baskets = [list({rng.choices(items, weights)[0] for _ in range(rng.randint(1, 6))}) for _ in range(80)]
    min_support, min_confidence = rng.choice([0.05, 0.1, 0.15]), rng.choice([0.2, 0.4, 0.6])
    expected_support, expected_rules = _brute_force(baskets, min_support, min_confidence)
    itemsets, rules = mine_rules(baskets, min_support, min_confidence)
    assert itemsets.counts == expected_support
    assert {(r.antecedent, r.consequent[0], r.count, round(r.lift, 9)) for r in rules} == expected_rules
    assert count_itemsets_naive(baskets, min_support) == expected_support


def test_max_len_stops_growing_itemsets() -> None:
    baskets = [["a", "b", "c"]] * 4
    assert max(len(k) for k in frequent_itemsets(baskets, 0.5).counts) == 3
    assert max(len(k) for k in frequent_itemsets(baskets, 0.5, max_len=2).counts) == 2


@pytest.mark.parametrize(("support", "confidence"), [(0, 0.5), (1.5, 0.5), (0.1, -0.1), (0.1, 2)])
def test_thresholds_out_of_range_are_refused(support: float, confidence: float) -> None:
    with pytest.raises(MiningInputError):
        mine_rules(SMALL, support, confidence)


def test_basket_csv_quirks(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes('\ufeffmilk, bread ,"nuts, salted"\n\n   \nbread,bread,milk\r\neggs\n'.encode())
    assert read_baskets(path) == [["milk", "bread", "nuts, salted"], ["bread", "milk"], ["eggs"]]


def test_unreadable_basket_files_say_where(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"milk,bread\nmilk,\xff\xfecheese\n")
    with pytest.raises(MiningInputError, match=r"bad.csv: line 2: not UTF-8"):
        read_baskets(bad)
    with pytest.raises(MiningInputError, match="does not exist"):
        read_baskets(tmp_path / "missing.csv")
    with pytest.raises(MiningInputError, match="not a regular file"):
        read_baskets(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(MiningInputError, match="no baskets"):
        read_baskets(empty)
    with pytest.raises(MiningInputError, match="line 1: not valid CSV"):
        parse_baskets(['a,"b c'], "x.csv")


def test_no_baskets_is_an_error() -> None:
    with pytest.raises(MiningInputError):
        frequent_itemsets([], 0.1)


@pytest.mark.skipif(not GROCERIES.exists(), reason=f"public groceries data not found at {GROCERIES}")
def test_groceries_gives_the_published_463_rules() -> None:
    baskets = read_baskets(GROCERIES)
    itemsets, rules = mine_rules(baskets, 0.006, 0.25)
    assert (itemsets.n_baskets, itemsets.n_items) == (9835, 169)
    assert len(rules) == 463
    top = rules[0]
    assert (top.antecedent, top.consequent) == (("herbs",), ("root vegetables",))
    assert top.lift == pytest.approx(3.956, abs=1e-3)


@pytest.mark.skipif(not GROCERIES.exists(), reason=f"public groceries data not found at {GROCERIES}")
def test_cli_prints_the_count_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "rules.json"
    result = subprocess.run(
        [sys.executable, "-m", "kcrm.cli", "mine", "rules", "--baskets", str(GROCERIES), "--min-support", "0.006",
         "--min-confidence", "0.25", "--top", "3", "--json", str(out)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("463 rules from 9835 baskets")
    assert lines[1].startswith("{herbs} => {root vegetables}") and len(lines) == 5
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["rule_count"] == len(document["rules"]) == 463


def test_cli_reports_a_missing_file_plainly(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kcrm.cli", "mine", "rules", "--baskets", str(tmp_path / "no.csv")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "does not exist" in result.stderr
