"""POST /v1/cases/assist: what to do about a new case, from everything the graph knows."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.routes.customers import Customer360Response
from kcrm.api.routes.experts import ExpertOut, expert_out
from kcrm.api.state import ServiceState
from kcrm.kg.case_assist import CaseAssistant
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["cases"],
                   dependencies=[Depends(require_roles("agent", "expert", "app"))])


class AssistRequest(BaseModel):
    text: str = Field(min_length=1, max_length=20000, description="The new case as the customer wrote it.",
                      examples=["I returned my LP-1100w printer two weeks ago and still have no refund."])
    customer_uid: str | None = Field(default=None, max_length=200, examples=["CUS-0176"])
    cases: int = Field(default=5, ge=1, le=20, description="How many similar cases.")
    experts: int = Field(default=5, ge=1, le=20, description="How many experts.")


class SimilarCaseOut(BaseModel):
    uid: str = Field(examples=["CASE-000895"])
    title: str = Field(examples=["Refund not received for returned printer"])
    score: float = Field(examples=[0.598])
    status: str = Field(examples=["closed"])
    resolution: str | None = Field(examples=["Refund released after the return was scanned at the warehouse."])
    resolved_by: list[dict[str, Any]] = Field(examples=[[{"uid": "EMP-003", "name": "陈静"}]])
    topics: list[str] = Field(examples=[["topic-refund"]])
    products: list[str] = Field(examples=[["PRD-0001"]])


class MentionOut(BaseModel):
    uid: str = Field(examples=["PRD-0001"])
    type: str = Field(examples=["Product"])
    text: str = Field(examples=["LP-1100w"])
    start: int = Field(examples=[14])
    end: int = Field(examples=[22])
    confidence: float = Field(examples=[0.9], description="How sure the entity ruler is (exact name 0.95, model code 0.9, alias 0.85).")


class AssistResponse(BaseModel):
    similar_cases: list[SimilarCaseOut]
    rules: list[dict[str, Any]] = Field(
        examples=[[{"uid": "POL-001", "type": "Policy", "title": "Refund Policy", "cases": ["CASE-000895"],
                    "customer": True}]], description="From similar cases' GOVERNED_BY and the customer's rules.")
    experts: list[ExpertOut]
    topics: dict[str, float] = Field(examples=[{"topic-refund": 0.55}])
    entities: list[MentionOut]
    customer: Customer360Response | None = None


@router.post(
    "/cases/assist", response_model=AssistResponse, summary="Similar cases, rules, experts and context for a new case",
    responses={400: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def assist(state: Annotated[ServiceState, Depends(get_state)],
           principal: Annotated[Principal, Depends(get_principal)], body: AssistRequest) -> AssistResponse:
    result = CaseAssistant(state.graph, state.require_search(), groups=principal.visible_groups()).assist(
        body.text, customer_uid=body.customer_uid, n_cases=body.cases, n_experts=body.experts)
    return AssistResponse(
        similar_cases=[SimilarCaseOut(**dataclasses.asdict(c)) for c in result.similar_cases], rules=result.rules,
        experts=[expert_out(e) for e in result.experts], topics=result.topics,
        entities=[MentionOut(**dataclasses.asdict(m)) for m in result.entities],
        customer=Customer360Response(**dataclasses.asdict(result.customer)) if result.customer else None)
