"""One ingest run's work: read every planned file, map, validate, fold duplicates, check references, load.

Every mapping source that matches a file applies to each of its rows; a uid that several rows
produce is one record (`kcrm.ingest.fold`), never a rejection.

A record is accepted whole or rejected whole: a record whose relationship points at a node that
is neither in this run nor in the graph is rejected (and so, in turn, is anything that pointed
at it), so the graph holds exactly the records the report calls accepted. Every rejection names
its source, record number, field and reason, and the raw record goes to the quarantine. Which
files and mappings (`kcrm.ingest.discovery`), the reference check (`kcrm.ingest.references`),
pruning (`kcrm.ingest.prune`) and the journaled run around this (`kcrm.ingest.pipeline`) live apart.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kcrm.foundation.errors import IngestError
from kcrm.ingest import native
from kcrm.ingest.access_check import refuse_outside_groups
from kcrm.ingest.batches import BatchWriter, plan_batches
from kcrm.ingest.dedupe import MergeRecord, find_merges, fold, mark_existing, write_merges
from kcrm.ingest.discovery import FilePlan, FilePlanner, discover, unmatched_sources
from kcrm.ingest.fold import RunFold
from kcrm.ingest.isolation import ParseLimits, read_isolated
from kcrm.ingest.journal import Journal
from kcrm.ingest.mapper import Mapped, RowMapper
from kcrm.ingest.mapping import load_mapping
from kcrm.ingest.prune import prunable_files, prune
from kcrm.ingest.readers import get_reader
from kcrm.ingest.readers.base import BadRow, RawRow, ReadItem, ReadLimits
from kcrm.ingest.readers.sql import SqlSource
from kcrm.ingest.references import check_references, graph_lookup
from kcrm.ingest.report import FileOutcome, IngestResult, write_run
from kcrm.ingest.validate import validate_link, validate_record
from kcrm.kg.connection import Graph
from kcrm.kg.loader import LoadReport
from kcrm.kg.records import Link, Problem, Record
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)

ProgressHook = Callable[[str, int], None]


@dataclass(frozen=True)
class IngestOptions:
    """How to read what is ingested; every field may be left at its default."""

    fmt: str | None = None
    mapping: str | Path | None = None
    encoding: str | None = None
    source: str | None = None
    limits: ReadLimits = field(default_factory=ReadLimits)
    dry_run: bool = False
    prune: bool = False
    progress: bool = False
    batch_size: int = 500
    resolve_threshold: float | None = 90.0
    isolation: ParseLimits | None = None  # parse in a limited child process (kcrm.ingest.isolation)
    groups: tuple[str, ...] | None = None  # the caller's visible groups (None: sees and writes everything)
    kept_apart: frozenset[tuple[str, str]] = frozenset()  # customer pairs a person said are different
    sql: SqlSource | None = None  # read a database table or query instead of files (`path` only names it)


class IngestRun:
    """The state of one run; `execute()` does the work and returns the result."""

    def __init__(self, path: Path, ontology: Ontology, graph: Graph | None, options: IngestOptions,
                 run_id: str, on_progress: ProgressHook | None = None) -> None:
        self.path, self.ontology, self.graph, self.options = path, ontology, graph, options
        self.on_progress = on_progress
        self.result = IngestResult(run_id=run_id, source=options.source or path.name, dry_run=options.dry_run)
        self.records: list[Record] = []
        self.links: list[Link] = []
        self.fold = RunFold()  # records as read; a uid repeated by several rows folds into one
        self.link_keys: set[tuple[str, str, str]] = set()
        self.raw: dict[tuple[str, int], Any] = {}
        self.outcomes: dict[str, FileOutcome] = {}
        self.files: dict[str, Path] = {}
        self.broken: dict[str, Path] = {}
        mapping = load_mapping(options.mapping, ontology) if options.mapping else None
        self.mapping = mapping
        self.planner = FilePlanner(ontology, mapping, options.fmt)
        self._bar: tqdm | None = None
        self._rows = 0
        self.journal: Journal | None = None
        self.on_commit: Callable[[list[str], str], None] | None = None  # after each committed batch: alerts
        self.merges: list[MergeRecord] = []

    def execute(self) -> IngestResult:
        """Read everything, check references, load (unless a dry run) and return the result."""
        sql = self.options.sql
        found = [(self.path, sql.relative)] if sql is not None else discover(self.path)
        single = sql is not None or self.path.is_file()
        plans = [self.planner.plan(p, rel, single=single) for p, rel in found]
        for plan in plans:
            self.outcomes[plan.relative] = plan.outcome
            self.files[plan.relative] = plan.path
            self.result.files.append(plan.outcome)
        self.result.unmatched_sources = unmatched_sources(self.mapping, plans)
        for unmatched in self.result.unmatched_sources:
            log.warning("mapping source %s matched no file of %s", unmatched, self.result.source)
        groups: dict[tuple[str, tuple[int, ...]], list[FilePlan]] = defaultdict(list)
        for plan in plans:
            if not plan.outcome.skipped:
                groups[(plan.fmt or "", tuple(id(s) for s in plan.source_maps))].append(plan)
        with tqdm(desc=f"ingest {self.result.source}", unit="rec", disable=not self.options.progress) as bar:
            self._bar = bar
            for (fmt, _), members in groups.items():
                self._read_group(fmt, members)
        self.records = self.fold.records()
        self.result.conflicts = [c.as_dict() for c in self.fold.conflicts()]
        self.result.folded = self.fold.repeated()
        self._check_access()
        self._resolve_duplicates()
        self._check_references()
        self.result.records, self.result.links = len(self.records), len(self.links)
        if not self.options.dry_run:
            self._load()
            if self.options.prune:
                self._prune()
        return self.result

    def _read_group(self, fmt: str, plans: list[FilePlan]) -> None:
        reader = get_reader(fmt)
        options = {**(plans[0].source_map.options if plans[0].source_map else {})}
        if self.options.encoding:
            options["encoding"] = self.options.encoding
        if self.options.sql is not None:
            options["sql"] = self.options.sql
        first = plans[0]
        mapper = _Mappers([RowMapper(first.mapping, s, self.ontology) for s in first.source_maps]) \
            if first.mapping and first.source_maps else None
        if self.options.isolation is not None and self.options.sql is None:
            self._consume(read_isolated(fmt, [(p.path, p.relative) for p in plans], self.options.limits, options,
                                        self.options.isolation), mapper)
            return
        if hasattr(reader, "read_many") and len(plans) > 1:
            items: Iterable[ReadItem] = reader.read_many([(p.path, p.relative) for p in plans],
                                                         self.options.limits, options)
            self._consume(items, mapper)
            return
        for plan in plans:
            self._consume(reader.read(plan.path, plan.relative, self.options.limits, options), mapper)

    def _tick(self) -> None:
        self._rows += 1
        if self._bar is not None:
            self._bar.update(1)
        if self.on_progress and self._rows % 500 == 0:
            self.on_progress("read", self._rows)

    def _consume(self, items: Iterable[ReadItem], mapper: _Mappers | None) -> None:
        rows: Iterator[ReadItem] = iter(items)
        if mapper is None:
            rows = self._native(rows)
        for item in rows:
            if isinstance(item, Problem):
                if item.source in self.files and self.files[item.source].is_file():
                    self.broken[item.source] = self.files[item.source]
                self._reject([item], None)
                continue
            if isinstance(item, BadRow):
                self._tick()
                if item.problem.source in self.outcomes:
                    self.outcomes[item.problem.source].rows += 1
                self._reject([item.problem], item.raw)
                continue
            self._tick()
            self.outcomes[item.source].rows += 1
            if isinstance(item, Record):
                self._accept_row(item.source, item.line, None, [item], [])
                continue
            mapped = mapper.map(item) if mapper else None
            if mapped is None:
                continue
            if mapped.problems:
                self._reject(mapped.problems, item.data)
                continue
            self._accept_row(item.source, item.record, item, mapped.records, mapped.links)

    def _native(self, items: Iterator[ReadItem]) -> Iterator[ReadItem | Record]:
        """Rows in kcrm's own forms become records; anything else needs a mapping."""
        pending: list[RawRow] = []
        statements: list[RawRow] = []
        for item in items:
            if isinstance(item, (Problem, BadRow)):
                yield item
            elif native.is_record_form(item):
                converted = native.record_from_row(item)
                if isinstance(converted, Problem):
                    self._reject([converted], item.data)
                else:
                    self.raw[(item.source, item.record)] = item.data
                    yield converted
            elif native.is_kcrm_rdf(item):
                pending.append(item)
            elif native.is_reified_edge(item):
                statements.append(item)
            else:
                self._reject([Problem(item.source, item.record, "", "", "not in kcrm record form, and no mapping "
                                      "was given (--mapping)", item.locator)], item.data)
        types = {row.data["@id"]: native.local_name(t) for row in pending for t in row.data.get("@type", [])
                 if t.startswith(str(native.KCRM))}
        edges = {}
        for row in statements:
            key = native.edge_key(row)
            if key is None:
                self._reject([Problem(row.source, row.record, "", "rdf:Statement", "a reified relationship needs "
                                      "rdf:subject, rdf:predicate and rdf:object", row.locator)], row.data)
            else:
                edges[key] = native.edge_properties(row)
        for row in pending:
            converted = native.record_from_rdf(row, self.ontology, types, edges)
            if isinstance(converted, Problem):
                self._reject([converted], row.data)
            else:
                self.raw[(row.source, row.record)] = row.data
                yield converted

    def _accept_row(self, source: str, record: int, row: RawRow | None, records: list[Record],
                    links: list[Link]) -> None:
        problems: list[Problem] = []
        clean_records, clean_links = [], []
        for rec in records:
            checked, found = validate_record(self.ontology, rec)
            problems += found
            clean_records += [checked] if checked else []
        for link in links:
            checked_link, found = validate_link(self.ontology, link)
            problems += found
            clean_links += [checked_link] if checked_link else []
        raw = row.data if row is not None else self.raw.get((source, record))
        locator = row.locator if row is not None else ""
        if problems:
            self._reject([Problem(p.source, p.line, p.uid, p.field, p.reason, p.locator or locator) for p in problems],
                         raw)
            return
        for rec in clean_records:
            self.fold.add(rec)
        for link in clean_links:  # the same relationship from several rows is one relationship
            key = (link.type, link.start_uid, link.end_uid)
            if key not in self.link_keys:
                self.link_keys.add(key)
                self.links.append(link)
        self.raw[(source, record)] = raw
        self.outcomes[source].accepted += 1

    def _reject(self, problems: list[Problem], raw: Any) -> None:
        self.result.rejected.extend(problems)
        first = problems[0]
        if raw is not None:
            self.raw[(first.source, first.line)] = raw
        outcome = self.outcomes.get(first.source)
        if outcome is not None:
            outcome.rejected += 1

    def _check_access(self) -> None:
        """Refuse records that would change nodes, or assign groups, outside the caller's groups."""
        self.records, problems = refuse_outside_groups(self.records, self.graph, self.ontology, self.options.groups)
        for problem in problems:
            self._late_reject(problem)

    def _resolve_duplicates(self) -> None:
        """Fold customers the graph already has from another source (strong keys agree) into those nodes;
        list those that only may be the same (names alike) as possible duplicates."""
        if self.graph is None or self.options.resolve_threshold is None:
            return
        self.merges, possible = find_merges(self.graph, self.ontology, self.records, self.result.source,
                                            self.options.resolve_threshold, groups=self.options.groups,
                                            kept_apart=self.options.kept_apart)
        self.records, self.links = fold(self.records, self.links, self.merges)
        mark_existing(self.graph, self.ontology, self.merges)
        self.result.merged = [m.as_dict() for m in self.merges]
        self.result.possible = [p.as_dict() for p in possible]

    def _check_references(self) -> None:
        """Reject records and links whose other end exists neither in this run nor in the graph."""
        self.records, self.links, problems = check_references(self.records, self.links,
                                                              graph_lookup(self.graph, self.ontology,
                                                                                           self.options.groups))
        for problem in problems:
            self._late_reject(problem)

    def _late_reject(self, problem: Problem) -> None:
        self.result.rejected.append(problem)
        outcome = self.outcomes.get(problem.source)
        if outcome is not None:
            outcome.accepted -= 1
            outcome.rejected += 1

    def _load(self) -> None:
        """Write the run in whole batches (nodes with their edges, one transaction each), journaled."""
        if self.graph is None:
            raise IngestError("no graph to load into (use a dry run to only validate)")
        report = LoadReport()
        if self.on_progress:
            self.on_progress("load", len(self.records) + len(self.links))
        batches = plan_batches(self.ontology, self.records, self.links, self.options.batch_size)
        if self.journal is not None:
            self.journal.append("plan", batches=len(batches), records=len(self.records), links=len(self.links))
        writer = BatchWriter(self.graph, self.ontology, self.result.source, self.journal, on_commit=self.on_commit)
        skipped = writer.write_all(batches, report, progress=self.options.progress)
        if self.merges:
            changed = write_merges(self.graph, self.ontology, self.merges)
            if self.journal is not None:
                self.journal.append("merges", merged=len(self.merges), nodes_changed=changed)
        if self.result.resumed is not None:
            self.result.resumed["skipped_batches"] = skipped
            self.result.resumed["batches"] = len(batches)
        self.result.rejected.extend(report.rejected)
        self.result.load = report

    def _prune(self) -> None:
        """Delete this source's nodes whose records are gone (see `kcrm.ingest.prune`)."""
        files = prunable_files(self.outcomes, self.result.rejected, self.broken)
        keep = {r.uid for r in self.records} | {p.uid for p in self.result.rejected if p.uid}
        journal = self.journal
        on_chunk = (lambda uids: journal.append("prune", deleted=uids)) if journal is not None else None
        self.result.deleted += prune(self.graph, self.ontology, self.result.source, files, keep, on_chunk)

    def write(self, run_dir: Path) -> None:
        """Write the run's report and quarantine."""
        write_run(self.result, run_dir, self.raw, self.broken)


class _Mappers:
    """Every mapping source that applies to a file, applied to each of its rows: one row, several entities."""

    def __init__(self, mappers: list[RowMapper]) -> None:
        self.mappers = mappers

    def map(self, row: RawRow) -> Mapped:
        out = Mapped()
        for mapper in self.mappers:
            mapped = mapper.map(row)
            out.records += mapped.records
            out.links += mapped.links
            out.problems += mapped.problems
        return out


__all__ = ["IngestOptions", "IngestRun", "ProgressHook"]
