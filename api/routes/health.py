"""Liveness and readiness: /healthz says the process runs, /readyz says it can serve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kcrm import __version__
from kcrm.api.deps import get_state
from kcrm.api.state import ServiceState
from kcrm.errors import KcrmError
from kcrm.ingest.freshness import index_freshness

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str = Field(examples=[__version__])


class Check(BaseModel):
    ok: bool
    detail: str = Field(examples=["bolt://127.0.0.1:7687"])
    stale: bool | None = Field(None, examples=[False], description=(
        "Index only: true when the graph changed (an ingest) since the index was built; "
        "the service still answers from the old index until `kcrm reindex`."))


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    checks: dict[str, Check]


def _auth_check(state: ServiceState) -> Check:
    """The key and audit store must be readable, or every authenticated request would fail."""
    from kcrm.keys import KeyStore

    try:
        count = len(KeyStore(state.settings).list(include_revoked=False))
    except Exception as exc:  # any failure to read the store means not ready; say what it was
        return Check(ok=False, detail=f"key store (service state in Neo4j): {type(exc).__name__}")
    return Check(ok=True, detail=f"{count} active API keys")


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/readyz", response_model=Readiness, summary="Neo4j reachable and search index loaded",
    responses={503: {"model": Readiness, "description": "Not ready: a check failed"}},
)
def readyz(state: Annotated[ServiceState, Depends(get_state)]) -> JSONResponse:
    graph_ok = state.graph.ping()
    search = state.current_search()
    checks = {
        "neo4j": Check(ok=graph_ok, detail=state.graph.uri if graph_ok else f"not reachable at {state.graph.uri}"),
        "index": Check(
            ok=search is not None,
            detail=f"{search.item_count} items, {search.chunk_count} chunks" if search else (state.index_error or "not loaded"),
        ),
    }
    checks["auth"] = _auth_check(state)
    if graph_ok and search is not None:
        try:
            freshness = index_freshness(state.settings, state.graph)
        except KcrmError:  # the graph went away since the ping: staleness stays unknown (None)
            freshness = None
        if freshness is not None:
            checks["index"].stale = freshness.stale
            if freshness.stale:
                checks["index"].detail += f"; {freshness.describe()}"
    ready = all(check.ok for check in checks.values())
    body = Readiness(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503,
                        headers=None if ready else {"Retry-After": str(state.settings.api_retry_after_s)})
