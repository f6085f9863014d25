"""One ingest run: find the files, read, map, clean, validate, check references, load, report.

A record is accepted whole or rejected whole: a record whose relationship points at a node that
is neither in this run nor in the graph is rejected (and so, in turn, is anything that pointed
at it), so the graph holds exactly the records the report calls accepted. Every rejection names
its source, record number, field and reason, and the raw record goes to the quarantine.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kcrm.ingest import native
from kcrm.ingest.batches import BatchWriter, plan_batches
from kcrm.ingest.dedupe import MergeRecord, find_merges, fold, write_merges
from kcrm.ingest.journal import Journal, find_unfinished, run_key
from kcrm.ingest.mapper import RowMapper
from kcrm.ingest.mapping import MappingFile, SourceMap, load_mapping
from kcrm.ingest.readers import format_for, get_reader
from kcrm.ingest.readers.base import BadRow, RawRow, ReadItem, ReadLimits
from kcrm.ingest.records import Link, Problem, Record
from kcrm.ingest.report import FileOutcome, IngestResult, write_run
from kcrm.ingest.validate import validate_link, validate_record
from kcrm.kg.connection import Graph
from kcrm.kg.loader import LoadReport
from kcrm.ontology.model import Ontology
from tqdm import tqdm

from kcrm.errors import IngestError

log = logging.getLogger(__name__)

EXISTING_UIDS = "UNWIND $uids AS uid MATCH (n:`{label}` {{uid: uid}}) RETURN n.uid AS uid"
PRUNE = """
MATCH (n) WHERE n.source = $source AND split(n.sourceRecord, ':')[0] IN $files
  AND NOT n.uid IN $keep AND any(label IN labels(n) WHERE label IN $labels)
