"""Does spelling tolerance help typo'd queries without hurting clean ones? Measured on the sample.

Queries are the titles of English sample items (cases, documents, policies); an item is relevant
to a query when its title is exactly that title. Each query gets a typo'd twin: one or two of
its words of five letters or more are edited at random (adjacent letters swapped, a letter
dropped, doubled or replaced), deterministically. Chinese titles are run clean as a control
(the corrector must leave them alone). MRR@10 and success@10 are reported for clean and typo'd
queries with `spellcheck` off and on, in lexical and hybrid mode, from the same process.

    .venv/bin/python benchmarks/spelling.py [--index var/test/index] [--queries 200] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import defaultdict
from pathlib import Path

from kcrm.evaluation.metrics import mrr_at_k
from kcrm.foundation.config import Settings
from kcrm.search import generation
from kcrm.search.embedder import make_embedder
from kcrm.search.hybrid import HybridSearch
from kcrm.search.semantic import SemanticSearch

WORD = re.compile(r"[A-Za-z]{5,}")


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    letters = [c for c in "aeiourstnl" if c != word[i]]
    return word[:i] + rng.choice(letters) + word[i + 1:]


def corrupt(query: str, rng: random.Random) -> str:
    words = WORD.findall(query)
    if not words:
        return query
    chosen = set(rng.sample(words, min(len(words), rng.choice((1, 2)))))
    return WORD.sub(lambda m: typo(m.group(0), rng) if m.group(0) in chosen else m.group(0), query)


def evaluate(search: HybridSearch, queries: list[tuple[str, set[str]]], mode: str, spellcheck: bool) -> dict:
    rr, success, corrected = [], [], 0
    for query, relevant in queries:
        page = search.page(query, k=10, mode=mode, spellcheck=spellcheck)
        corrected += bool(page.corrections)
        reciprocal = mrr_at_k([hit.uid for hit in page.hits], dict.fromkeys(relevant, 1), 10)
        rr.append(reciprocal)
        success.append(1.0 if reciprocal else 0.0)
    n = max(1, len(queries))
    return {"mrr@10": round(sum(rr) / n, 4), "success@10": round(sum(success) / n, 4), "corrected": corrected}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("var/test/index"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    embedder = make_embedder(Settings())
    dense, lexical, _ = generation.load(args.index, embedder)
    search = HybridSearch(SemanticSearch(dense, embedder), lexical)
    by_title: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in lexical.records():
        by_title[(record.language, record.title)].add(record.uid)
    rng = random.Random(42)
    english = sorted((t, u) for (lang, t), u in by_title.items() if lang == "en" and WORD.search(t))
    chinese = sorted((t, u) for (lang, t), u in by_title.items() if lang == "zh")
    english = rng.sample(english, min(args.queries, len(english)))
    chinese = rng.sample(chinese, min(args.queries // 2, len(chinese)))
    typod = [(corrupt(title, rng), uids) for title, uids in english]
    figures: dict = {"queries": len(english), "chinese_queries": len(chinese),
                     "examples": [q for q, _ in typod[:5]]}
    for mode in ("lexical", "hybrid"):
        for name, queries in (("clean", english), ("typo", typod), ("chinese", chinese)):
            for spellcheck in (False, True):
                key = f"{mode}/{name}/spellcheck={'on' if spellcheck else 'off'}"
                figures[key] = evaluate(search, queries, mode, spellcheck)
                print(key, figures[key], flush=True)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
