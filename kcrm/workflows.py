"""The few end-to-end jobs the CLI and the tests run: connect, load, reindex.

Kept apart from the CLI so that tests and notebooks call the same code a user's command does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import IngestError
from kcrm.ingest.directory import load_directory
from kcrm.kg.connection import Graph, connect
from kcrm.kg.loader import LoadReport
from kcrm.kg.schema import apply_schema
from kcrm.kg.server import ensure_neo4j
from kcrm.ontology.model import load_ontology
from kcrm.search.service import build_search_index

if TYPE_CHECKING:
    from kcrm.ingest.isolation import ParseLimits
    from kcrm.ingest.pipeline import ProgressHook
    from kcrm.ingest.readers.base import ReadLimits
    from kcrm.ingest.readers.sql import SqlSource
    from kcrm.ingest.report import IngestResult
    from kcrm.kg.mining.pipeline import MiningConfig

log = logging.getLogger(__name__)


def open_graph(settings: Settings, start_local: bool = True) -> Graph:
    """Connect to Neo4j, starting the bundled server first when kcrm owns it."""
    if start_local:
        ensure_neo4j(settings)
    return Graph(connect(settings), settings)


def ensure_sample(settings: Settings, directory: Path | None = None) -> Path:
    """The sample company's record files, generated (deterministically) on first use."""
    from kcrm.sample import generate_sample

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
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    report_path = report_dir / f"load-{stamp}.json"
    report_path.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    log.info("load report written to %s", report_path)
    return report


def link(settings: Settings, graph: Graph) -> dict[str, object]:
    """Link every case and document of the graph to the entities it mentions (idempotent)."""
    from kcrm.nlp.linking import Linker

    return Linker(graph, batch_size=settings.load_batch_size, ner_model=settings.ner_model).link().as_dict()


def topic_model_path(settings: Settings) -> Path:
    """Where the trained topic classifier is kept between runs."""
    return settings.data_dir / "models" / "topics.pkl"


def classify(settings: Settings, graph: Graph) -> dict[str, object]:
    """File every case and document under its topics (CLASSIFIED_AS edges; idempotent)."""
    from kcrm.nlp.topics import TopicClassifier

    return TopicClassifier(graph, topic_model_path(settings), batch_size=settings.load_batch_size).classify().as_dict()


def evaluate_topics(settings: Settings, graph: Graph, held_out: float = 0.2, seed: int = 42) -> dict[str, object]:
    """Topic classification accuracy on held-out labelled texts against the majority baseline."""
    from kcrm.evaluation.topics import evaluate_classifier
    from kcrm.nlp.topics import TopicClassifier

    return evaluate_classifier(TopicClassifier(graph, topic_model_path(settings)), held_out, seed)


def reindex(settings: Settings, graph: Graph, progress: bool = False) -> Path | str:
    """Rebuild the search index from the graph and swap it in atomically (opensearch: the alias's new index)."""
    if settings.search_backend.strip().lower() == "opensearch":
        from kcrm.search.opensearch_sync import reindex_opensearch

        return reindex_opensearch(settings, graph, progress=progress)
    return build_search_index(settings, graph, progress=progress)


def mine(settings: Settings, graph: Graph, config: MiningConfig | None = None,
         progress: bool = False) -> dict[str, object]:
    """Mine the customer base into the graph (value, churn, cross-sell, segments), tell alerts, then
    measure the outcome of the actions taken on earlier recommendations (`kcrm mine outcomes`).

    Webhook deliveries the mining queued are drained by the caller once the graph is closed.
    The summary is also written under the data dir's reports/ like every other run.
    """
    from kcrm.alerts.service import after_mining
    from kcrm.kg.mining.pipeline import MiningConfig, run_mining

    result = run_mining(graph, load_ontology(), config or MiningConfig(), progress=progress,
                        batch_size=settings.load_batch_size)
    after_mining(settings, graph)
    summary = result.summary()
    summary["outcomes"] = mine_outcomes(settings, graph, config.as_of if config else None, report=False)
    write_report(settings, "mine", summary)
    return summary



def mine_or_clear(settings: Settings, config: MiningConfig | None = None, clear: bool = False,
                  progress: bool = False) -> dict[str, object]:
    """`kcrm mine`: mine the customer base (or, with `clear`, remove every mined fact and campaign target),
    then deliver the webhooks mining queued, once the graph is closed."""
    from kcrm.alerts.service import drain_webhooks
    from kcrm.kg.mining.campaign_graph import remove_targets
    from kcrm.kg.mining.writeback import remove_stale

    with open_graph(settings) as graph:
        if clear:
            ontology = load_ontology()
            return {"removed": {**remove_stale(graph, ontology), "targets": remove_targets(graph, ontology)}}
        summary = mine(settings, graph, config, progress=progress)
    drain_webhooks(settings)
    return summary

def mine_outcomes(settings: Settings, graph: Graph, as_of: datetime | None = None,
                  report: bool = True) -> dict[str, object]:
    """Measure each kind of action against matched customers not acted on; write the estimates back."""
    from kcrm.kg.mining.outcome_graph import run_outcomes

    result, written = run_outcomes(graph, load_ontology(), as_of, batch_size=settings.load_batch_size)
    summary: dict[str, object] = {**result.summary(), "written": written}
    if report:
        write_report(settings, "outcomes", summary)
    return summary