WITH n, n.uid AS uid, labels(n)[0] AS label LIMIT 10000
DETACH DELETE n
RETURN uid, label
"""
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


@dataclass
class _Plan:
    path: Path
    relative: str
    fmt: str | None
    source_map: SourceMap | None
    mapping: MappingFile | None
    outcome: FileOutcome


def discover(path: Path) -> list[tuple[Path, str]]:
    """The files to ingest under `path` (itself if a file), with names relative to it; hidden ones skipped."""
    if not path.exists():
        raise IngestError(f"nothing to ingest at {path}: no such file or directory")
    if path.is_file():
        return [(path, path.name)]
    found = []
    for item in sorted(path.rglob("*")):
        relative = item.relative_to(path)
        if item.is_file() and not any(part.startswith(".") for part in relative.parts):
            found.append((item, relative.as_posix()))
    if not found:
        raise IngestError(f"nothing to ingest: {path} has no files")
    return found


class IngestRun:
    """The state of one run; `execute()` does the work and returns the result."""

    def __init__(self, path: Path, ontology: Ontology, graph: Graph | None, options: IngestOptions,
                 run_id: str, on_progress: ProgressHook | None = None) -> None:
        self.path, self.ontology, self.graph, self.options = path, ontology, graph, options
        self.on_progress = on_progress
        self.result = IngestResult(run_id=run_id, source=options.source or path.name, dry_run=options.dry_run)
        self.records: list[Record] = []
        self.links: list[Link] = []
        self.raw: dict[tuple[str, int], Any] = {}
        self.first_seen: dict[tuple[str, ...], str] = {}
        self.outcomes: dict[str, FileOutcome] = {}
        self.files: dict[str, Path] = {}
        self.broken: dict[str, Path] = {}
        self.mapping = load_mapping(options.mapping, ontology) if options.mapping else None
        self._defaults: dict[str, MappingFile] = {}
        self._bar: tqdm | None = None
        self._rows = 0
        self.journal: Journal | None = None
        self.merges: list[MergeRecord] = []

    def _plan(self, path: Path, relative: str, single: bool) -> _Plan:
        source_map = self.mapping.source_for(relative) if self.mapping else None
        mapping = self.mapping
        outcome = FileOutcome(source=relative, format=None, mapping=mapping.name if mapping else None)
        fmt = self.options.fmt or (source_map.format if source_map else None) or format_for(path)
        outcome.format = fmt
        if self.mapping is not None and source_map is None:
            outcome.skipped = f"no source of mapping {self.mapping.name!r} matches this file"
        elif fmt is None:
            outcome.skipped = "no reader for this file extension (give --format)"
        elif self.mapping is None:
            default = getattr(type(get_reader(fmt)), "default_mapping", None)
            if default:
                if default not in self._defaults:
                    self._defaults[default] = load_mapping(default, self.ontology)
                mapping = self._defaults[default]
                source_map = mapping.source_for(relative) or mapping.sources[0]
                outcome.mapping = mapping.name
        if outcome.skipped and single:
            raise IngestError(f"cannot ingest {relative}: {outcome.skipped}")
        return _Plan(path, relative, fmt, source_map, mapping, outcome)

    def execute(self) -> IngestResult:
        """Read everything, check references, load (unless a dry run) and return the result."""
        found = discover(self.path)
        plans = [self._plan(p, rel, single=self.path.is_file()) for p, rel in found]
        for plan in plans:
            self.outcomes[plan.relative] = plan.outcome
            self.files[plan.relative] = plan.path
            self.result.files.append(plan.outcome)
        groups: dict[tuple[str, int], list[_Plan]] = defaultdict(list)
        for plan in plans:
            if not plan.outcome.skipped:
                groups[(plan.fmt or "", id(plan.source_map))].append(plan)
        with tqdm(desc=f"ingest {self.result.source}", unit="rec", disable=not self.options.progress) as bar:
            self._bar = bar
            for (fmt, _), members in groups.items():
                self._read_group(fmt, members)
        self._resolve_duplicates()
        self._check_references()
        self.result.records, self.result.links = len(self.records), len(self.links)
        if not self.options.dry_run:
            self._load()
            if self.options.prune:
                self._prune()
        return self.result

    def _read_group(self, fmt: str, plans: list[_Plan]) -> None:
        reader = get_reader(fmt)
        options = {**(plans[0].source_map.options if plans[0].source_map else {})}
        if self.options.encoding:
            options["encoding"] = self.options.encoding
        first = plans[0]
        mapper = RowMapper(first.mapping, first.source_map, self.ontology) if first.mapping and first.source_map \
            else None
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

    def _consume(self, items: Iterable[ReadItem], mapper: RowMapper | None) -> None:
        rows: Iterator[ReadItem] = iter(items)
        if mapper is None:
            rows = self._native(rows)
        for item in rows:
            if isinstance(item, Problem):
                if item.source in self.files:
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
            else:
                self._reject([Problem(item.source, item.record, "", "", "not in kcrm record form, and no mapping "
                                      "was given (--mapping)", item.locator)], item.data)
        types = {row.data["@id"]: native.local_name(t) for row in pending for t in row.data.get("@type", [])
                 if t.startswith(str(native.KCRM))}
        for row in pending:
            converted = native.record_from_rdf(row, self.ontology, types)
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
            key = ("node", rec.type, rec.uid)
            if checked is not None and key in self.first_seen:
                problems.append(Problem(source, record, rec.uid, "uid", f"duplicate uid, first at {self.first_seen[key]}"))
            clean_records += [checked] if checked else []
        for link in links:
            checked_link, found = validate_link(self.ontology, link)
            problems += found
            key = ("link", link.type, link.start_uid, link.end_uid)
            if checked_link is not None and key in self.first_seen:
                problems.append(Problem(source, record, f"{link.start_uid}->{link.end_uid}", f"rels.{link.type}",
                                        f"duplicate relationship, first at {self.first_seen[key]}"))
            clean_links += [checked_link] if checked_link else []
        raw = row.data if row is not None else self.raw.get((source, record))
        locator = row.locator if row is not None else ""
        if problems:
            self._reject([Problem(p.source, p.line, p.uid, p.field, p.reason, p.locator or locator) for p in problems],
                         raw)
            return
        for rec in clean_records:
            self.first_seen[("node", rec.type, rec.uid)] = f"{source}:{record}"
        for link in clean_links:
            self.first_seen[("link", link.type, link.start_uid, link.end_uid)] = f"{source}:{record}"
        self.records += clean_records
        self.links += clean_links
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

    def _resolve_duplicates(self) -> None:
        """Fold customers that the graph already has from another source into those nodes."""
        if self.graph is None or self.options.resolve_threshold is None:
            return
        self.merges = find_merges(self.graph, self.ontology, self.records, self.result.source,
                                  self.options.resolve_threshold)
        self.records, self.links = fold(self.records, self.links, self.merges)
        self.result.merged = [m.as_dict() for m in self.merges]

    def _existing(self, wanted: dict[str, set[str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        if self.graph is None:
            return {(label, uid) for label, uids in wanted.items() for uid in uids}
        for label, uids in wanted.items():
            cypher = EXISTING_UIDS.format(label=self.ontology.class_spec(label).name)
            ordered = sorted(uids)
            for start in range(0, len(ordered), 5000):
                rows = self.graph.read(cypher, uids=ordered[start:start + 5000])
                found.update((label, row["uid"]) for row in rows)
        return found

    def _check_references(self) -> None:
        """Reject records and links whose other end exists neither in this run nor in the graph."""
        known: set[tuple[str, str]] = set()
        checked: set[tuple[str, str]] = set()
        while True:
            produced = {(r.type, r.uid) for r in self.records}
            ends = {(rel.other_type, rel.other_uid) for r in self.records for rel in r.rels}
            ends |= {(l.start_type, l.start_uid) for l in self.links} | {(l.end_type, l.end_uid) for l in self.links}
            wanted: dict[str, set[str]] = defaultdict(set)
            for label, uid in ends - produced - checked:
                wanted[label].add(uid)
            known |= self._existing(wanted)
            checked |= ends - produced
            present = produced | known
            bad_records = [r for r in self.records if any((x.other_type, x.other_uid) not in present for x in r.rels)]
            bad_links = [l for l in self.links
                         if (l.start_type, l.start_uid) not in present or (l.end_type, l.end_uid) not in present]
            if not bad_records and not bad_links:
                return
            for rec in bad_records:
                rel = next(x for x in rec.rels if (x.other_type, x.other_uid) not in present)
                self._late_reject(rec.source, rec.line, rec.uid, f"rels.{rel.type}",
                                  f"no {rel.other_type} with uid {rel.other_uid!r} in this run or in the graph")
            for link in bad_links:
                end_type, end_uid = ((link.start_type, link.start_uid) if (link.start_type, link.start_uid)
                                     not in present else (link.end_type, link.end_uid))
                self._late_reject(link.source, link.line, f"{link.start_uid}->{link.end_uid}", f"rels.{link.type}",
                                  f"no {end_type} with uid {end_uid!r} in this run or in the graph")
            dropped = {id(x) for x in bad_records} | {id(x) for x in bad_links}
            self.records = [r for r in self.records if id(r) not in dropped]
            self.links = [l for l in self.links if id(l) not in dropped]

    def _late_reject(self, source: str, record: int, uid: str, field_name: str, reason: str) -> None:
        self.result.rejected.append(Problem(source, record, uid, field_name, reason))
        outcome = self.outcomes.get(source)
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
        writer = BatchWriter(self.graph, self.ontology, self.result.source, self.journal)
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
        """Delete this source's nodes whose records are gone from files that were read completely.

        A file with a problem that names no uid (a row that could not be parsed) is left alone:
        its missing record may be the broken row, not a deletion. Rejected records keep their old node.
        """
        unsafe = {p.source for p in self.result.rejected if not p.uid or p.line == 0}
        files = sorted(rel for rel, outcome in self.outcomes.items()
                       if not outcome.skipped and rel not in unsafe and rel not in self.broken and ":" not in rel)
        keep = sorted({r.uid for r in self.records} | {p.uid for p in self.result.rejected if p.uid})
        labels = sorted(self.ontology.classes)
        while files:
            gone = self.graph.write(PRUNE, source=self.result.source, files=files, keep=keep, labels=labels)
            self.result.deleted += len(gone)
            for row in gone:
                log.info("pruned %s %s: no longer in %s", row["label"], row["uid"], self.result.source)
            if len(gone) < 10000:
                break

    def write(self, run_dir: Path) -> None:
        """Write the run's report and quarantine."""
        write_run(self.result, run_dir, self.raw, self.broken)


