"""GET /v1/entities/{uid} and GET /v1/paths: the graph explored without writing Cypher."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.kg.explore import MAX_HOPS, MAX_PATHS, Direction, entity, paths
from kcrm.kg.field_access import reads_mined
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["graph"],
                   dependencies=[Depends(require_roles("agent", "expert", "analyst", "app"))])
_ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": Problem}, 404: {"model": Problem},
                                            422: {"model": Problem}, 503: {"model": Problem}}


class NeighbourGroupOut(BaseModel):
    type: str = Field(examples=["HAS_SKILL"])
    direction: str = Field(examples=["out"], description="'out': this entity is the start of the relationship.")
    total: int = Field(examples=[3], description="All neighbours in this group, not only this page.")
    items: list[dict[str, Any]] = Field(
        examples=[[{"uid": "topic-refund", "labels": ["Topic"], "name": "Refund", "edge": {"level": 5}}]])


class EntityResponse(BaseModel):
    uid: str = Field(examples=["EMP-001"])
    labels: list[str] = Field(examples=[["Employee"]])
    properties: dict[str, Any] = Field(examples=[{"uid": "EMP-001", "name": "Sarah Mitchell", "team": "Billing"}])
    groups: list[NeighbourGroupOut]


class PathOut(BaseModel):
    length: int = Field(examples=[2])
    nodes: list[dict[str, Any]] = Field(
        examples=[[{"uid": "EMP-001", "labels": ["Employee"], "name": "Sarah Mitchell"},
                   {"uid": "CASE-000042", "labels": ["SupportCase"], "name": "Refund for cancelled order"},
                   {"uid": "CUS-0176", "labels": ["Customer"], "name": "Ashford Logistics plc"}]])
    relationships: list[dict[str, Any]] = Field(
        examples=[[{"type": "RESOLVED_BY", "start": "CASE-000042", "end": "EMP-001"},
                   {"type": "RAISED", "start": "CUS-0176", "end": "CASE-000042"}]])


class PathsResponse(BaseModel):
    source: str = Field(examples=["EMP-001"])
    target: str = Field(examples=["CUS-0176"])
    max_hops: int = Field(examples=[3])
    count: int = Field(examples=[1])
    paths: list[PathOut]


@router.get("/entities/{uid}", response_model=EntityResponse, responses=_ERRORS,
            summary="An entity with its neighbours grouped by relationship type and direction")
def get_entity(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    uid: Annotated[str, Path(min_length=1, max_length=200, examples=["EMP-001"])],
    type: Annotated[str | None, Query(max_length=64, description="Only this relationship type (from the ontology).",
                                      examples=["HAS_SKILL"])] = None,
    direction: Annotated[Direction | None, Query(description="Only outgoing or incoming relationships.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Neighbours per group on this page.")] = 20,
    offset: Annotated[int, Query(ge=0, description="Skip this many neighbours in each group.")] = 0,
) -> EntityResponse:
    view = entity(state.graph, uid, rel_type=type, direction=direction, limit=limit, offset=offset,
                  groups=principal.visible_groups(), mined=reads_mined(principal))
    return EntityResponse(**dataclasses.asdict(view))


@router.get("/paths", response_model=PathsResponse, responses=_ERRORS,
            summary="Shortest paths that explain how two entities are connected")
def get_paths(
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[Principal, Depends(get_principal)],
    source: Annotated[str, Query(alias="from", min_length=1, max_length=200, examples=["EMP-001"])],
    target: Annotated[str, Query(alias="to", min_length=1, max_length=200, examples=["CUS-0176"])],
    max_hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="Longest path considered.")] = 3,
    limit: Annotated[int, Query(ge=1, le=MAX_PATHS, description="At most this many paths.")] = 5,
) -> PathsResponse:
    found = paths(state.graph, source, target, max_hops=max_hops, limit=limit, groups=principal.visible_groups(),
                  mined=reads_mined(principal))
    return PathsResponse(source=source, target=target, max_hops=max_hops, count=len(found),
                         paths=[PathOut(length=p.length, nodes=p.nodes, relationships=p.relationships) for p in found])
