"""The few end-to-end jobs the CLI and the tests run: connect, load, reindex.

Kept apart from the CLI so that tests and notebooks call the same code a user's command does.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from kcrm.config import Settings
from kcrm.ingest.directory import load_directory
from kcrm.kg.connection import Graph, connect
from kcrm.kg.loader import LoadReport
from kcrm.kg.schema import apply_schema
from kcrm.kg.server import ensure_neo4j
from kcrm.ontology.model import load_ontology
from kcrm.search.service import build_search_index

if TYPE_CHECKING:
    from kcrm.ingest.pipeline import ProgressHook
    from kcrm.ingest.readers.base import ReadLimits
    from kcrm.ingest.report import IngestResult

log = logging.getLogger(__name__)


def open_graph(settings: Settings, start_local: bool = True) -> Graph:
    """Connect to Neo4j, starting the bundled server first when kcrm owns it."""
    if start_local:
        ensure_neo4j(settings)
    return Graph(connect(settings), settings)


def ensure_sample(settings: Settings, directory: Path | None = None) -> Path:
    """The sample company's record files, generated (deterministically) on first use."""
    from kcrm.ingest.sample import generate_sample

    directory = directory or settings.sample_dir
    if not (directory / "manifest.json").exists():
        directory.mkdir(parents=True, exist_ok=True)
        generate_sample(directory)
    return directory


def load_records(settings: Settings, graph: Graph, directory: Path, progress: bool = False) -> LoadReport:
    """Apply the ontology's schema, then load a directory of records; write the report file."""
    ontology = load_ontology()
    apply_schema(graph, ontology)
    report = load_directory(graph, ontology, directory, settings.data_dir / "ingest",
                            batch_size=settings.load_batch_size, progress=progress)
    report_dir = settings.data_dir / "reports"
    report_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    report_path = report_dir / f"load-{stamp}.json"
    report_path.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    log.info("load report written to %s", report_path)
    return report


def link(settings: Settings, graph: Graph) -> dict[str, object]:
    """Link every case and document of the graph to the entities it mentions (idempotent)."""
    from kcrm.ingest.linking import Linker

    return Linker(graph, batch_size=settings.load_batch_size, ner_model=settings.ner_model).link().as_dict()


def topic_model_path(settings: Settings) -> Path:
    """Where the trained topic classifier is kept between runs."""
    return settings.data_dir / "models" / "topics.pkl"


def classify(settings: Settings, graph: Graph) -> dict[str, object]:
    """File every case and document under its topics (CLASSIFIED_AS edges; idempotent)."""
    from kcrm.ingest.topics import TopicClassifier

    return TopicClassifier(graph, topic_model_path(settings), batch_size=settings.load_batch_size).classify().as_dict()


def evaluate_topics(settings: Settings, graph: Graph, held_out: float = 0.2, seed: int = 42) -> dict[str, object]:
    """Topic classification accuracy on held-out labelled texts against the majority baseline."""
    from kcrm.ingest.topics import TopicClassifier

    return TopicClassifier(graph, topic_model_path(settings)).evaluate(held_out, seed)


def reindex(settings: Settings, graph: Graph, progress: bool = False) -> Path:
    """Rebuild the search index from the graph and swap it in atomically."""
    return build_search_index(settings, graph, progress=progress)


def update_index_after_ingest(settings: Settings, graph: Graph) -> dict | None:
    """Apply an ingest's committed changes (and prunes) to the published search indexes in place.

    A failure here leaves the graph as ingested and the index marked stale (`kcrm reindex`
    repairs it); it does not fail the ingest.
    """
    from kcrm.errors import KcrmError
    from kcrm.search.incremental import update_search_index

    try:
        update = update_search_index(settings, graph)
    except KcrmError as exc:
        log.warning("search index not updated after the ingest (%s); run `kcrm reindex`", exc)
        return None
    return update.as_dict() if update is not None else None


def ingest_limits(settings: Settings) -> ReadLimits:
    """The read limits the settings ask for."""
    from kcrm.ingest.readers.base import ReadLimits

    return ReadLimits(max_file_bytes=settings.ingest_max_file_mb * 1024 * 1024,
                      max_field_chars=settings.ingest_max_field_chars)


def ingest(settings: Settings, graph: Graph | None, path: Path, fmt: str | None = None,
           mapping: str | Path | None = None, encoding: str | None = None, source: str | None = None,
           dry_run: bool = False, progress: bool = False, run_id: str | None = None,
           on_progress: ProgressHook | None = None, prune: bool = False) -> IngestResult:
    """Ingest a file or directory (schema applied first); report and quarantine go to DATA_DIR/ingest/RUN."""
    from kcrm.ingest.freshness import index_freshness
    from kcrm.ingest.pipeline import IngestOptions, ingest_path, new_run_id, unfinished_run

    ontology = load_ontology()
    if graph is not None and not dry_run:
        apply_schema(graph, ontology)
    options = IngestOptions(fmt=fmt, mapping=mapping, encoding=encoding, source=source, dry_run=dry_run, prune=prune,
                            progress=progress, batch_size=settings.load_batch_size, limits=ingest_limits(settings),
                            resolve_threshold=settings.resolve_threshold)
    run_id = run_id or unfinished_run(path, options, settings.data_dir / "ingest") or new_run_id()
    on_commit = None
    if graph is not None and not dry_run and settings.alerts_enabled:
        from kcrm.alerts.notify import ingest_hook
        from kcrm.alerts.store import AlertStore

        on_commit = ingest_hook(AlertStore(settings), graph)
    after_load = None
    if graph is not None and not dry_run and settings.ingest_enrich:
        from kcrm.ingest.enrich import enricher

        after_load = enricher(graph, topic_model_path(settings), settings.ner_model)
    result = ingest_path(path, ontology, graph, options, settings.data_dir / "ingest" / run_id, run_id=run_id,
                         on_progress=on_progress, on_commit=on_commit, after_load=after_load)
    if graph is not None and not dry_run:
        result.index_update = update_index_after_ingest(settings, graph)
        freshness = index_freshness(settings, graph)
        result.index_stale = freshness.stale if freshness.index_watermark is not None else None
    return result
