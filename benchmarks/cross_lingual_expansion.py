"""Cross-lingual reach of taxonomy query expansion on the loaded sample, lexical side only.

For every topic concept, its Chinese prefLabel is searched (and its English prefLabel, the
reverse) among documents and cases with BM25 alone, with expansion off and on. A hit counts when
it is in the other language and filed under that concept. Printed: how many queries reach at
least one such item in the top 10, and the precision of the other-language hits in the top 10.
Also the effect on same-language results: how often the top hit stays in the query's language.

Uses the configured index (KCRM_DATA_DIR): load the sample and `kcrm reindex` first.

    .venv/bin/python benchmarks/cross_lingual_expansion.py [--k 10] [--type Document]
"""

from __future__ import annotations

import argparse

from kcrm.foundation.config import get_settings
from kcrm.ontology.taxonomy import load_concepts
from kcrm.search.service import load_search_service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--type", action="append", help="Item types (default: Document and SupportCase).")
    parser.add_argument("--limit", type=int, default=0, help="Only the first N topic concepts (0: all).")
    args = parser.parse_args()
    types = set(args.type or ["Document", "SupportCase"])
    search = load_search_service(get_settings())
    topics = [c for c in load_concepts() if c.scheme == "topics"]
    names = {c.uid: c.label_en for c in topics}
    descendants = {c.uid: {c.uid} for c in topics}
    for c in topics:  # parents precede children: add each concept to all its ancestors
        parent = c.broader
        while parent:
            descendants[parent].add(c.uid)
            parent = next((p.broader for p in topics if p.uid == parent), None)
    queried = topics[:args.limit] if args.limit else topics
    print(f"types {sorted(types)}, k={args.k}, {len(queried)} topic concepts")
    print(f"{'query language':<16}{'expand':<8}{'reached':>9}{'precision':>11}{'own-lang top1':>15}")
    for lang, other in (("zh", "en"), ("en", "zh")):
        for expand in (False, True):
            reached = correct = foreign = own_top = 0
            for concept in queried:
                query = concept.label_zh if lang == "zh" else concept.label_en
                filed = {names[u] for u in descendants[concept.uid]}
                hits = search.page(query, k=args.k, mode="lexical", types=types, expand=expand).hits
                cross = [h for h in hits if h.language == other]
                good = [h for h in cross if h.meta.get("topic") in filed]
                reached += bool(good)
                correct += len(good)
                foreign += len(cross)
                own_top += bool(hits) and hits[0].language == lang
            precision = correct / foreign if foreign else float("nan")
            print(f"{lang:<16}{expand!s:<8}{reached:>6}/{len(queried):<2}{precision:>11.2f}"
                  f"{own_top:>12}/{len(queried)}")


if __name__ == "__main__":
    main()
