"""GET /v1/customers/{uid}/insights: what `kcrm mine` learned about one customer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.kg.mining.insights import read_insights
from kcrm.ontology.model import load_ontology
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["customers"],
                   dependencies=[Depends(require_roles("analyst"))])


class ValueInsight(BaseModel):
    recencyDays: int = Field(examples=[12], description="Days between the last order and the mining's as-of time.")
    orderCount: int = Field(examples=[48])
    monetaryValue: float = Field(examples=[412803.5])
    monetaryBasis: str = Field(examples=["list price (USD)"])
    recencyScore: int = Field(ge=1, le=5, examples=[5])
    frequencyScore: int = Field(ge=1, le=5, examples=[5])
    monetaryScore: int = Field(ge=1, le=5, examples=[5])
    rfmScore: int = Field(ge=3, le=15, examples=[15])
    valueTier: str = Field(examples=["platinum"], description="platinum, gold, silver or bronze.")
    loyal: bool = Field(examples=[True])


class ChurnInsight(BaseModel):
    risk: float | None = Field(examples=[0.82], description="Model probability of no order in the coming period.")
    level: str = Field(examples=["high"], description="high, medium or low.")
    warning: bool = Field(examples=[True], description="The rules (inactivity beyond cadence, falling orders) fired.")
    reason: str = Field(examples=["no order for 264 days, 14.3x their usual interval of 18 days"])


class DeviationInsight(BaseModel):
    flagged: bool = Field(examples=[True])
    reason: str | None = Field(examples=["6 support cases in the last 90 days against about 1.4 per 90 days before"])


class RecommendationInsight(BaseModel):
    product: str = Field(examples=["PRD-0014"])
    name: str = Field(examples=["Skylark DS-200 Document Scanner"])
    score: float = Field(examples=[0.64])
    confidence: float = Field(examples=[0.64])
    lift: float = Field(examples=[1.92])
    support: float = Field(examples=[0.053])
    reason: str = Field(examples=["64% of customers who bought A, B also bought C (lift 1.92)"])


class SegmentInsight(BaseModel):
    uid: str = Field(examples=["SEG-MINED-1"])
    name: str = Field(examples=["Broad range, frequent buyers"])
    nameZh: str | None = Field(default=None, examples=["品类广泛、高频购买"])
    description: str | None = Field(default=None)
    descriptionZh: str | None = Field(default=None)
    memberCount: int | None = Field(default=None, examples=[56])


class InsightsResponse(BaseModel):
    uid: str = Field(examples=["CUS-0176"])
    name: str = Field(examples=["Ashford Logistics plc"])
    source: str | None = Field(examples=["kcrm.mine"], description="null until `kcrm mine` has covered the customer.")
    computedAt: str | None = Field(examples=["2026-11-23T14:02:11.531Z"])
    value: ValueInsight | None = None
    churn: ChurnInsight | None = None
    deviation: DeviationInsight | None = None
    recommendations: list[RecommendationInsight] = Field(default_factory=list)
    segments: list[SegmentInsight] = Field(default_factory=list)


def _value(props: dict[str, Any]) -> ValueInsight | None:
    if props.get("valueTier") is None:
        return None
    return ValueInsight(**{key: props[key] for key in ValueInsight.model_fields})


def _churn(props: dict[str, Any]) -> ChurnInsight | None:
    if props.get("churnRiskLevel") is None:
        return None
    return ChurnInsight(risk=props.get("churnRisk"), level=props["churnRiskLevel"],
                        warning=bool(props.get("churnWarning")), reason=props.get("churnReason") or "")


def _deviation(props: dict[str, Any]) -> DeviationInsight | None:
    if props.get("deviationFlagged") is None:
        return None
    return DeviationInsight(flagged=props["deviationFlagged"], reason=props.get("deviationReason"))


@router.get(
    "/customers/{uid}/insights", response_model=InsightsResponse, summary="Mined customer intelligence",
    responses={404: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def customer_insights(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    uid: Annotated[str, Path(min_length=1, max_length=200, examples=["CUS-0176"])],
) -> InsightsResponse:
    """Value tier and RFM, churn risk and deviations with reasons, cross-sell recommendations, mined segments."""
    found = read_insights(state.graph, load_ontology(), uid, groups=principal.visible_groups())
    return InsightsResponse(
        uid=found.uid, name=found.name, source=found.computed_by, computedAt=found.computed_at,
        value=_value(found.properties), churn=_churn(found.properties), deviation=_deviation(found.properties),
        recommendations=[RecommendationInsight(**r) for r in found.recommendations],
        segments=[SegmentInsight(**s) for s in found.segments],
    )
