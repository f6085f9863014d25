"""What runs on an ingest's records after its batches commit: entity linking, then topic classification.

Kept out of the pipeline so that the pipeline only reads, checks and loads; `kcrm.workflows`
passes `enricher(...)` as the pipeline's `after_load`, and `kcrm link` runs the same linking
over the whole graph.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kcrm.kg.connection import Graph
from kcrm.kg.records import Record
from kcrm.nlp.linking import TEXT_CLASSES, Linker
from kcrm.nlp.topics import TopicClassifier

log = logging.getLogger(__name__)


def text_uids(records: list[Record]) -> dict[str, list[str]]:
    """The run's cases and documents by class: the nodes whose text is linked and classified."""
    out: dict[str, list[str]] = defaultdict(list)
    for record in records:
        if record.type in TEXT_CLASSES:
            out[record.type].append(record.uid)
    return dict(out)


def enricher(graph: Graph, model_path: Path, ner_model: str | None = None
             ) -> Callable[[list[Record]], dict[str, Any]]:
    """The after-load step of an ingest: link and classify the run's cases and documents."""

    def enrich(records: list[Record]) -> dict[str, Any]:
        uids = text_uids(records)
        if not uids:
            return {}
        linked = Linker(graph, ner_model=ner_model).link(uids)
        classified = TopicClassifier(graph, model_path).classify(uids)
        return {"linked": linked.as_dict(), "classified": classified.as_dict()}

    return enrich


__all__ = ["enricher", "text_uids"]
