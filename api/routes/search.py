"""GET /v1/search: ranked hits over cases, documents, policies and industry rules.

`mode` picks hybrid (BM25 and dense fused, the default), lexical (BM25 only) or dense only.
Field filters come as parameters or inside `q` (`status:open product:"X200"`); they apply
before ranking, and `facets=true` adds counts over every item that matched after them.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.kg.field_access import MINED_SEARCH_FIELDS, check_mined_filters, reads_mined, search_meta
from kcrm.search.entities import find_entities
from kcrm.search.facts import graph_facts
from kcrm.search.filters import make_filter, parse_query
from kcrm.security.access import Principal

DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
router = APIRouter(prefix="/v1", tags=["search"],
                   dependencies=[Depends(require_roles("agent", "expert", "analyst", "app"))])

ItemType = Literal["SupportCase", "Document", "Policy", "IndustryRule"]
SearchMode = Literal["hybrid", "lexical", "dense"]
SortOrder = Literal["relevance", "date"]


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
    facts: dict[str, Any] = Field(
        default_factory=dict, description="The graph facts worth showing: customer and its mined value tier and "
        "churn risk (those two for the analyst role only), product and category, who resolved or authored it, "
        "topic, status. A neighbour's facts appear only when everyone who may see the item may see the neighbour.",
        examples=[{"customer": "Ashford Logistics plc", "customerTier": "gold", "product": "NetLink AX3000 Router",
                   "resolvedBy": "Li Na"}])
    explain: dict[str, Any] | None = Field(
        None, description="With explain=true: BM25 score, rank and each matched term's contribution (query terms "
        "and expansion terms apart); dense cosine, rank and best chunk; fused score and rank (hybrid).",
        examples=[{"lexical": {"score": 7.1, "rank": 2, "matched_terms": {"refund": 3.2}, "expansion_terms": {},
                               "expansion_part": 0.0},
                   "dense": {"score": 0.61, "rank": 1, "chunk_id": "CASE-000123#0"},
                   "fused": {"score": 0.93, "rank": 1}}])


class EntityHitOut(BaseModel):
    uid: str = Field(examples=["CUS-0176"])
    type: str = Field(examples=["Customer"], description="Customer, Product or Employee.")
    name: str = Field(examples=["Ashford Logistics plc"])
    name_zh: str | None = Field(None, examples=[None])
    score: float = Field(examples=[0.8], description="1 exact name or alias, 0.8 prefix, 0.5 contained.")


class EntityGroup(BaseModel):
    counts: dict[str, int] = Field(examples=[{"Customer": 2, "Product": 0, "Employee": 1}],
                                   description="Entities of each type whose name or alias contains the query.")
    hits: list[EntityHitOut]


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
    expanded_terms: list[str] = Field(
        default_factory=list, description="Taxonomy synonyms and translations added to the lexical query "
        "(weighted below the query's own terms); empty with expand=false or when q names no concept.",
        examples=[["Refund", "money back", "reimbursement"]])
    expanded_concepts: list[str] = Field(default_factory=list, description="Taxonomy concepts q names.",
                                         examples=[["topic-refund"]])
    entities: EntityGroup | None = Field(None, description="With entities=true: customers, products and employees "
                                         "named like the query (name, Chinese name, SKU, e-mail), best first.")
    sort: SortOrder = Field("relevance", examples=["relevance"])
    did_you_mean: str | None = Field(None, description="The corrected query that was searched, when spelling "
                                     "corrections were applied (spellcheck=true).", examples=["refund policy"])
    corrections: list[dict[str, Any]] = Field(
        default_factory=list, description="Each corrected word: term, correction, edit distance, corpus frequency.",
        examples=[[{"term": "refnud", "correction": "refund", "distance": 1, "frequency": 412}]])
    explain: dict[str, Any] | None = Field(
        None, description="With explain=true: the text searched, its analysed terms, the filters, expansion and "
        "corrections applied, and the fusion method, weights and depth.")
    hits: list[SearchHit]


def _values(description: str) -> Any:
    return Query(description=description)


@router.get(
    "/search", response_model=SearchResponse, summary="Semantic search in English or Chinese",
    responses={400: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
)
def search(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
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
    topic: Annotated[list[str] | None, _values("Only items on this topic: a concept's uid or label includes its "
                                               "descendants; other text matches topic names by containment.")] = None,
    category: Annotated[list[str] | None, _values("Only items about a product of this category (uid or label, "
                                                  "descendants included; other text by containment).")] = None,
    tier: Annotated[list[str] | None, _values("Only cases of customers in this mined value tier "
                                              "(platinum, gold, silver, bronze; from `kcrm mine`; analyst role).")] = None,
    churn_risk: Annotated[list[str] | None, _values("Only cases of customers at this mined churn-risk level "
                                                    "(from `kcrm mine`; analyst role).")] = None,
    date_from: Annotated[str | None, Query(
        pattern=DATE_PATTERN, description="Items dated on or after (YYYY, YYYY-MM or YYYY-MM-DD).",
        examples=["2024-01"])] = None,
    date_to: Annotated[str | None, Query(
        pattern=DATE_PATTERN, description="Items dated on or before (YYYY, YYYY-MM or YYYY-MM-DD).",
        examples=["2024-06-30"])] = None,
    facets: Annotated[bool, Query(description="Add facet counts over all matches.")] = False,
    expand: Annotated[bool, Query(description="Add the taxonomy's synonyms and English/Chinese translations of "
                                              "concepts q names to the lexical query.")] = True,
    entities: Annotated[bool, Query(description="Add matching customers, products and employees "
                                                "from the graph as a separate group.")] = False,
    sort: Annotated[SortOrder, Query(description="relevance (default) or date: the matching items newest first.")]
    = "relevance",
    explain: Annotated[bool, Query(description="Say why each hit ranked where it did (scores, ranks, matched "
                                               "terms, fusion) and what was applied to the query.")] = False,
    spellcheck: Annotated[bool, Query(description="Correct words the index does not know to close, frequent ones "
                                                  "it does (see did_you_mean).")] = True,
) -> SearchResponse:
    started = time.perf_counter()
    filters = make_filter({"status": status, "priority": priority, "language": language, "product": product,
                           "customer": customer, "topic": topic, "category": category, "tier": tier,
                           "churn_risk": churn_risk}, date_from=date_from, date_to=date_to)
    check_mined_filters(principal, filters.merged(parse_query(q)[1]).fields)
    mined = reads_mined(principal)
    groups = principal.visible_groups()
    page = state.require_search().page(q, k=k, types=set(type) if type else None, mode=mode, filters=filters,
                                       facets=facets, expand=expand, sort=sort, explain=explain, spellcheck=spellcheck,
                                       groups=groups)
    group = None
    if entities:
        found = find_entities(state.graph, page.text, limit=k, groups=groups)
        group = EntityGroup(counts=found.counts, hits=[
            EntityHitOut(uid=h.uid, type=h.type, name=h.name, name_zh=h.name_zh, score=h.score) for h in found.hits])
    took = (time.perf_counter() - started) * 1000
    return SearchResponse(
        query=q, mode=mode, count=len(page.hits), total=page.total, took_ms=round(took, 2),
        filters=page.filters.as_dict(), facets=_facets(page.facets, mined),
        expanded_terms=list(page.expansion.labels) if page.expansion else [],
        expanded_concepts=list(page.expansion.concepts) if page.expansion else [],
        entities=group, sort=sort, did_you_mean=page.did_you_mean,
        corrections=[asdict(c) for c in page.corrections], explain=page.explain,
        hits=[SearchHit(uid=h.uid, type=h.type, title=h.title, snippet=h.snippet, score=round(h.score, 4),
                        language=h.language, meta=search_meta(h.meta, mined),
                        facts=graph_facts(search_meta(h.meta, mined)), explain=h.explain)
              for h in page.hits],
    )


def _facets(facets: dict[str, dict[str, int]] | None, mined: bool) -> dict[str, dict[str, int]] | None:
    """The facet counts the caller may read: the mined tier and churn facets only with the role."""
    if facets is None or mined:
        return facets
    return {name: counts for name, counts in facets.items() if name not in MINED_SEARCH_FIELDS}
