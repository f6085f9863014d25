"""GET /v1/campaigns/{uid}/targets: who a campaign should go to, who it should skip, and why."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.kg.mining.campaign_graph import policy_from_settings, target_campaign
from kcrm.ontology.model import load_ontology
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["campaigns"], dependencies=[Depends(require_roles("analyst"))])


class CampaignInfo(BaseModel):
    uid: str = Field(examples=["CMP-0010"])
    name: str = Field(examples=["Printer supplies bundle, winter 2026"])
    promotion: str = Field(examples=["supplies-bundle"])
    launchedAt: str = Field(examples=["2026-11-16T09:00:00+00:00"])
    status: str | None = Field(examples=["planned"])


class PolicyInfo(BaseModel):
    recentDays: int = Field(examples=[90])
    minReceived: int = Field(examples=[3])
    lowResponseRate: float = Field(examples=[0.1])
    valuableTiers: list[str] = Field(examples=[["gold", "platinum"]])


class TargetItem(BaseModel):
    customer: str = Field(examples=["CUS-0042"])
    name: str = Field(examples=["Ashford Logistics plc"])
    tier: str | None = Field(examples=["platinum"], description="Mined value tier; null before `kcrm mine`.")
    decision: Literal["target", "review", "exclude"] = Field(examples=["review"])
    reason: str = Field(examples=["platinum customer who responded to 0 of 4 earlier campaigns: valuable but "
                                  "unresponsive to mass campaigns, flagged for a personal contact rather than dropped"])
    received: int = Field(examples=[4], description="Campaigns the customer was sent before this one's launch.")
    responded: int = Field(examples=[0])
    responseRate: float | None = Field(examples=[0.0])
    lastSamePromotion: str | None = Field(examples=["2026-08-24T13:00:00+00:00"])


class TargetsResponse(BaseModel):
    campaign: CampaignInfo
    policy: PolicyInfo
    counts: dict[str, int] = Field(examples=[{"target": 171, "review": 9, "exclude": 120}],
                                   description="Per decision, over every customer (before the filter and paging).")
    total: int = Field(description="Decisions matching the filter.")
    offset: int
    limit: int
    items: list[TargetItem]


@router.get(
    "/campaigns/{uid}/targets", response_model=TargetsResponse, summary="Campaign targets with reasons",
    responses={404: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def campaign_targets(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    uid: Annotated[str, Path(min_length=1, max_length=200, examples=["CMP-0010"])],
    decision: Annotated[Literal["target", "review", "exclude"] | None,
                        Query(description="Only decisions of this kind.")] = None,
    recent_days: Annotated[int | None, Query(ge=0, le=3650, description="Exclude customers sent the same "
                                             "promotion within this many days (default: the setting).")] = None,
    min_received: Annotated[int | None, Query(ge=1, le=1000)] = None,
    low_response_rate: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    valuable_tiers: Annotated[str | None, Query(max_length=100, examples=["platinum,gold"])] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TargetsResponse:
    """Decide, from the graph as it is now, which customers the campaign goes to; writes nothing.

    Customers sent the same promotion recently are excluded; valuable low responders are flagged
    for review rather than dropped; every decision carries its reason. `kcrm mine campaign UID`
    writes the same decisions into the graph as TARGETS edges. Only customers the caller may see
    are decided on and counted.
    """
    policy = policy_from_settings(state.settings, recent_days, min_received, low_response_rate, valuable_tiers)
    result = target_campaign(state.graph, load_ontology(), uid, policy, principal)
    chosen = [d for d in result.decisions if decision is None or d.decision == decision]
    return TargetsResponse(**result.summary(), total=len(chosen), offset=offset, limit=limit,
                           items=[TargetItem(**d.as_dict()) for d in chosen[offset:offset + limit]])
