"""Data-subject requests: export everything kcrm knows about one customer, and erase it everywhere.

The graph part lives in `kcrm.kg.subject`; this module runs a request across every store the
customer's data reaches: the graph (by the ontology's rules), the published search generation
(incremental remove/update: passages, snippets, the spelling vocabulary and facet values are
all derived from the indexed items, so re-reading the touched items purges them), ingest reports
and quarantine files, pending notifications and webhook deliveries (`AlertStore.erase_subject`),
the service state in Neo4j that quotes the customer (job records, audit details: scrubbed, kept), and
the suppression list. Per-process caches follow the graph's watermark, which erasure moves.
The CLI and the API both call these functions, so a dry run and a real run report the same way.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph
from kcrm.kg.subject import PLACEHOLDER, apply_erasure, plan_erasure, quoting_items, read_subject
from kcrm.kg.suppression import suppress
from kcrm.ontology.erasure import load_erasure_rules
from kcrm.ontology.model import load_ontology
from kcrm.ontology.rdf import INTERNAL_PROPERTIES, serialize, to_rdf
from kcrm.statedb import SERVICE_LABEL

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("json", "turtle", "jsonld")
# Folders of the data dir that keep copies of source rows: ingest reports, quarantine, load reports.
FILE_STORES = ("ingest", "reports")


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sorted(props.items()) if k not in INTERNAL_PROPERTIES}


def export_subject(graph: Graph, uid: str, fmt: str = "json") -> dict[str, Any] | str:
    """Everything the graph holds about the customer: JSON (a dict) or RDF text (turtle, jsonld)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")
    ontology = load_ontology()
    subject = read_subject(graph, uid)
    nodes, edges = subject.nodes(ontology), subject.edges(ontology)
    if fmt != "json":
        return serialize(to_rdf(ontology, nodes, edges), fmt)
    return {
        "subject": {"type": "Customer", "uid": uid, "properties": _clean(subject.customer.props)},
        "nodes": [{"type": n.label, "uid": n.uid, "properties": _clean(n.props)} for n in nodes[1:]],
        "relationships": [{"type": e.type, "from": e.start_uid, "from_type": e.start_label, "to": e.end_uid,
                           "to_type": e.end_label, "properties": dict(sorted(e.props.items()))} for e in edges],
        "exported_at": datetime.now(UTC).isoformat(),
    }


def _variants(strings: list[str]) -> list[str]:
    """Each string as it appears in a file: plain, and JSON-escaped (ASCII-escaped too)."""
    out = set()
    for text in strings:
        out.update({text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=True)[1:-1]})
    return sorted(out, key=len, reverse=True)


