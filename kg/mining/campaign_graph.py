"""Campaign targeting against Neo4j: read the campaign and its customers, decide, write TARGETS back.

Reading is what `GET /v1/campaigns/{uid}/targets` does (always current, writes nothing);
`kcrm mine campaign` also writes each decision as `(:Campaign)-[:TARGETS {decision, reason}]->(:Customer)`
with `source: "kcrm.mine"` and one `computedAt`, and removes the TARGETS edges of the same
campaign that an earlier run wrote and this one did not confirm.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import EntityNotFound, MiningInputError, OntologyError
from kcrm.kg.connection import Graph
from kcrm.kg.mining.campaigns import (
    Campaign,
    Candidate,
    Receipt,
    TargetingPolicy,
    TargetingResult,
    parse_tiers,
    select_targets,
)
from kcrm.kg.mining.history import to_datetime
from kcrm.kg.mining.writeback import SOURCE
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import Ontology
from kcrm.security.access import SYSTEM, Principal

log = logging.getLogger(__name__)

# Trimmed by the caller's $groups (null: everything), like every graph read for a caller: a campaign
# it may not see is absent, and receipts of campaigns it may not see neither count nor show.
READ_CAMPAIGN = f"""
MATCH (k:`{{campaign}}` {{{{uid: $uid}}}}) WHERE {visible("k")}
RETURN k {{{{.uid, .name, .promotion, .launchedAt, .status}}}} AS k
"""
READ_CANDIDATES = """
MATCH (c:`{customer}`)
RETURN c.uid AS uid, c.name AS name, c.valueTier AS tier, c.accessGroups AS groups ORDER BY uid
"""
READ_RECEIPTS = f"""
MATCH (c:`{{customer}}`)-[r:`{{received}}`]->(k:`{{campaign}}`)
WHERE k.uid <> $uid AND r.sentAt IS NOT NULL AND {visible("k")}
RETURN c.uid AS customer, k.uid AS campaign, k.promotion AS promotion, r.sentAt AS sentAt,
       coalesce(r.responded, false) AS responded
"""
MERGE_TARGETS = """
MATCH (k:`{campaign}` {{uid: $uid}})
UNWIND $rows AS row
MATCH (c:`{customer}` {{uid: row.customer}})
MERGE (k)-[t:`{targets}`]->(c)
SET t.decision = row.decision, t.reason = row.reason, t.source = $source, t.computedAt = $now
RETURN count(t) AS n
"""
DELETE_ALL_TARGETS = """
MATCH (:`{campaign}`)-[t:`{targets}`]->(:`{customer}`) WHERE t.source = $source
DELETE t
RETURN count(*) AS n
"""
DELETE_STALE_TARGETS = """
MATCH (:`{campaign}` {{uid: $uid}})-[t:`{targets}`]->(:`{customer}`)
WHERE t.source = $source AND t.computedAt <> $now
DELETE t
RETURN count(*) AS n
"""


def campaign_names(ontology: Ontology) -> dict[str, str]:
    """Labels and types from the ontology, after checking it declares what targeting writes."""
    targets = ontology.relationship("TARGETS")
    missing = [f"TARGETS.{p}" for p in ("decision", "reason", "source", "computedAt")
               if p not in targets.edge_properties]
    if missing:
        raise OntologyError(f"the ontology does not declare what campaign targeting writes: {', '.join(missing)}")
    return {"campaign": ontology.class_spec("Campaign").name, "customer": ontology.class_spec("Customer").name,
            "received": ontology.relationship("RECEIVED").type, "targets": targets.type}


def read_campaign(graph: Graph, ontology: Ontology, uid: str, principal: Principal = SYSTEM) -> Campaign:
    """The campaign `uid`; EntityNotFound when there is none (or `principal` may not see it, the same
    answer), MiningInputError when it lacks its dates."""
    names = campaign_names(ontology)
    rows = graph.read(READ_CAMPAIGN.format(**names), uid=uid, groups=query_groups(principal.visible_groups()))
    if not rows:
        raise EntityNotFound(f"no campaign with uid {uid!r} in the graph")
    k = rows[0]["k"]
    if not k.get("promotion") or k.get("launchedAt") is None:
        raise MiningInputError(f"campaign {uid!r} has no promotion or no launchedAt: both are needed to target it")
    return Campaign(uid=k["uid"], name=k.get("name") or uid, promotion=k["promotion"],
                    launched_at=to_datetime(k["launchedAt"]), status=k.get("status"))


def target_campaign(graph: Graph, ontology: Ontology, uid: str, policy: TargetingPolicy = TargetingPolicy(),  # noqa: B008 - frozen, never mutated
                    principal: Principal = SYSTEM) -> TargetingResult:
    """Decide for every customer `principal` may see whether campaign `uid` should go to them (reads only).

    Trimmed throughout: a campaign the caller may not see is EntityNotFound; customers and earlier
    receipts (through campaigns) it may not see are left out, so no decision, count or reason
    rests on something hidden from it.
    """
    names = campaign_names(ontology)
    campaign = read_campaign(graph, ontology, uid, principal)
    trim = query_groups(principal.visible_groups())
    candidates = [Candidate(r["uid"], r["name"] or r["uid"], r["tier"])
                  for r in graph.read(READ_CANDIDATES.format(**names)) if principal.can_see(r["groups"])]
    receipts = [Receipt(r["customer"], r["campaign"], r["promotion"] or "", to_datetime(r["sentAt"]),
                        bool(r["responded"])) for r in graph.read(READ_RECEIPTS.format(**names), uid=uid,
                                                                          groups=trim)]
    result = select_targets(campaign, candidates, receipts, policy)
    log.info("campaign %s: %s over %d receipts", uid, result.counts, len(receipts))
    return result


def write_targets(graph: Graph, ontology: Ontology, result: TargetingResult, batch_size: int = 500) -> dict[str, int]:
    """Write every decision as a TARGETS edge with provenance; drop this campaign's unconfirmed older ones."""
    names = campaign_names(ontology)
    now = datetime.now(UTC).isoformat()
    rows = [{"customer": d.customer, "decision": d.decision, "reason": d.reason} for d in result.decisions]
    written = 0
    for start in range(0, len(rows), batch_size):
        written += graph.write(MERGE_TARGETS.format(**names), uid=result.campaign.uid, rows=rows[start:start + batch_size],
                               source=SOURCE, now=now)[0]["n"]
    removed = graph.write(DELETE_STALE_TARGETS.format(**names), uid=result.campaign.uid, source=SOURCE, now=now)[0]["n"]
    return {"targets": written, "removed_targets": removed}


def remove_targets(graph: Graph, ontology: Ontology) -> int:
    """Remove every mined TARGETS edge (part of `kcrm mine --clear`)."""
    return graph.write(DELETE_ALL_TARGETS.format(**campaign_names(ontology)), source=SOURCE)[0]["n"]


def policy_from_settings(settings: Settings, recent_days: int | None = None, min_received: int | None = None,
                         low_response_rate: float | None = None, valuable_tiers: str | None = None
                         ) -> TargetingPolicy:
    """The targeting policy of the settings, with any value given here taking its place."""
    return TargetingPolicy(
        recent_days=settings.campaign_recent_days if recent_days is None else recent_days,
        min_received=settings.campaign_min_received if min_received is None else min_received,
        low_response_rate=settings.campaign_low_response_rate if low_response_rate is None else low_response_rate,
        valuable_tiers=parse_tiers(settings.campaign_valuable_tiers if valuable_tiers is None else valuable_tiers))
