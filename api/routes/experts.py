"""GET /v1/experts: who can help, ranked from graph evidence, with the evidence shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.kg.experts import ExpertFinder, ExpertQuery, ExpertResult, RankedExpert
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["experts"],
                   dependencies=[Depends(require_roles("agent", "expert", "analyst", "app"))])


class EvidenceOut(BaseModel):
    uid: str = Field(examples=["CASE-002891"])
    type: str = Field(examples=["SupportCase"])
    title: str = Field(examples=["Refund not received for returned router"])
    contribution: float = Field(examples=[0.0216], description="Query relevance times association strength.")
    path: str = Field(examples=["(EMP-001)<-[:RESOLVED_BY]-(CASE-002891)"])


class SkillOut(BaseModel):
    topic: str = Field(examples=["topic-refund"], description="The query topic matched.")
    skill_topic: str = Field(examples=["topic-refund"], description="The declared skill that matched it.")
    level: int = Field(examples=[5])
    hops: int = Field(examples=[0], description="Taxonomy (BROADER) steps between the two.")
    path: str = Field(examples=["(EMP-001)-[:HAS_SKILL {level: 5}]->(topic-refund)"])


class ExpertOut(BaseModel):
    uid: str = Field(examples=["EMP-001"])
    name: str = Field(examples=["Sarah Mitchell"])
    team: str = Field(examples=["Billing"])
    languages: list[str] = Field(examples=[["en"]])
    score: float = Field(examples=[1.65])
    components: dict[str, float] = Field(
        examples=[{"documents": 0.16, "skills": 0.95, "ownership": 0.0, "prior": 0.83, "load_penalty": 1.0}])
    open_cases: int = Field(examples=[0])
    evidence: list[EvidenceOut]
    skills: list[SkillOut]
    owns: list[str] = Field(examples=[["(EMP-001)-[:OWNS]->(CUS-0001)"]])


class ExpertsResponse(BaseModel):
    query: dict[str, str | int | None] = Field(examples=[{"q": "refund", "k": 10}])
    topics: dict[str, float] = Field(examples=[{"topic-refund": 0.95}], description="p(topic | query).")
    experts: list[ExpertOut]


def expert_out(expert: RankedExpert) -> ExpertOut:
    """The API form of a ranked expert (shared with the case assistant)."""
    return ExpertOut.model_validate(expert, from_attributes=True)


def experts_response(result: ExpertResult) -> ExpertsResponse:
    query = {k: v for k, v in vars(result.query).items() if v is not None}
    return ExpertsResponse(query=query, topics=result.topics, experts=[expert_out(e) for e in result.experts])


@router.get(
    "/experts", response_model=ExpertsResponse, summary="Rank employees who can help with a question",
    responses={400: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def experts(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    q: Annotated[str | None, Query(max_length=1000, description="Free text, English or Chinese.",
                                   examples=["refund"])] = None,
    topic: Annotated[str | None, Query(max_length=200, description="A Topic uid.", examples=["topic-refund"])] = None,
    product: Annotated[str | None, Query(max_length=200, description="A Product uid.")] = None,
    customer: Annotated[str | None, Query(max_length=200, description="A Customer uid.")] = None,
    team: Annotated[str | None, Query(max_length=200, description="Only this team.")] = None,
    language: Annotated[str | None, Query(max_length=10, description="Only people who speak it.")] = None,
    max_open_cases: Annotated[int | None, Query(ge=0, description="Leave out people with more open cases.")] = None,
    k: Annotated[int, Query(ge=1, le=50, description="How many experts.")] = 10,
) -> ExpertsResponse:
    query = ExpertQuery(q=q, topic=topic, product=product, customer=customer, team=team, language=language, k=k,
                        max_open_cases=max_open_cases)
    searcher = state.require_search() if q else state.search
    return experts_response(ExpertFinder(state.graph, searcher, groups=principal.visible_groups()).find(query))
