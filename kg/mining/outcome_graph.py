"""Outcomes against Neo4j: read actions and orders (trimmed for a caller), measure, write back.

`measure_outcomes` is what `GET /v1/outcomes` runs for a caller who may not see everything:
only customers, orders and actions it may see take part, so no figure rests on a hidden one.
`run_outcomes` (`kcrm mine outcomes`) measures over everything and writes one OutcomeEstimate
per kind (uid `OUT-<kind>`, source "kcrm.mine", computedAt, and the access groups of whatever
restricted record went into it, so a caller who may not see those cannot read the figure through
another surface either) and stamps each measured Action with `outcomeObserved`, `computedBy`
and `computedAt`. Earlier runs' estimates and stamps that this run did not confirm are removed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from kcrm.foundation.errors import OntologyError
from kcrm.kg.connection import Graph
from kcrm.kg.mining.history import read_history, to_datetime
from kcrm.kg.mining.outcomes import ActionEvent, OutcomeResult, estimate_outcomes
from kcrm.kg.mining.writeback import SOURCE
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import Ontology
from kcrm.security.access import PUBLIC_GROUP, SYSTEM, Principal

log = logging.getLogger(__name__)

ESTIMATE_PREFIX = "OUT-"
ESTIMATE_PROPERTIES = ("actionKind", "outcomeMeasure", "description", "windowDays", "treatedCount", "matchedCount",
                       "controlCount", "treatedRate", "controlRate", "uplift", "ciLow", "ciHigh", "naiveUplift",
                       "method", "asOf", "computedAt")
ACTION_MINED_PROPERTIES = ("outcomeObserved", "outcomeMeasure")

READ_SEGMENTS = f"""
MATCH (c:`{{customer}}`) WHERE {visible('c')}
OPTIONAL MATCH (c)-[:`{{in_segment}}`]->(s:`{{segment}}`) WHERE coalesce(s.source, '') <> $mined
RETURN c.uid AS uid, min(s.uid) AS segment
"""
READ_ACTIONS = f"""
MATCH (a:`{{action}}`)-[:`{{action_on}}`]->(c:`{{customer}}`) WHERE {visible('a')} AND {visible('c')}
OPTIONAL MATCH (a)-[:`{{offered}}`]->(p:`{{product}}`)
RETURN a.uid AS uid, c.uid AS customer, a.actionKind AS kind, a.actedAt AS at, min(p.uid) AS product
ORDER BY uid
"""
READ_GROUPS = f"""
MATCH (c:`{{customer}}`) WHERE {visible('c')}
OPTIONAL MATCH (c)-[:`{{placed}}`]->(t:`{{transaction}}`) WHERE {visible('t')}
OPTIONAL MATCH (a:`{{action}}`)-[:`{{action_on}}`]->(c) WHERE {visible('a')}
WITH coalesce(c.accessGroups, []) + coalesce(t.accessGroups, []) + coalesce(a.accessGroups, []) AS gs
UNWIND gs AS g
RETURN collect(DISTINCT g) AS groups
"""
MERGE_ESTIMATES = """
UNWIND $rows AS row
MERGE (o:`{estimate}` {{uid: row.uid}})
ON CREATE SET o.ingestedAt = $now
SET o += row.props, o.source = $source, o.sourceRecord = $source, o.computedAt = $now, o.accessGroups = $groups
RETURN count(o) AS n
"""
STAMP_ACTIONS = """
UNWIND $rows AS row
MATCH (a:`{action}` {{uid: row.uid}})
SET a.outcomeObserved = row.observed, a.outcomeMeasure = row.measure, a.computedBy = $source, a.computedAt = $now
RETURN count(a) AS n
"""
DELETE_STALE_ESTIMATES = """
MATCH (o:`{estimate}`) WHERE o.source = $source AND o.computedAt <> $now
DETACH DELETE o
RETURN count(*) AS n
"""
CLEAR_STALE_ACTIONS = """
MATCH (a:`{action}`) WHERE a.computedBy = $source AND a.computedAt <> $now
REMOVE a.outcomeObserved, a.computedBy, a.computedAt
RETURN count(a) AS n
"""
READ_ESTIMATES = f"""
MATCH (o:`{{estimate}}`) WHERE o.source = $source AND {visible('o')}
RETURN o {{{{.*}}}} AS o ORDER BY o.uid
"""


def outcome_names(ontology: Ontology) -> dict[str, str]:
    """Labels and types from the ontology, after checking it declares what outcome mining writes."""
    estimate, action = ontology.class_spec("OutcomeEstimate"), ontology.class_spec("Action")
    missing = [f"OutcomeEstimate.{p}" for p in ESTIMATE_PROPERTIES if p not in estimate.properties]
    missing += [f"Action.{p}" for p in (*ACTION_MINED_PROPERTIES, "computedBy", "computedAt")
                if p not in action.properties]
    if missing:
        raise OntologyError(f"the ontology does not declare what outcome mining writes: {', '.join(missing)}")
    return {"estimate": estimate.name, "action": action.name, "customer": ontology.class_spec("Customer").name,
            "product": ontology.class_spec("Product").name, "segment": ontology.class_spec("Segment").name,
            "transaction": ontology.class_spec("Transaction").name,
            "in_segment": ontology.relationship("IN_SEGMENT").type, "action_on": ontology.relationship("ACTION_ON").type,
            "offered": ontology.relationship("OFFERED").type, "placed": ontology.relationship("PLACED").type}


def read_actions(graph: Graph, ontology: Ontology, groups: list[str] | None = None) -> list[ActionEvent]:
    """Every action (visible to `groups`; None: all) with its customer, kind, time and offered product."""
    names = outcome_names(ontology)
    return [ActionEvent(r["uid"], r["customer"], r["kind"], to_datetime(r["at"]), r["product"])
            for r in graph.read(READ_ACTIONS.format(**names), groups=groups) if r["kind"] and r["at"] is not None]


def measure_outcomes(graph: Graph, ontology: Ontology, principal: Principal = SYSTEM,
                     as_of: datetime | None = None) -> OutcomeResult:
    """Measure every kind of action over what `principal` may see (reads only)."""
    names = outcome_names(ontology)
    groups = query_groups(principal.visible_groups())
    history = read_history(graph, ontology, groups=groups)
    segments = {r["uid"]: r["segment"] for r in graph.read(READ_SEGMENTS.format(**names), groups=groups, mined=SOURCE)}
    actions = read_actions(graph, ontology, groups)
    when = as_of or (history.latest() if history.orders else datetime.now(UTC))
    result = estimate_outcomes(history.orders_by_customer(), segments, actions, when)
    log.info("outcomes of %d actions as of %s: %s", len(actions), when.isoformat(),
             {k: e.uplift for k, e in result.estimates.items()})
    return result


def restricted_groups(graph: Graph, ontology: Ontology, principal: Principal = SYSTEM) -> list[str]:
    """The non-public access groups on the customers, orders and actions a measurement read."""
    names = outcome_names(ontology)
    rows = graph.read(READ_GROUPS.format(**names), groups=query_groups(principal.visible_groups()))
    return sorted(g for g in (rows[0]["groups"] if rows else []) if g != PUBLIC_GROUP)


def estimate_rows(result: OutcomeResult) -> list[dict[str, Any]]:
    """One OutcomeEstimate row per kind, in the ontology's property names."""
    rows = []
    for kind, e in result.estimates.items():
        if not e.actions:
            continue
        figures = e.as_dict()
        props = {"actionKind": kind, "outcomeMeasure": e.measure, "description": e.description,
                 "windowDays": e.window_days, "treatedCount": e.actions, "matchedCount": e.matched,
                 "controlCount": e.controls, "treatedRate": figures["treatedRate"],
                 "controlRate": figures["controlRate"], "uplift": figures["uplift"], "ciLow": figures["ciLow"],
                 "ciHigh": figures["ciHigh"], "naiveUplift": figures["naiveUplift"], "method": result.method,
                 "asOf": result.as_of.isoformat()}
        rows.append({"uid": f"{ESTIMATE_PREFIX}{kind}", "props": props})
    return rows