def write_report(settings: Settings, kind: str, body: dict[str, object]) -> Path:
    """A run's summary as JSON under the data dir's reports/, stamped so runs never overwrite."""
    report_dir = settings.data_dir / "reports"
    report_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = report_dir / f"{kind}-{stamp}.json"
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


DEMO_STEPS = ("load", "link", "classify", "mine", "reindex")


def prepare_demo(settings: Settings, graph: Graph, progress: bool = False,
                 on_step: Callable[[str, float], None] | None = None) -> dict[str, object]:
    """The whole pipeline on the sample company, so every page and route has its data.

    Load, link mentions, classify into topics, mine customer intelligence (the outcomes of the
    sample's actions included: `mine` runs `mine_outcomes`), then build the
    index last, so that mined tiers and churn levels reach the search facets. `on_step`
    hears each step's name and seconds as it finishes.
    """
    import time

    directory = ensure_sample(settings)
    summary: dict[str, object] = {}
    steps: dict[str, Callable[[], object]] = {
        "load": lambda: load_records(settings, graph, directory, progress=progress),
        "link": lambda: link(settings, graph),
        "classify": lambda: classify(settings, graph),
        "mine": lambda: mine(settings, graph, progress=progress),
        "reindex": lambda: reindex(settings, graph, progress=progress),
    }
    for name in DEMO_STEPS:
        started = time.monotonic()
        summary[name] = steps[name]()
        if on_step is not None:
            on_step(name, time.monotonic() - started)
    return summary


def update_index_after_ingest(settings: Settings, graph: Graph) -> dict | None:
    """Apply an ingest's committed changes (and prunes) to the published search indexes in place.

    A failure here leaves the graph as ingested and the index marked stale (`kcrm reindex`
    repairs it); it does not fail the ingest.
    """
    from kcrm.foundation.errors import KcrmError
    from kcrm.search.incremental import update_search_index

    try:
        if settings.search_backend.strip().lower() == "opensearch":
            from kcrm.search.opensearch_sync import update_opensearch_index

            update = update_opensearch_index(settings, graph)
        else:
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


def parse_limits(settings: Settings) -> ParseLimits | None:
    """Limits of the child process that parses each file, or None when KCRM_INGEST_PARSE_ISOLATED is off."""
    from kcrm.ingest.isolation import ParseLimits

    if not settings.ingest_parse_isolated:
        return None
    return ParseLimits(memory_mb=settings.ingest_parse_max_mb, cpu_s=settings.ingest_parse_cpu_s,
                       wall_s=settings.ingest_parse_wall_s)


def sql_watermark(settings: Settings, sql: SqlSource, source: str) -> str | None:
    """The watermark key of a database read (None without a watermark column); sets `sql.since` from it."""
    from kcrm.ingest.watermarks import Watermarks, watermark_key

    if sql.watermark is None:
        return None
    key = watermark_key(source, sql.safe_url(), sql.table or sql.query or "", sql.watermark)
    if sql.since is None:
        sql.since = Watermarks.for_data_dir(settings.data_dir).get(key)
    return key


def ingest(settings: Settings, graph: Graph | None, path: Path, fmt: str | None = None,
           mapping: str | Path | None = None, encoding: str | None = None, source: str | None = None,
           dry_run: bool = False, progress: bool = False, run_id: str | None = None,
           on_progress: ProgressHook | None = None, prune: bool = False,
           groups: Sequence[str] | None = None, sql: SqlSource | None = None) -> IngestResult:
    """Ingest a file or directory (schema applied first); report and quarantine go to DATA_DIR/ingest/RUN.

    `groups`: the caller's visible groups; it may then change only nodes it may see and assign only
    groups it holds (`kcrm.ingest.access_check`). None (the CLI, an all-groups key): no such check.
    With `sql` the rows come from a database table or query instead (`path` only names the run),
    from the watermark the last successful run of the same read reached (`kcrm.ingest.watermarks`).
    """
    from kcrm.ingest.pipeline import IngestOptions, ingest_path, new_run_id, unfinished_run
    from kcrm.search.freshness import index_freshness

    ontology = load_ontology()
    if graph is not None and not dry_run:
        apply_schema(graph, ontology)
    from kcrm.duplicates.store import DuplicateStore

    if sql is not None and not mapping:
        raise IngestError(f"reading {sql.safe_url()} needs a mapping (--mapping): a table has no kcrm record form")
    duplicates = DuplicateStore(settings)
    mark = sql_watermark(settings, sql, source or path.name) if sql is not None else None
    options = IngestOptions(fmt="sql" if sql is not None else fmt, mapping=mapping, encoding=encoding, source=source,
                            dry_run=dry_run, prune=prune, progress=progress, batch_size=settings.load_batch_size,
                            limits=ingest_limits(settings), resolve_threshold=settings.resolve_threshold,
                            isolation=parse_limits(settings), groups=tuple(groups) if groups is not None else None,
                            kept_apart=duplicates.kept_apart(), sql=sql)
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
    if mark is not None and not dry_run and sql is not None and sql.seen.get("max") is not None:
        from kcrm.ingest.watermarks import Watermarks

        Watermarks.for_data_dir(settings.data_dir).set(mark, sql.seen["max"])
    if graph is not None and not dry_run:
        duplicates.add(result.possible)  # for a person to decide: kcrm duplicates list, GET /v1/duplicates
        result.index_update = update_index_after_ingest(settings, graph)
        freshness = index_freshness(settings, graph)
        result.index_stale = freshness.stale if freshness.index_watermark is not None else None
    return result
