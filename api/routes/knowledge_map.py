"""GET /v1/knowledge-map: each taxonomy topic, where its knowledge sits, and its gaps.

For everyone who searches (agents, experts, analysts, apps): finding where knowledge sits is
what the map is for. Trimmed by the caller's access groups (`kcrm.kg.knowledge_map`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.kg.knowledge_map import ACTIVE_DAYS, MIN_CASES, MapNode, read_map
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["knowledge"],
                   dependencies=[Depends(require_roles("agent", "expert", "analyst", "app"))])


class MapDocumentOut(BaseModel):
    uid: str = Field(examples=["DOC-0042"])
    title: str = Field(examples=["How to request a refund"])
    type: str = Field(examples=["kb-article"])
    published: str | None = Field(examples=["2025-06-01"])
    age_days: int | None = Field(examples=[550], description="Days between publication and `as_of`.")


class MapPersonOut(BaseModel):
    uid: str = Field(examples=["EMP-001"])
    name: str = Field(examples=["Sarah Mitchell"])
    items: int = Field(examples=[61], description="Resolved cases and documents on the topic.")
    latest: str | None = Field(examples=["2026-10-30"], description="Date of the newest of them.")
    active: bool = Field(examples=[True], description="Newest evidence within `active_days` of `as_of`.")


class OutdatedOut(BaseModel):
    uid: str = Field(examples=["DOC-0017"])
    title: str = Field(examples=["Installing the driver"])
    published: str = Field(examples=["2023-05-02"])
    product: str = Field(examples=["PRD-0012"])
    release: str = Field(examples=["DOC-0140"], description="The product's newest release notes.")
    released: str = Field(examples=["2025-11-20"])


class MapNodeOut(BaseModel):
    uid: str = Field(examples=["topic-refund"])
    label_en: str = Field(examples=["Refund"])
    label_zh: str = Field(examples=["退款"])
    documents: int = Field(examples=[4], description="Documents filed under the topic or a narrower one.")
    newest_document: str | None = Field(examples=["2026-02-11"])
    oldest_document: str | None = Field(examples=["2023-04-02"])
    newest_document_age_days: int | None = Field(examples=[295])
    resolved_cases: int = Field(examples=[285])
    latest_case: str | None = Field(examples=["2026-10-31"])
    people: int = Field(examples=[9], description="People with evidence (cases resolved, documents written).")
    active_people: int = Field(examples=[8])
    gaps: list[str] = Field(examples=[["outdated_documents"]],
                            description="cases_without_documents, outdated_documents, no_active_expert.")
    document_list: list[MapDocumentOut] = Field(description="Newest first, capped.")
    experts: list[MapPersonOut] = Field(description="Most evidence first, capped.")
    outdated: list[OutdatedOut] = Field(description="Documents older than their product's newest release, capped.")
    children: list[MapNodeOut] = Field(default_factory=list)


class KnowledgeMapResponse(BaseModel):
    as_of: str = Field(examples=["2026-12-03"])
    active_days: int = Field(examples=[ACTIVE_DAYS])
    min_cases: int = Field(examples=[MIN_CASES])
    topics: int = Field(examples=[40], description="Topics in the returned tree.")
    gap_counts: dict[str, int] = Field(examples=[{"cases_without_documents": 0, "outdated_documents": 25,
                                                  "no_active_expert": 0}],
                                       description="Topics of the tree showing each gap.")
    roots: list[MapNodeOut]


def node_out(node: MapNode) -> MapNodeOut:
    data = {k: v for k, v in vars(node).items() if k != "children"}
    return MapNodeOut(**data, children=[node_out(c) for c in node.children])


@router.get("/knowledge-map", response_model=KnowledgeMapResponse,
            responses={404: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
            summary="Topics of the taxonomy × documents, resolved cases and people, with gaps flagged")
def knowledge_map(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    root: Annotated[str | None, Query(max_length=200, description="A Topic uid; the whole taxonomy when absent.",
                                      examples=["topic-billing"])] = None,
    as_of: Annotated[date | None, Query(ge=date(1900, 1, 1), description="Ages and activity are measured at this "
                                                                         "date (default today, UTC).")] = None,
    active_days: Annotated[int, Query(ge=1, le=3650, description="An expert is active with evidence this "
                                                                 "recent.")] = ACTIVE_DAYS,
    min_cases: Annotated[int, Query(ge=1, le=10000, description="Resolved cases that make a topic with no "
                                                                "document a gap.")] = MIN_CASES,
) -> KnowledgeMapResponse:
    found = read_map(state.graph, principal.visible_groups(), as_of or datetime.now(UTC).date(), root=root,
                     active_days=active_days, min_cases=min_cases)
    return KnowledgeMapResponse(as_of=found.as_of, active_days=found.active_days, min_cases=found.min_cases,
                                topics=found.topics, gap_counts=found.gap_counts,
                                roots=[node_out(r) for r in found.roots])