def new_run_id() -> str:
    """A sortable, unique-enough id for a run: UTC time to the microsecond."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def run_key_for(path: Path, options: IngestOptions) -> str:
    """The journal key of an ingest: same path, source and options means the same run."""
    return run_key(path, options.source or path.name, {"fmt": options.fmt, "mapping": str(options.mapping or ""),
                                                      "encoding": options.encoding, "prune": options.prune})


def unfinished_run(path: Path, options: IngestOptions, ingest_dir: Path) -> str | None:
    """The id of an earlier run of this same ingest that was killed before it finished, if any."""
    return None if options.dry_run else find_unfinished(ingest_dir, run_key_for(path, options))


AfterLoad = Callable[[list[Record]], dict[str, Any]]


def ingest_path(path: Path, ontology: Ontology, graph: Graph | None, options: IngestOptions, run_dir: Path,
                run_id: str | None = None, on_progress: ProgressHook | None = None,
                after_load: AfterLoad | None = None) -> IngestResult:
    """Ingest a file or directory; the report, quarantine and journal are written to `run_dir`.

    When `run_dir` already holds an unfinished journal the run resumes it: batches committed
    with the same content are skipped, the rest written (see `kcrm.ingest.journal`).
    `after_load` (entity linking, classification) runs on the accepted records once every batch
    has committed and before the journal says `done`, so a run killed during it redoes it on resume.
    """
    run = IngestRun(path, ontology, graph, options, run_id or new_run_id(), on_progress)
    if not options.dry_run:
        run.journal = Journal.open(run_dir)
        if run.journal.entries and not run.journal.finished:
            run.result.resumed = {"committed_batches": len(run.journal.committed())}
            run.journal.append("resume", pid=os.getpid())
            log.warning("resuming unfinished ingest run %s: %d batches already committed", run.result.run_id,
                        len(run.journal.committed()))
        else:
            run.journal.append("start", key=run_key_for(path, options), path=str(path.resolve()),
                               source=run.result.source, pid=os.getpid())
    try:
        run.execute()
        if after_load is not None and not options.dry_run and run.records:
            if on_progress:
                on_progress("enrich", len(run.records))
            run.result.enriched = after_load(run.records)
            if run.journal is not None:
                run.journal.append("enriched", **run.result.enriched)
    except IngestError as exc:  # the input is wrong: resuming would fail the same way
        if run.journal is not None:
            run.journal.append("done", ok=False, error=str(exc))
        raise
    finally:
        run.write(run_dir)
    if run.journal is not None:
        run.journal.append("done", ok=run.result.ok)
    log.info("ingest %s: %d records and %d links accepted, %d problems", run.result.source, run.result.records,
             run.result.links, len(run.result.rejected))
    return run.result


__all__ = ["IngestOptions", "IngestResult", "IngestRun", "discover", "ingest_path", "run_key_for", "unfinished_run"]
