"""POST /v1/actions: record an action taken on a recommendation. GET /v1/outcomes: did such actions work?

An action is a fact (who, when, what, on whom, which recommendation it followed) and is written
like any ingested record, with provenance. The outcomes are mined figures, for analysts only
(`kg.field_access`): the stored estimates of the last `kcrm mine outcomes` when the caller may
see every record they rest on, otherwise the same measurement made now over only what the caller
may see, so that no figure rests on a customer, order or action hidden from it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, status
from pydantic import BaseModel, Field, model_validator

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.ingest.actions import ActionInput, record_action
from kcrm.kg.mining.outcome_graph import measure_outcomes, read_estimates
from kcrm.kg.mining.outcomes import RULES
from kcrm.ontology.model import load_ontology
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["outcomes"])

Kind = Literal["retention-call", "crosssell-offer", "campaign-send"]
RecommendationKind = Literal["churn-warning", "cross-sell", "campaign-target"]


class ActionRequest(BaseModel):
    kind: Kind = Field(examples=["retention-call"], description="What was done.")
    customer: str = Field(min_length=1, max_length=200, examples=["CUS-0042"], description="On whom.")
    employee: str = Field(min_length=1, max_length=200, examples=["EMP-0007"], description="Who did it.")
    actedAt: str = Field(examples=["2026-11-02T10:30:00+00:00"], description="When (ISO 8601 with offset).")
    recommendation: RecommendationKind | None = Field(
        default=None, examples=["churn-warning"],
        description="The recommendation it followed; default: the kind's own (retention-call: churn-warning, "
                    "crosssell-offer: cross-sell, campaign-send: campaign-target).")
    product: str | None = Field(default=None, max_length=200, examples=["PRD-0014"],
                                description="The product offered; required for a crosssell-offer.")
    campaign: str | None = Field(default=None, max_length=200, examples=["CMP-0009"],
                                 description="The campaign sent or whose targeting the action followed.")
    description: str | None = Field(default=None, max_length=2000,
                                    examples=["Called after the churn warning; offered a review of their account."])

    @model_validator(mode="after")
    def _product_for_offers(self) -> ActionRequest:
        if RULES[self.kind].needs_product and not self.product:
            raise ValueError(f"a {self.kind} needs the product offered (product)")
        return self


class ActionResponse(BaseModel):
    uid: str = Field(examples=["ACT-API-3f9c2a71b0de"])
    kind: str = Field(examples=["retention-call"])
    customer: str = Field(examples=["CUS-0042"])
    employee: str = Field(examples=["EMP-0007"])
    actedAt: str = Field(examples=["2026-11-02T10:30:00+00:00"])
    recommendation: str = Field(examples=["churn-warning"])
    product: str | None = Field(default=None, examples=[None])
    campaign: str | None = Field(default=None, examples=[None])
    description: str | None = None
    accessGroups: list[str] = Field(default_factory=list, examples=[[]],
                                    description="Copied from the customer: who may see the customer sees its actions.")
    source: str = Field(examples=["api:actions"])


class OutcomeItem(BaseModel):
    kind: str = Field(examples=["retention-call"])
    measure: str = Field(examples=["still-active"])
    description: str = Field(examples=["placed an order within 90 days"])
    windowDays: int = Field(examples=[90])
    actions: int = Field(examples=[40], description="Actions of this kind (measured or not).")
    pending: int | None = Field(default=None, examples=[0], description="Actions whose window has not closed yet.")
    matched: int = Field(examples=[34], description="Actions with at least one comparable customer not acted on.")
    controls: int = Field(examples=[38], description="Distinct comparison customers used.")
    treatedRate: float | None = Field(examples=[0.68])
    controlRate: float | None = Field(examples=[0.31])
    uplift: float | None = Field(examples=[0.37], description="Mean over matched actions of outcome minus the "
                                                              "comparison group's rate.")
    ciLow: float | None = Field(examples=[0.08], description="95% interval, low end.")
    ciHigh: float | None = Field(examples=[0.66], description="95% interval, high end.")
    naiveUplift: float | None = Field(examples=[0.09], description="The same against every customer not acted "
                                                                   "on, without matching.")


class OutcomesResponse(BaseModel):
    source: Literal["kcrm.mine", "computed"] = Field(
        examples=["kcrm.mine"], description="kcrm.mine: the stored estimates of the last `kcrm mine outcomes`; "
                                            "computed: measured now over what this caller may see.")
    computedAt: str | None = Field(examples=["2026-12-03T12:40:00+00:00"])
    asOf: str | None = Field(examples=["2026-10-31T23:12:09+00:00"])
    method: str = Field(examples=["exact matching on tier, segment and churn risk as of the action day; "
                                  "difference in proportions; normal 95% interval"])
    items: list[OutcomeItem]


def _stored_item(o: dict[str, Any]) -> OutcomeItem:
    return OutcomeItem(kind=o["actionKind"], measure=o["outcomeMeasure"], description=o.get("description") or "",
                       windowDays=o.get("windowDays") or RULES[o["actionKind"]].window_days,
                       actions=o.get("treatedCount") or 0, matched=o.get("matchedCount") or 0,
                       controls=o.get("controlCount") or 0, treatedRate=o.get("treatedRate"),
                       controlRate=o.get("controlRate"), uplift=o.get("uplift"), ciLow=o.get("ciLow"),
                       ciHigh=o.get("ciHigh"), naiveUplift=o.get("naiveUplift"))


@router.get(
    "/outcomes", response_model=OutcomesResponse, summary="Uplift of each kind of action, with a 95% interval",
    dependencies=[Depends(require_roles("analyst"))],
    responses={403: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def outcomes(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
) -> OutcomesResponse:
    """For each kind of action, the outcome rate of the customers acted on against comparable customers
    who were not (same value tier, segment and churn risk on the action day), the uplift and its 95%
    interval. Mined figures: analysts only; trimmed to what the caller may see."""
    ontology = load_ontology()
    stored = read_estimates(state.graph, ontology)
    if stored and all(serves(principal, o.get("accessGroups")) for o in stored):
        first = stored[0]
        return OutcomesResponse(source="kcrm.mine", computedAt=first.get("computedAt"), asOf=first.get("asOf"),
                                method=first.get("method") or "", items=[_stored_item(o) for o in stored])
    result = measure_outcomes(state.graph, ontology, principal)
    items = [OutcomeItem(**e.as_dict()) for e in result.estimates.values() if e.actions]
    return OutcomesResponse(source="computed", computedAt=None, asOf=result.as_of.isoformat(), method=result.method,
                            items=items)


def serves(principal: Principal, groups: list[str] | None) -> bool:
    """Stored figures serve a caller only if it holds every group of the records they rest on.

    Stricter than `Principal.can_see` (any one group): an estimate over key-account and internal
    records must not reach a caller who holds only one of the two.
    """
    return principal.sees_everything or set(groups or ()) <= principal.groups


@router.post(
    "/actions", response_model=ActionResponse, status_code=status.HTTP_201_CREATED,
    summary="Record an action taken on a recommendation",
    dependencies=[Depends(require_roles("agent", "analyst", "app"))],
    responses={403: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def create_action(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    body: Annotated[ActionRequest, Body(openapi_examples={
        "retention call": {"summary": "A retention call after a churn warning", "value": {
            "kind": "retention-call", "customer": "CUS-0042", "employee": "EMP-0007",
            "actedAt": "2026-11-02T10:30:00+00:00", "description": "Offered a review of their account."}},
        "cross-sell offer": {"summary": "A cross-sell offer of a recommended product", "value": {
            "kind": "crosssell-offer", "customer": "CUS-0042", "employee": "EMP-0007",
            "actedAt": "2026-11-02T10:30:00+00:00", "product": "PRD-0014"}},
    })],
) -> ActionResponse:
    """Write the action into the graph (class Action: PERFORMED by the employee, ACTION_ON the customer,
    OFFERED product, FOLLOWS campaign) with provenance. The customer, employee, product and campaign
    must exist and be visible to the caller (404 otherwise); the action inherits the customer's access
    groups. `kcrm mine outcomes` measures it once its outcome window has closed."""
    stored = record_action(state.graph, load_ontology(), ActionInput(
        uid=f"ACT-API-{uuid.uuid4().hex[:12]}", kind=body.kind, customer=body.customer, employee=body.employee,
        acted_at=body.actedAt, recommendation=body.recommendation or RULES[body.kind].recommendation,
        product=body.product, campaign=body.campaign, description=body.description), principal)
    return ActionResponse(**stored)
