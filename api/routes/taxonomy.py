"""GET /v1/taxonomy: browse the topic or product-category tree with item counts at every node.

Without `q` or filters the counts cover every searchable item; with them, the same match set
that `/v1/search?facets=true` counts. An item counts for its concept and every ancestor, and
`/v1/search?topic=<uid>` (or `category=`) drills down to a node, descendants included.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.search.filters import make_filter
from kcrm.search.taxonomy_browse import browse
from kcrm.security.access import Principal

DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
router = APIRouter(prefix="/v1", tags=["search"],
                   dependencies=[Depends(require_roles("agent", "expert", "analyst", "app"))])

Scheme = Literal["topics", "product-categories"]
ItemType = Literal["SupportCase", "Document", "Policy", "IndustryRule"]


class ConceptNode(BaseModel):
    uid: str = Field(examples=["topic-refund"])
    label_en: str = Field(examples=["Refund"])
    label_zh: str = Field(examples=["退款"])
    count: int = Field(examples=[42], description="Matching items filed under this concept or a descendant.")
    children: list[ConceptNode] = Field(default_factory=list)


class TaxonomyResponse(BaseModel):
    scheme: Scheme = Field(examples=["topics"])
    query: str = Field("", examples=["refund status:open"])
    total: int = Field(examples=[214], description="Items in the match set (all items without q or filters).")
    unclassified: int = Field(examples=[30], description="Items of the match set filed under no concept of the "
                              "scheme (policies, rules, items without a product).")
    took_ms: float = Field(examples=[3.2])
    filters: dict[str, object] = Field(default_factory=dict, examples=[{"status": ["open"]}])
    nodes: list[ConceptNode] = Field(examples=[[{"uid": "topic-billing", "label_en": "Billing and payments",
                                                 "label_zh": "账单与付款", "count": 60, "children": [
                                                     {"uid": "topic-refund", "label_en": "Refund",
                                                      "label_zh": "退款", "count": 42, "children": []}]}]])


@router.get(
    "/taxonomy", response_model=TaxonomyResponse, summary="Browse the taxonomy tree with counts",
    responses={400: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def taxonomy(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    scheme: Annotated[Scheme, Query(description="topics or product-categories.")] = "topics",
    q: Annotated[str, Query(max_length=1000, description="Optional query (filters allowed inside, as in /v1/search).",
                            examples=["退款"])] = "",
    mode: Annotated[Literal["hybrid", "lexical", "dense"], Query(description="How q is matched.")] = "hybrid",
    expand: Annotated[bool, Query(description="Expand q with taxonomy synonyms and translations.")] = True,
    type: Annotated[list[ItemType] | None, Query(description="Only these item types.")] = None,
    status: Annotated[list[str] | None, Query(description="Only these statuses.")] = None,
    priority: Annotated[list[str] | None, Query(description="Only these priorities.")] = None,
    language: Annotated[list[str] | None, Query(description="Only items in these languages.")] = None,
    product: Annotated[list[str] | None, Query(description="Only items about a product whose name contains this.")] = None,
    customer: Annotated[list[str] | None, Query(description="Only items of a customer whose name contains this.")] = None,
    topic: Annotated[list[str] | None, Query(description="Only this topic (uid or label) and its descendants.")] = None,
    category: Annotated[list[str] | None, Query(description="Only this product category and its descendants.")] = None,
    date_from: Annotated[str | None, Query(
        pattern=DATE_PATTERN, description="Items dated on or after (YYYY[-MM[-DD]]).")] = None,
    date_to: Annotated[str | None, Query(
        pattern=DATE_PATTERN, description="Items dated on or before (YYYY[-MM[-DD]]).")] = None,
) -> TaxonomyResponse:
    started = time.perf_counter()
    filters = make_filter({"type": type, "status": status, "priority": priority, "language": language,
                           "product": product, "customer": customer, "topic": topic, "category": category},
                          date_from=date_from, date_to=date_to)
    result = browse(state.require_search(), scheme, q, filters, mode=mode, expand=expand,
                    groups=principal.visible_groups())
    return TaxonomyResponse(
        scheme=scheme, query=q, total=result.total, unclassified=result.unclassified,
        took_ms=round((time.perf_counter() - started) * 1000, 2), filters=result.filters.as_dict(),
        nodes=[ConceptNode.model_validate(node.as_dict()) for node in result.nodes],
    )
