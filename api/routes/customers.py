"""GET /v1/customers/{uid}/360: one customer seen from every side, in one graph round trip."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.routes.knowledge_risk import ConcentrationOut, concentration_out
from kcrm.api.state import ServiceState
from kcrm.kg.customer360 import customer_360
from kcrm.kg.field_access import reads_mined
from kcrm.kg.knowledge_risk import KnowledgeRisk
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["customers"],
                   dependencies=[Depends(require_roles("agent", "expert", "analyst", "app"))])


class Customer360Response(BaseModel):
    uid: str = Field(examples=["CUS-0176"])
    profile: dict[str, Any] = Field(examples=[{"uid": "CUS-0176", "name": "Ashford Logistics plc", "country": "UK"}])
    segment: dict[str, Any] | None = Field(examples=[{"uid": "SEG-ENTERPRISE", "name": "Enterprise"}])
    transactions: dict[str, Any] = Field(
        examples=[{"orders": 66, "total": 831448.8, "first": "2023-01-01T09:39:54+00:00",
                   "last": "2026-10-29T14:11:45+00:00", "currencies": ["GBP"]}])
    top_products: list[dict[str, Any]] = Field(description="By spend over all order lines.")
    products: list[dict[str, Any]] = Field(description="Everything purchased, most recent first.")
    open_cases: list[dict[str, Any]] = Field(description="Most recent first, capped.")
    closed_cases: list[dict[str, Any]] = Field(description="Resolved or closed, most recent first, capped.")
    case_counts: dict[str, int] = Field(examples=[{"open": 3, "closed": 36}])
    rules: list[dict[str, Any]] = Field(
        examples=[[{"uid": "RULE-001", "type": "IndustryRule", "title": "GDPR Article 15",
                    "via": ["APPLIES_TO SEG-ENTERPRISE"]}]])
    account_team: list[dict[str, Any]]
    recent_topics: list[str] = Field(examples=[["topic-subscription"]])
    experts: list[dict[str, Any]] = Field(description="Skilled in the customer's recent topics and language.")
    mined_segment: dict[str, Any] | None = Field(
        None, description="The segment `kcrm mine` put the customer in (null before mining, and for a key without "
        "the analyst role, whose `profile` also lacks the mined figures: docs/security.md); the declared one is "
        "`segment`.", examples=[{"uid": "SEG-MINED-3", "name": "Recently active, frequent buyers"}])
    knowledge: ConcentrationOut | None = Field(
        None, description="Who knows this customer: everyone who resolved its cases or owns the account, with "
        "their share of that evidence and how many would have to leave before nobody knows it "
        "(GET /v1/analytics/knowledge-risk, trimmed the same way).")


@router.get(
    "/customers/{uid}/360", response_model=Customer360Response, summary="Customer 360 view",
    responses={404: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def customer_view(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    uid: Annotated[str, Path(min_length=1, max_length=200, examples=["CUS-0176"])],
    cases: Annotated[int, Query(ge=1, le=100, description="At most this many open and closed cases each.")] = 10,
) -> Customer360Response:
    view = customer_360(state.graph, uid, cases=cases, groups=principal.visible_groups(),
                        mined=reads_mined(principal))
    knowledge = KnowledgeRisk(state.graph, groups=principal.visible_groups()).customer(uid)
    return Customer360Response(**dataclasses.asdict(view), knowledge=concentration_out(knowledge))
