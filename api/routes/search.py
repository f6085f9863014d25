"""GET /v1/search: ranked hits over cases, documents, policies and industry rules."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kcrm.api.deps import get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState

router = APIRouter(prefix="/v1", tags=["search"])

ItemType = Literal["SupportCase", "Document", "Policy", "IndustryRule"]


class SearchHit(BaseModel):
    uid: str = Field(examples=["CASE-000123"])
    type: str = Field(examples=["SupportCase"])
    title: str = Field(examples=["Refund not received for returned router"])
    snippet: str = Field(examples=["I returned the router on 3 May and still have not received my refund..."])
    score: float = Field(examples=[0.71], description="Cosine similarity of the best-matching chunk.")
    language: str = Field(examples=["en"])
    meta: dict[str, Any] = Field(
        default_factory=dict, description="Graph facts: status, product, customer, who resolved it...",
        examples=[{"status": "resolved", "product": "NetLink AX3000 Router", "resolvedBy": "Li Na"}],
    )


class SearchResponse(BaseModel):
    query: str = Field(examples=["退款"])
    count: int = Field(examples=[10])
    took_ms: float = Field(examples=[12.5])
    hits: list[SearchHit]


@router.get(
    "/search", response_model=SearchResponse, summary="Semantic search in English or Chinese",
    responses={400: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def search(
    state: Annotated[ServiceState, Depends(get_state)],
    q: Annotated[str, Query(min_length=1, max_length=1000, description="The query, English or Chinese.",
                            examples=["refund policy", "退款"])],
    k: Annotated[int, Query(ge=1, le=100, description="How many hits to return.")] = 10,
    type: Annotated[list[ItemType] | None, Query(description="Only these item types.")] = None,
) -> SearchResponse:
    started = time.perf_counter()
    hits = state.require_search().search(q, k=k, types=set(type) if type else None)
    took = (time.perf_counter() - started) * 1000
    return SearchResponse(
        query=q, count=len(hits), took_ms=round(took, 2),
        hits=[SearchHit(uid=h.uid, type=h.type, title=h.title, snippet=h.snippet, score=round(h.score, 4),
                        language=h.language, meta=h.meta) for h in hits],
    )
