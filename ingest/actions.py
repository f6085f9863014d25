"""Recording one action taken on a recommendation (`POST /v1/actions`), as an ordinary ingested record.

Why through the ingest path: an action is a fact like an order or a case, so it is validated
against the ontology's shapes and written by the same batch writer, with the same provenance
(`source`, `sourceRecord`, `ingestedAt`). What it points at must exist and be visible to the
caller; otherwise the answer is the same 404 as for something that does not exist, so a caller
cannot probe for hidden customers. The action inherits the customer's access groups: whoever may
not see the customer may not see what was done to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kcrm.foundation.errors import EntityNotFound, ValidationFailed
from kcrm.ingest.directory import write_records
from kcrm.ingest.validate import validate_record
from kcrm.kg.connection import Graph
from kcrm.kg.loader import LoadReport
from kcrm.kg.records import Record, RelRef
from kcrm.kg.visibility import query_groups, visible
from kcrm.ontology.model import Ontology
from kcrm.security.access import SYSTEM, Principal

API_SOURCE = "api:actions"
FIND_ENDS = f"""
OPTIONAL MATCH (c:`{{customer}}` {{{{uid: $customer}}}}) WHERE {visible('c')}
OPTIONAL MATCH (e:`{{employee}}` {{{{uid: $employee}}}}) WHERE {visible('e')}
OPTIONAL MATCH (p:`{{product}}` {{{{uid: $product}}}}) WHERE {visible('p')}
OPTIONAL MATCH (k:`{{campaign}}` {{{{uid: $campaign}}}}) WHERE {visible('k')}
RETURN c.uid AS customer, c.accessGroups AS groups, e.uid AS employee, p.uid AS product, k.uid AS campaign
"""


@dataclass(frozen=True)
class ActionInput:
    """One action as a caller states it."""

    uid: str
    kind: str
    customer: str
    employee: str
    acted_at: str
    recommendation: str
    product: str | None = None
    campaign: str | None = None
    description: str | None = None


def _names(ontology: Ontology) -> dict[str, str]:
    return {key: ontology.class_spec(cls).name for key, cls in (
        ("customer", "Customer"), ("employee", "Employee"), ("product", "Product"), ("campaign", "Campaign"))}


def record_action(graph: Graph, ontology: Ontology, action: ActionInput,
                  principal: Principal = SYSTEM) -> dict[str, Any]:
    """Validate and write one action; returns it as stored (EntityNotFound, ValidationFailed)."""
    try:
        when = datetime.fromisoformat(action.acted_at)
    except ValueError as exc:
        raise ValidationFailed(f"actedAt {action.acted_at!r} is not an ISO 8601 date-time") from exc
    if when.tzinfo is None:
        raise ValidationFailed(f"actedAt {action.acted_at!r} needs a UTC offset (e.g. +00:00)")
    found = graph.read(FIND_ENDS.format(**_names(ontology)), customer=action.customer, employee=action.employee,
                       product=action.product or "", campaign=action.campaign or "",
                       groups=query_groups(principal.visible_groups()))[0]
    missing = [f"{what} {uid!r}" for what, uid in (("customer", action.customer), ("employee", action.employee),
                                                   ("product", action.product), ("campaign", action.campaign))
               if uid and found[what] is None]
    if missing:
        raise EntityNotFound(f"no {', no '.join(missing)} in the graph")
    groups = sorted(found["groups"] or [])
    props: dict[str, Any] = {"actionKind": action.kind, "actedAt": when.isoformat(),
                             "recommendation": action.recommendation}
    if action.description:
        props["description"] = action.description
    if groups:
        props["accessGroups"] = groups
    rels = [RelRef("PERFORMED", action.employee, "Employee", outgoing=False),
            RelRef("ACTION_ON", action.customer, "Customer", outgoing=True)]
    if action.product:
        rels.append(RelRef("OFFERED", action.product, "Product", outgoing=True))
    if action.campaign:
        rels.append(RelRef("FOLLOWS", action.campaign, "Campaign", outgoing=True))
    record, problems = validate_record(ontology, Record("Action", action.uid, props, tuple(rels), API_SOURCE, 1))
    if record is None:
        raise ValidationFailed("the action does not fit the ontology: " + "; ".join(
            f"{p.field}: {p.reason}" for p in problems), [p.as_dict() for p in problems])
    report = LoadReport()
    write_records(graph, ontology, [record], API_SOURCE, report, batch_size=10)
    return {"uid": action.uid, "kind": action.kind, "customer": action.customer, "employee": action.employee,
            "actedAt": when.isoformat(), "recommendation": action.recommendation, "product": action.product,
            "campaign": action.campaign, "description": action.description, "accessGroups": groups,
            "source": API_SOURCE}
