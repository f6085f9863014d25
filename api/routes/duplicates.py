"""Possible duplicate customers: GET /v1/duplicates, and a person's decision on one (merge or dismiss).

Ingest merges customers by itself only when a strong key agrees and none conflicts; a pair that
merely looks alike (names, transliterations, company suffixes) waits here with its evidence. A
caller sees a pair only when it may see both customers; deciding needs the analyst or admin role.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.duplicates.service import dismiss_pair, merge_pair, visible_pairs
from kcrm.duplicates.store import DuplicateStore
from kcrm.foundation.config import Settings
from kcrm.ontology.model import load_ontology
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["duplicates"])
READERS = Depends(require_roles("agent", "expert", "analyst", "app"))
DECIDERS = Depends(require_roles("analyst"))
PAIR_ID = Path(pattern=r"^dup-[0-9a-f]{12}$", examples=["dup-3f2a9c1d0b7e"])


def _store(settings: Settings) -> DuplicateStore:
    return DuplicateStore(settings)


class CustomerSide(BaseModel):
    uid: str = Field(examples=["CUS-0042"])
    name: str | None = Field(None, examples=["Mary Wright"])
    email: str | None = None
    phone: str | None = None
    source: str | None = Field(None, examples=["sample"])
    exists: bool = Field(description="False once merged away (then read from the kept node's mergeLog).")


class DuplicateOut(BaseModel):
    id: str = Field(examples=["dup-3f2a9c1d0b7e"])
    existing: str = Field(examples=["CUS-0042"], description="The customer the graph had.")
    incoming: str = Field(examples=["TCK-C-1a2b3c4d5e6f7a8b"], description="The customer an ingest brought.")
    source: str = Field(examples=["tickets"])
    score: float = Field(examples=[90.9], description="Name similarity, 0-100.")
    evidence: dict[str, str] = Field(examples=[{"email": "different", "name": "90.9"}],
                                     description="Per strong key: same or different; and the name score.")
    status: Literal["open", "merged", "dismissed", "unmerged"]
    created_at: str
    decided_at: str | None = None
    decided_by: str | None = None
    customers: list[CustomerSide] = Field(description="existing, then incoming.")


class DuplicatesResponse(BaseModel):
    count: int
    duplicates: list[DuplicateOut]


class MergeOut(BaseModel):
    keep: str = Field(examples=["CUS-0042"])
    merged: str = Field(examples=["TCK-C-1a2b3c4d5e6f7a8b"])
    relationships: int = Field(description="Relationships moved onto the kept customer.")
    filled: list[str] = Field(description="Properties the kept customer lacked and took from the merged one.")


ERRORS: dict[int | str, dict[str, Any]] = {403: {"model": Problem}, 404: {"model": Problem},
                                           409: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}}


@router.get("/duplicates", response_model=DuplicatesResponse, summary="Possible duplicate customers",
            dependencies=[READERS], responses=ERRORS)
def list_duplicates(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    status: Annotated[Literal["open", "merged", "dismissed", "unmerged", "all"],
                      Query(description="Which pairs: open (undecided) by default.")] = "open",
    customer: Annotated[str | None, Query(min_length=1, max_length=200, description="Only pairs with this customer.",
                                          examples=["CUS-0042"])] = None,
) -> DuplicatesResponse:
    pairs = visible_pairs(state.graph, load_ontology(), _store(state.settings),
                          principal.visible_groups(), None if status == "all" else status, customer)
    return DuplicatesResponse(count=len(pairs), duplicates=[DuplicateOut(**p) for p in pairs])


@router.post("/duplicates/{pair_id}/merge", response_model=MergeOut, summary="Merge a possible duplicate",
             dependencies=[DECIDERS], responses=ERRORS)
def merge_duplicate(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    pair_id: Annotated[str, PAIR_ID],
) -> MergeOut:
    outcome = merge_pair(state.graph, load_ontology(), _store(state.settings), pair_id,
                         f"api:{principal.name}", principal.visible_groups())
    return MergeOut(**outcome.as_dict())


@router.post("/duplicates/{pair_id}/dismiss", response_model=DuplicateOut, summary="Dismiss a possible duplicate",
             dependencies=[DECIDERS], responses=ERRORS)
def dismiss_duplicate(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    pair_id: Annotated[str, PAIR_ID],
) -> DuplicateOut:
    groups = principal.visible_groups()
    store, ontology = _store(state.settings), load_ontology()
    found = dismiss_pair(state.graph, ontology, store, pair_id, f"api:{principal.name}", groups)
    [pair] = [p for p in visible_pairs(state.graph, ontology, store, groups, found.status, found.existing)
              if p["id"] == pair_id]
    return DuplicateOut(**pair)
