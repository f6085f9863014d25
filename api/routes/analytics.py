"""GET /v1/analytics/experts and /v1/analytics/communities: the collaboration graph, analysed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.kg.analytics import CollaborationAnalytics
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1/analytics", tags=["analytics"],
                   dependencies=[Depends(require_roles("analyst"))])
ERRORS: dict[int | str, dict[str, Any]] = {422: {"model": Problem}, 503: {"model": Problem}}


class CentralExpertOut(BaseModel):
    uid: str = Field(examples=["EMP-001"])
    name: str = Field(examples=["Sarah Mitchell"])
    team: str = Field(examples=["Billing"])
    centrality: float = Field(examples=[0.0712], description="Weighted PageRank in the collaboration graph.")
    community: int = Field(examples=[0], description="Id of the employee's community of practice.")


class AnalyticsExpertsResponse(BaseModel):
    watermark: str = Field(examples=["2026-11-23T15:00:00Z|3120"], description="Graph state analysed.")
    nodes: int = Field(examples=[40])
    edges: int = Field(examples=[512])
    experts: list[CentralExpertOut]


class TopicShareOut(BaseModel):
    topic: str = Field(examples=["topic-refund"])
    share: float = Field(examples=[0.41], description="Share of the community's topic evidence.")


class CommunityOut(BaseModel):
    id: int = Field(examples=[0])
    size: int = Field(examples=[7])
    members: list[str] = Field(examples=[["EMP-001", "EMP-007"]], description="Most central first.")
    topics: list[TopicShareOut]


class CommunitiesResponse(BaseModel):
    watermark: str = Field(examples=["2026-11-23T15:00:00Z|3120"])
    communities: list[CommunityOut]


@router.get("/experts", response_model=AnalyticsExpertsResponse, responses=ERRORS,
            summary="Employees by centrality in the collaboration graph, with their community")
def central_experts(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    k: Annotated[int, Query(ge=1, le=1000, description="How many employees.")] = 50,
    team: Annotated[str | None, Query(max_length=200, description="Only this team.")] = None,
) -> AnalyticsExpertsResponse:
    analytics = CollaborationAnalytics(state.graph, groups=principal.visible_groups())
    result = analytics.result()
    people = analytics.employees()
    out = []
    for uid, value in result.ranking():
        person = people.get(uid, {"name": "", "team": ""})
        if team and person["team"].lower() != team.lower():
            continue
        out.append(CentralExpertOut(uid=uid, name=person["name"], team=person["team"], centrality=round(value, 6),
                                    community=result.community_of[uid]))
    return AnalyticsExpertsResponse(watermark=result.watermark, nodes=result.nodes, edges=result.edges,
                                    experts=out[:k])


@router.get("/communities", response_model=CommunitiesResponse, responses=ERRORS,
            summary="Communities of practice with their members and dominant topics")
def communities(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    min_size: Annotated[int, Query(ge=1, le=1000, description="Leave out smaller communities.")] = 1,
) -> CommunitiesResponse:
    result = CollaborationAnalytics(state.graph, groups=principal.visible_groups()).result()
    return CommunitiesResponse(watermark=result.watermark, communities=[
        CommunityOut(id=c.id, size=len(c.members), members=c.members,
                     topics=[TopicShareOut(topic=t, share=s) for t, s in c.topics])
        for c in result.communities if len(c.members) >= min_size])
