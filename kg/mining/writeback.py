"""Writing mined knowledge back into Neo4j, idempotently and with provenance.

Every run stamps what it writes with one `computedAt`; after writing, whatever an earlier run
wrote and this one did not (a recommendation that no longer holds, a segment that disappeared,
a customer without orders any more) is removed. Customer nodes keep their ingest provenance:
their mined properties are stamped `computedBy: "kcrm.mine"` and `computedAt`; mined Segment
nodes, IN_SEGMENT and RECOMMENDED edges carry `source: "kcrm.mine"` and `computedAt`. Labels,
relationship types and property keys are checked against the ontology before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from kcrm.foundation.errors import OntologyError
from kcrm.kg.connection import Graph
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)

SOURCE = "kcrm.mine"
SEGMENT_UID_PREFIX = "SEG-MINED-"
CUSTOMER_PROPERTIES = (
    "recencyDays", "orderCount", "monetaryValue", "monetaryBasis", "recencyScore", "frequencyScore",
    "monetaryScore", "rfmScore", "valueTier", "loyal", "churnRisk", "churnRiskLevel", "churnWarning", "churnReason",
    "deviationFlagged", "deviationReason",
)
SEGMENT_PROPERTIES = ("name", "nameZh", "description", "descriptionZh", "memberCount")
RECOMMENDATION_PROPERTIES = ("score", "confidence", "lift", "support", "reason")
NEVER = "never"  # a computedAt no run writes: with it every mined fact counts as stale

SET_CUSTOMERS = """
UNWIND $rows AS row
MATCH (c:`{customer}` {{uid: row.uid}})
SET c += row.props, c.computedBy = $source, c.computedAt = $now
RETURN count(c) AS n
"""
CLEAR_STALE_CUSTOMERS = """
MATCH (c:`{customer}`) WHERE c.computedBy = $source AND c.computedAt <> $now
SET c += $cleared
RETURN count(c) AS n
"""
MERGE_SEGMENTS = """
UNWIND $rows AS row
MERGE (s:`{segment}` {{uid: row.uid}})
ON CREATE SET s.ingestedAt = $now
SET s += row.props, s.source = $source, s.sourceRecord = $source, s.computedAt = $now
RETURN count(s) AS n
"""
MERGE_MEMBERS = """
UNWIND $rows AS row
MATCH (c:`{customer}` {{uid: row.customer}})
MATCH (s:`{segment}` {{uid: row.segment}})
MERGE (c)-[r:`{in_segment}`]->(s)
SET r.source = $source, r.computedAt = $now
RETURN count(r) AS n
"""
MERGE_RECOMMENDATIONS = """
UNWIND $rows AS row
MATCH (c:`{customer}` {{uid: row.customer}})
MATCH (p:`{product}` {{uid: row.product}})
MERGE (c)-[r:`{recommended}`]->(p)
SET r += row.props, r.source = $source, r.computedAt = $now
RETURN count(r) AS n
"""
DELETE_STALE_EDGES = """
MATCH (:`{start}`)-[r:`{type}`]->(:`{end}`) WHERE r.source = $source AND r.computedAt <> $now
DELETE r
RETURN count(*) AS n
"""
DELETE_STALE_SEGMENTS = """
MATCH (s:`{segment}`) WHERE s.source = $source AND s.computedAt <> $now
DETACH DELETE s
RETURN count(*) AS n
"""


def graph_names(ontology: Ontology) -> dict[str, str]:
    """Labels and types from the ontology, after checking it declares every key this module writes."""
    customer, segment = ontology.class_spec("Customer"), ontology.class_spec("Segment")
    recommended = ontology.relationship("RECOMMENDED")
    in_segment = ontology.relationship("IN_SEGMENT")
    missing = [f"Customer.{p}" for p in (*CUSTOMER_PROPERTIES, "computedBy", "computedAt")
               if p not in customer.properties]
    missing += [f"Segment.{p}" for p in (*SEGMENT_PROPERTIES, "computedAt") if p not in segment.properties]
    missing += [f"RECOMMENDED.{p}" for p in (*RECOMMENDATION_PROPERTIES, "computedAt")
                if p not in recommended.edge_properties]
    missing += ["IN_SEGMENT.computedAt"] if "computedAt" not in in_segment.edge_properties else []
    if missing:
        raise OntologyError(f"the ontology does not declare what mining writes: {', '.join(missing)}")
    return {"customer": customer.name, "segment": segment.name, "product": ontology.class_spec("Product").name,
            "recommended": recommended.type, "in_segment": in_segment.type}


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _write(graph: Graph, cypher: str, rows: list[dict[str, Any]], now: str, batch_size: int) -> int:
    return sum(graph.write(cypher, rows=batch, source=SOURCE, now=now)[0]["n"] for batch in _batches(rows, batch_size))


def write_insights(graph: Graph, ontology: Ontology, now: str, customers: list[dict[str, Any]],
                   segments: list[dict[str, Any]], members: list[dict[str, str]],
                   recommendations: list[dict[str, Any]], batch_size: int = 500) -> dict[str, int]:
    """Upsert this run's facts, then remove the facts of earlier runs that this run did not confirm."""
    names = graph_names(ontology)
    written = {
        "customers": _write(graph, SET_CUSTOMERS.format(**names), customers, now, batch_size),
        "segments": _write(graph, MERGE_SEGMENTS.format(**names), segments, now, batch_size),
        "segment_members": _write(graph, MERGE_MEMBERS.format(**names), members, now, batch_size),
        "recommendations": _write(graph, MERGE_RECOMMENDATIONS.format(**names), recommendations, now, batch_size),
    }
    written.update({f"removed_{key}": value for key, value in remove_stale(graph, ontology, now).items()})
    log.info("mined facts written: %s", written)
    return written


def remove_stale(graph: Graph, ontology: Ontology, now: str = NEVER) -> dict[str, int]:
    """Remove mined facts not stamped `now`; with the default, every mined fact (`kcrm mine --clear`),
    the outcome estimates and action stamps of `kcrm mine outcomes` included."""
    names = graph_names(ontology)
    cleared = dict.fromkeys((*CUSTOMER_PROPERTIES, "computedBy", "computedAt"))
    params = {"source": SOURCE, "now": now}
    outcomes: dict[str, int] = {}
    if now == NEVER:
        from kcrm.kg.mining.outcome_graph import remove_outcomes  # it imports this module

        outcomes = {f"outcome_{k}": v for k, v in remove_outcomes(graph, ontology).items()}
    return {**outcomes,
        "recommendations": graph.write(DELETE_STALE_EDGES.format(
            start=names["customer"], type=names["recommended"], end=names["product"]), **params)[0]["n"],
        "segment_members": graph.write(DELETE_STALE_EDGES.format(
            start=names["customer"], type=names["in_segment"], end=names["segment"]), **params)[0]["n"],
        "segments": graph.write(DELETE_STALE_SEGMENTS.format(**names), **params)[0]["n"],
        "customers": graph.write(CLEAR_STALE_CUSTOMERS.format(**names), cleared=cleared, **params)[0]["n"],
    }