def scrub_files(roots: list[Path], strings: list[str], dry_run: bool = False) -> int:
    """Cut the strings out of every file under `roots` (reports, quarantine); returns files touched."""
    needles = [n.encode("utf-8") for n in _variants(strings) if n]
    touched = 0
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if not any(needle in data for needle in needles):
                continue
            touched += 1
            if dry_run:
                continue
            for needle in needles:
                data = data.replace(needle, PLACEHOLDER.encode())
            tmp = path.with_name(f".{path.name}.erase-tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
    return touched


# Service state (ingest jobs with their rejection messages, audit details, possible duplicates...)
# that quotes the customer: string properties, or lists of strings, holding one of the needles.
STATE_QUOTING = f"""
MATCH (n:{SERVICE_LABEL})
WITH n, [k IN keys(n) WHERE any(s IN $needles WHERE
    (n[k] IS :: STRING AND toLower(n[k]) CONTAINS s)
    OR (n[k] IS :: LIST<STRING NOT NULL> AND any(v IN n[k] WHERE toLower(v) CONTAINS s)))] AS quoting
WHERE size(quoting) > 0
RETURN elementId(n) AS id, [l IN labels(n) WHERE l <> $service] AS labels, n{{.*}} AS props, quoting
"""
SET_STATE = "MATCH (n) WHERE elementId(n) = $id SET n += $props"


def scrub_service_state(graph: Graph, strings: list[str], dry_run: bool = False) -> dict[str, int]:
    """Cut the strings out of the service's own state in Neo4j; counts of records per kind.

    The records stay (an audit entry still says who did what, a job still says it ran); only the
    customer's words in them become the placeholder, matched regardless of case.
    """
    variants = [v for v in _variants(strings) if v]
    if not variants:
        return {}
    rows = graph.read(STATE_QUOTING, needles=[v.lower() for v in variants], service=SERVICE_LABEL)
    counts = Counter(label for row in rows for label in row["labels"])
    if dry_run:
        return dict(counts)
    pattern = re.compile("|".join(re.escape(v) for v in variants), re.IGNORECASE)

    def scrub(value: Any) -> Any:
        if isinstance(value, list):
            return [pattern.sub(PLACEHOLDER, v) for v in value]
        return pattern.sub(PLACEHOLDER, value)

    for row in rows:
        graph.write(SET_STATE, id=row["id"], props={k: scrub(row["props"][k]) for k in row["quoting"]})
    return dict(counts)


@dataclass
class ErasureReport:
    """What an erasure did (or, dry, would do) per store; counts and uids, never the data itself."""

    uid: str
    dry_run: bool
    graph: dict[str, Any]
    search: dict[str, Any] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    state: dict[str, int] = field(default_factory=dict)
    suppressed: int = 0

    def counts(self) -> dict[str, Any]:
        """The numbers the audit entry keeps."""
        return {"deleted": len(self.graph["deleted"]), "kept_pseudonymised": len(self.graph["kept_pseudonymised"]),
                "redacted": len(self.graph["redacted"]), "relationships_removed": self.graph["relationships_removed"],
                "search": self.search, "files": self.files, "alerts": self.alerts, "state": self.state,
                "suppressed": self.suppressed}

    def as_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "dry_run": self.dry_run, "graph": self.graph, "search": self.search,
                "files": self.files, "alerts": self.alerts, "state": self.state, "suppressed": self.suppressed}


def _indexed(settings: Settings, uids: set[str]) -> int:
    """How many of the uids the published lexical index holds (for the dry run)."""
    from kcrm.search import generation
    from kcrm.search.lexical import BM25Index

    if generation.generation_id(settings.index_dir) is None:
        return 0
    lexical = BM25Index.load_once(settings.index_dir / generation.LEXICAL_DIR, None)
    return sum(1 for record in lexical.records() if record.uid in uids)


def erase_subject(settings: Settings, graph: Graph, uid: str, dry_run: bool = False) -> ErasureReport:
    """Erase the customer everywhere (see the module docstring); `dry_run` changes nothing."""
    from kcrm.alerts.store import AlertStore
    from kcrm.search.incremental import update_search_index

    rules = load_erasure_rules()
    subject = read_subject(graph, uid, second_hop=False)
    plan = plan_erasure(subject, load_ontology(), rules, quoting_items(graph, subject, rules))
    report = ErasureReport(uid, dry_run, plan.summary())
    roots = [settings.data_dir / name for name in FILE_STORES]
    touched_uids = {u for _, u in plan.touched} | {u for _, u, _ in plan.redacted}
    alerts = AlertStore(settings) if settings.alerts_enabled else None
    if dry_run:
        gone = {u for _, u in plan.touched[:1] + plan.deleted}
        report.search = {"remove": _indexed(settings, gone), "update": _indexed(settings, touched_uids - gone)}
        report.files = {"files": scrub_files(roots, plan.strings, dry_run=True)}
        report.alerts = alerts.erase_subject(sorted(touched_uids), plan.strings, dry_run=True) if alerts else {}
        report.state = scrub_service_state(graph, plan.strings, dry_run=True)
        report.suppressed = len(plan.touched)
        return report
    now = datetime.now(UTC).isoformat()
    report.suppressed = suppress(graph, plan.touched, now)
    apply_erasure(graph, plan)
    update = update_search_index(settings, graph)
    report.search = ({"removed": update.removed, "updated": update.updated, "generation": update.generation}
                     if update is not None else {"index": "none published"})
    report.files = {"files": scrub_files(roots, plan.strings)}
    report.alerts = alerts.erase_subject(sorted(touched_uids), plan.strings) if alerts else {}
    report.state = scrub_service_state(graph, plan.strings)  # after alerts: what they deleted needs no scrub
    log.info("erased customer %s: %s", uid, report.counts())
    return report
