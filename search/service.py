"""Build the search indexes from the graph, and open them for serving.

The indexes are derived data: `build_search_index` reads every searchable item from Neo4j once
and publishes a new dense (FAISS) and a new lexical (BM25) index together, as one generation
stamped with the graph's watermark (`generation`); `load_search_service` opens the published
pair as one `HybridSearch`. `incremental.update_search_index` keeps them current after ingests.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import BadQuery, KcrmError
from kcrm.kg.connection import Graph
from kcrm.search import generation
from kcrm.search.backends import make_backend
from kcrm.search.embedder import Embedder, make_embedder
from kcrm.search.expansion import taxonomy_expander
from kcrm.search.from_graph import graph_watermark, searchable_items
from kcrm.search.fusion import RRF, Fusion, LanguageFusion, ScoreFusion
from kcrm.search.hybrid import HybridSearch
from kcrm.search.incremental import index_lock
from kcrm.search.local_backend import build_lexical_index
from kcrm.search.semantic import ReusingEmbedder, SemanticSearch
from kcrm.search.vector_index import FaissVectorIndex

log = logging.getLogger(__name__)


def build_search_index(settings: Settings, graph: Graph, progress: bool = False) -> Path:
    """Embed and index the graph's cases, documents, policies and rules; swap the new indexes in."""
    with index_lock(settings):
        watermark = graph_watermark(graph)
        items = list(searchable_items(graph))
        lexical = build_lexical_index(items, progress=progress)
        embedder = reusing_embedder(settings)
        dense = SemanticSearch.build(items, embedder, progress=progress, exact_limit=settings.search_exact_limit)
        if isinstance(embedder, ReusingEmbedder):
            log.info("reused the vectors of %d unchanged passages, embedded %d", embedder.reused, embedder.embedded)
        generation.publish(settings.index_dir, dense, lexical, watermark, details={"rebuilt": True})
    log.info("indexed %d items: %d chunks (dense, %s), %d records (lexical)", len(items), dense.count(), dense.kind,
             lexical.count())
    return settings.index_dir


def reusing_embedder(settings: Settings) -> Embedder:
    """The configured embedder, reusing the published index's vectors for passages whose text is unchanged
    (plain, when there is no published index or it was built by another embedder)."""
    embedder = make_embedder(settings)
    try:
        previous = FaissVectorIndex.load(settings.index_dir / generation.DENSE_DIR, expect=embedder)
    except (KcrmError, OSError, ValueError) as exc:
        log.info("no vectors to reuse (%s): every passage is embedded", exc)
        return embedder
    return ReusingEmbedder(embedder, previous)


def embedder_change(settings: Settings) -> str | None:
    """A plain sentence when the published index was built by another embedder than the configured one.

    Renaming the embedder (a new model, new weights) invalidates every stored vector by design:
    the service refuses such an index, and `kcrm reindex` says why it rebuilds all of them.
    """
    manifest = settings.index_dir / generation.DENSE_DIR / "manifest.json"
    try:
        built_with = json.loads(manifest.read_text(encoding="utf-8"))["embedder"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    configured = make_embedder(settings).name
    if built_with == configured:
        return None
    return (f"the index was built with embedder {built_with!r}; the configured embedder is {configured!r}: "
            "its vectors cannot be reused, so every item is embedded again")


def _fusion(method: str, lexical_weight: float, setting: str) -> Fusion:
    weights = (lexical_weight, round(1.0 - lexical_weight, 6))
    choice = method.strip().lower()
    if choice == "minmax":
        return ScoreFusion(weights=weights)
    if choice == "rrf":
        return RRF(weights=weights)
    raise BadQuery(f"unknown {setting} {method!r}: use 'minmax' or 'rrf'")


def make_fusion(settings: Settings) -> LanguageFusion:
    """The per-language fusion policy the settings name, each weighted (lexical, dense)."""
    return LanguageFusion(
        english=_fusion(settings.search_fusion, settings.search_lexical_weight, "KCRM_SEARCH_FUSION"),
        chinese=_fusion(settings.search_fusion_zh, settings.search_lexical_weight_zh, "KCRM_SEARCH_FUSION_ZH"))


def load_search_service(settings: Settings) -> HybridSearch:
    """The configured backend (`KCRM_SEARCH_BACKEND`) over the published index; `IndexNotReady` if absent."""
    return HybridSearch(backend=make_backend(settings), fusion=make_fusion(settings), expander=taxonomy_expander())
