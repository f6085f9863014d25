"""GET /v1/analytics/knowledge-risk and /v1/employees/{uid}/departure-impact: know-how held by one person.

Analyst only: who would be missed, and how much, is a staffing question (docs/security.md).
Both are trimmed by the caller's access groups (`kcrm.kg.knowledge_risk`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.kg.knowledge_risk import KINDS, Concentration, KnowledgeRisk
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["analytics"], dependencies=[Depends(require_roles("analyst"))])
ERRORS: dict[int | str, dict[str, Any]] = {422: {"model": Problem}, 503: {"model": Problem}}
Kind = Literal["topic", "product", "customer"]


class EvidenceItemOut(BaseModel):
    uid: str = Field(examples=["CASE-002891"])
    type: str = Field(examples=["SupportCase"], description="SupportCase, Document or OWNS (an ownership edge).")
    title: str = Field(examples=["Refund not received for returned router"])
    at: str | None = Field(examples=["2026-03-02T10:00:00+00:00"], description="Closed or published.")
    path: str = Field(examples=["(EMP-001)<-[:RESOLVED_BY]-(CASE-002891)"])


class HolderOut(BaseModel):
    uid: str = Field(examples=["EMP-028"])
    name: str = Field(examples=["Laura Fischer"])
    team: str = Field(examples=["Security & Compliance"])
    items: int = Field(examples=[46], description="Evidence items this person holds on the subject.")
    share: float = Field(examples=[0.92], description="items / the subject's evidence.")
    evidence: list[EvidenceItemOut] = Field(description="This person's newest evidence items (capped).")


class ConcentrationOut(BaseModel):
    kind: Kind = Field(examples=["topic"])
    uid: str = Field(examples=["topic-pipl"])
    name: str = Field(examples=["PIPL (China personal information)"])
    evidence: int = Field(examples=[50], description="Distinct evidence items: resolved cases, documents, ownership.")
    holders: int = Field(examples=[3], description="People who would have to leave before nobody with evidence "
                                                   "remains.")
    top_share: float = Field(examples=[0.92], description="Share of the evidence held by the top person.")
    single_expert: bool = Field(examples=[False], description="One person holds all the evidence.")
    people: list[HolderOut] = Field(description="Everyone with evidence, most items first.")


class KnowledgeRiskResponse(BaseModel):
    subjects: dict[str, int] = Field(examples=[{"topic": 40, "product": 60, "customer": 300}],
                                     description="Subjects with evidence, per kind.")
    single_expert: dict[str, list[str]] = Field(
        examples=[{"topic": [], "product": [], "customer": ["CUS-0031"]}],
        description="Per kind, every subject whose only evidence is one employee (uncapped).")
    items: list[ConcentrationOut] = Field(description="Riskiest first: fewest holders, highest top share; capped by k.")


class NextBestOut(BaseModel):
    uid: str = Field(examples=["EMP-003"])
    name: str = Field(examples=["陈静"])
    team: str = Field(examples=["Billing"])
    score: float = Field(examples=[0.91], description="Expert-finding score for the subject (GET /v1/experts).")
    components: dict[str, float] = Field(examples=[{"documents": 0.2, "skills": 0.6, "ownership": 0.0,
                                                    "prior": 0.8, "load_penalty": 1.0}])


class ImpactOut(BaseModel):
    subject: ConcentrationOut
    next_best: NextBestOut | None = Field(description="null when nobody else ranks, or not looked up.")
    looked_up: bool = Field(examples=[True], description="False past the `next_best` limit.")


class DepartureImpactResponse(BaseModel):
    employee: dict[str, str | None] = Field(examples=[{"uid": "EMP-034", "name": "Grace Liu", "team": "Sales"}])
    holds: dict[str, int] = Field(examples=[{"topic": 5, "product": 20, "customer": 102}],
                                  description="Subjects of each kind this person holds any evidence on.")
    sole: list[ImpactOut] = Field(description="Subjects that would lose their only expert, most evidence first.")


def concentration_out(c: Concentration) -> ConcentrationOut:
    """The API form of one subject's concentration (shared with the customer 360)."""
    return ConcentrationOut(kind=c.kind, uid=c.uid, name=c.name, evidence=c.evidence, holders=c.holders,  # type: ignore[arg-type]
                            top_share=c.top_share, single_expert=c.single_expert,
                            people=[HolderOut.model_validate(h, from_attributes=True) for h in c.people])


@router.get("/analytics/knowledge-risk", response_model=KnowledgeRiskResponse, responses=ERRORS,
            summary="How concentrated the know-how on each topic, product and customer is")
def knowledge_risk(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    kind: Annotated[list[Kind] | None, Query(description="Only these kinds of subject.")] = None,
    single_only: Annotated[bool, Query(description="Only subjects whose evidence is held by one person.")] = False,
    k: Annotated[int, Query(ge=1, le=1000, description="How many subjects in `items`.")] = 100,
    evidence: Annotated[int, Query(ge=0, le=20, description="Evidence items shown per person.")] = 3,
) -> KnowledgeRiskResponse:
    kinds = tuple(kind or KINDS)
    found = KnowledgeRisk(state.graph, groups=principal.visible_groups()).concentrations(kinds, evidence)
    shown = [c for c in found if c.single_expert or not single_only]
    return KnowledgeRiskResponse(
        subjects={kd: sum(1 for c in found if c.kind == kd) for kd in kinds},
        single_expert={kd: sorted(c.uid for c in found if c.kind == kd and c.single_expert) for kd in kinds},
        items=[concentration_out(c) for c in shown[:k]])


@router.get("/employees/{uid}/departure-impact", response_model=DepartureImpactResponse,
            responses={404: {"model": Problem}, **ERRORS},
            summary="What if this employee leaves: subjects that lose their only expert, and who is next best")
def departure_impact(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    uid: Annotated[str, Path(min_length=1, max_length=200, examples=["EMP-034"])],
    next_best: Annotated[int, Query(ge=0, le=200, description="Look up the next best person for this many "
                                                             "subjects (most evidence first).")] = 20,
    evidence: Annotated[int, Query(ge=0, le=20, description="Evidence items shown per person.")] = 3,
) -> DepartureImpactResponse:
    impact = KnowledgeRisk(state.graph, groups=principal.visible_groups()).departure(uid, next_best, evidence)
    return DepartureImpactResponse(
        employee={"uid": impact.employee["uid"], "name": impact.employee.get("name"),
                  "team": impact.employee.get("team")},
        holds=impact.holds,
        sole=[ImpactOut(subject=concentration_out(i.concentration), looked_up=i.looked_up,
                        next_best=NextBestOut.model_validate(i.next_best, from_attributes=True) if i.next_best else None)
              for i in impact.sole])
