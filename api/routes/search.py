"""GET /v1/search: ranked hits over cases, documents, policies and industry rules.

`mode` picks hybrid (BM25 and dense fused, the default), lexical (BM25 only) or dense only.
Field filters come as parameters or inside `q` (`status:open product:"X200"`); they apply
before ranking, and `facets=true` adds counts over every item that matched after them.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kcrm.api.deps import get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.search.filters import make_filter

router = APIRouter(prefix="/v1", tags=["search"])

ItemType = Literal["SupportCase", "Document", "Policy", "IndustryRule"]
SearchMode = Literal["hybrid", "lexical", "dense"]


class SearchHit(BaseModel):
    uid: str = Field(examples=["CASE-000123"])
    type: str = Field(examples=["SupportCase"])
    title: str = Field(examples=["Refund not received for returned router"])
    snippet: str = Field(examples=["I returned the router on 3 May and still have not received my refund..."])
    score: float = Field(examples=[0.71], description="Orders one response: fused score in [0, 1] (hybrid), "
                         "BM25 (lexical) or cosine similarity of the best-matching chunk (dense).")
    language: str = Field(examples=["en"])
    meta: dict[str, Any] = Field(
        default_factory=dict, description="Graph facts: status, product, customer, who resolved it...",
        examples=[{"status": "resolved", "product": "NetLink AX3000 Router", "resolvedBy": "Li Na"}],
    )


class SearchResponse(BaseModel):
    query: str = Field(examples=["退款"])
    mode: SearchMode = Field("hybrid", examples=["hybrid"])
    count: int = Field(examples=[10], description="Hits in this response.")
    total: int = Field(0, examples=[214], description="Items that matched after filters (BM25 matches plus the "
                       "dense side's nearest candidates), or every filtered item when q holds only filters.")
    took_ms: float = Field(examples=[12.5])
    filters: dict[str, Any] = Field(default_factory=dict, description="The filters applied, from q and parameters.",
                                    examples=[{"status": ["open"], "date_from": "2024-01-01"}])
    facets: dict[str, dict[str, int]] | None = Field(
        None, description="With facets=true: per field, value -> items among the `total`; `month` is a histogram.",
        examples=[{"type": {"SupportCase": 180, "Document": 34}, "status": {"closed": 150, "pending": 30},
                   "month": {"2024-03": 12, "2024-04": 9}}],
    )
    hits: list[SearchHit]


def _values(description: str) -> Any:
    return Query(description=description)


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
    mode: Annotated[SearchMode, Query(description="hybrid (BM25 + dense fused), lexical or dense.")] = "hybrid",
    status: Annotated[list[str] | None, _values("Only these statuses (e.g. open, closed).")] = None,
    priority: Annotated[list[str] | None, _values("Only these priorities (low, medium, high, urgent).")] = None,
    language: Annotated[list[str] | None, _values("Only items in these languages (en, zh).")] = None,
    product: Annotated[list[str] | None, _values("Only items about a product whose name contains this.")] = None,
    customer: Annotated[list[str] | None, _values("Only items of a customer whose name contains this.")] = None,
    topic: Annotated[list[str] | None, _values("Only items on a topic whose name contains this.")] = None,
    date_from: Annotated[str | None, Query(description="Items dated on or after (YYYY, YYYY-MM or YYYY-MM-DD).",
                                           examples=["2024-01"])] = None,
    date_to: Annotated[str | None, Query(description="Items dated on or before (YYYY, YYYY-MM or YYYY-MM-DD).",
                                         examples=["2024-06-30"])] = None,
    facets: Annotated[bool, Query(description="Add facet counts over all matches.")] = False,
) -> SearchResponse:
    started = time.perf_counter()
    filters = make_filter({"status": status, "priority": priority, "language": language, "product": product,
                           "customer": customer, "topic": topic}, date_from=date_from, date_to=date_to)
    page = state.require_search().page(q, k=k, types=set(type) if type else None, mode=mode, filters=filters,
                                       facets=facets)
    took = (time.perf_counter() - started) * 1000
    return SearchResponse(
        query=q, mode=mode, count=len(page.hits), total=page.total, took_ms=round(took, 2),
        filters=page.filters.as_dict(), facets=page.facets,
        hits=[SearchHit(uid=h.uid, type=h.type, title=h.title, snippet=h.snippet, score=round(h.score, 4),
                        language=h.language, meta=h.meta) for h in page.hits],
    )