def write_outcomes(graph: Graph, ontology: Ontology, result: OutcomeResult, groups: list[str],
                   batch_size: int = 500) -> dict[str, int]:
    """Upsert this run's estimates and action stamps; remove what earlier runs wrote and this one did not."""
    names = outcome_names(ontology)
    now = datetime.now(UTC).isoformat()
    stamps = [{"uid": uid, "observed": observed, "measure": result.measures[uid]}
              for uid, observed in sorted(result.observed.items())]
    written = {"estimates": graph.write(MERGE_ESTIMATES.format(**names), rows=estimate_rows(result), source=SOURCE,
                                        now=now, groups=groups)[0]["n"], "actions": 0}
    for start in range(0, len(stamps), batch_size):
        written["actions"] += graph.write(STAMP_ACTIONS.format(**names), rows=stamps[start:start + batch_size],
                                          source=SOURCE, now=now)[0]["n"]
    written.update({f"removed_{k}": v for k, v in remove_outcomes(graph, ontology, now).items()})
    return written


def remove_outcomes(graph: Graph, ontology: Ontology, now: str = "never") -> dict[str, int]:
    """Remove outcome facts not stamped `now`; with the default, all of them (`kcrm mine --clear`)."""
    names = outcome_names(ontology)
    return {"estimates": graph.write(DELETE_STALE_ESTIMATES.format(**names), source=SOURCE, now=now)[0]["n"],
            "action_stamps": graph.write(CLEAR_STALE_ACTIONS.format(**names), source=SOURCE, now=now)[0]["n"]}


def run_outcomes(graph: Graph, ontology: Ontology, as_of: datetime | None = None,
                 batch_size: int = 500) -> tuple[OutcomeResult, dict[str, int]]:
    """Measure over everything and write the estimates back: what `kcrm mine outcomes` does."""
    result = measure_outcomes(graph, ontology, SYSTEM, as_of)
    written = write_outcomes(graph, ontology, result, restricted_groups(graph, ontology), batch_size)
    return result, written


def read_estimates(graph: Graph, ontology: Ontology, groups: list[str] | None = None) -> list[dict[str, Any]]:
    """The stored estimates (from the last `kcrm mine outcomes`) a caller with `groups` may see."""
    names = outcome_names(ontology)
    return [r["o"] for r in graph.read(READ_ESTIMATES.format(**names), source=SOURCE, groups=groups)]
