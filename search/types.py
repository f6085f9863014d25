"""The shared search types: what is indexed, what a retriever returns, what a caller sees.

Kept in one module that imports no backend (no FAISS, no BM25, no OpenSearch client), so that
every backend, the ranking layer, the API and the evaluation speak the same types without
pulling each other in. `vector_index`, `semantic` and `hybrid` re-export them under their old
names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class IndexItem:
    """A searchable thing as the graph hands it to the indexer."""

    uid: str
    type: str
    title: str
    text: str
    language: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChunkRecord:
    """What a hit needs to show without asking the graph again."""

    chunk_id: str
    uid: str
    type: str
    title: str
    text: str
    language: str
    meta: dict[str, Any] = field(default_factory=dict)
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class ChunkHit:
    """One record and its score for a query (cosine for dense, BM25 for lexical, fused for hybrid)."""

    record: ChunkRecord
    score: float


@dataclass
class Hit:
    """One item in a result list, represented by its best-matching passage."""

    uid: str
    type: str
    title: str
    snippet: str
    score: float
    chunk_id: str
    language: str
    meta: dict[str, Any] = field(default_factory=dict)
    explain: dict[str, Any] | None = None  # why it ranked where it did (search with explain=True)
