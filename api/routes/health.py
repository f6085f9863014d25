"""Liveness and readiness: /healthz says the process runs, /readyz says it can serve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kcrm import __version__
from kcrm.api.deps import get_state
from kcrm.api.state import ServiceState
from kcrm.foundation.errors import KcrmError
from kcrm.search.freshness import index_freshness

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str = Field(examples=[__version__])


class Check(BaseModel):
    ok: bool
    detail: str | None = Field(None, examples=["bolt://127.0.0.1:7687"], description=(
        "Only on the admin route (`GET /v1/admin/readiness`): what was checked and what failed."))
    stale: bool | None = Field(None, examples=[False], description=(
        "Index, admin route only: true when the graph changed (an ingest) since the index was built; "
        "the service still answers from the old index until `kcrm reindex`."))


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    checks: dict[str, Check] = Field(examples=[{"neo4j": {"ok": True}, "index": {"ok": True}, "auth": {"ok": True}}])


def _auth_check(state: ServiceState) -> Check:
    """The key and audit store must be readable, or every authenticated request would fail."""
    from kcrm.security.keys import KeyStore

    try:
        count = len(KeyStore(state.settings).list(include_revoked=False))
    except Exception as exc:  # any failure to read the store means not ready; say what it was
        return Check(ok=False, detail=f"key store (service state in Neo4j): {type(exc).__name__}")
    return Check(ok=True, detail=f"{count} active API keys")


def _opensearch_check(state: ServiceState) -> Check:
    """With the opensearch backend, its cluster must answer (and not be red) for search to work."""
    from kcrm.search.opensearch_client import cluster_health_of

    try:
        health = cluster_health_of(state.settings)
    except KcrmError as exc:
        return Check(ok=False, detail=str(exc))
    status = str(health.get("status"))
    return Check(ok=status != "red", detail=f"{state.settings.opensearch_endpoint}: {status}, "
                                            f"{health.get('number_of_nodes')} nodes")


def readiness(state: ServiceState, detail: bool) -> Readiness:
    """Ping Neo4j, look at the loaded index and the key store; with `detail`, say what and where.

    Why two forms (issue 13, finding 14): the public probe answers anyone, so it says only ok or
    not per check and costs one trivial graph query; the URI, paths, exception text, counts and
    the index's staleness (more graph queries) are for an authenticated admin.
    """
    graph_ok = state.graph.ping()
    search = state.current_search()
    checks = {
        "neo4j": Check(ok=graph_ok, detail=state.graph.uri if graph_ok else f"not reachable at {state.graph.uri}"),
        "index": Check(
            ok=search is not None,
            detail=f"{search.item_count} items, {search.chunk_count} chunks" if search else (state.index_error or "not loaded"),
        ),
        "auth": _auth_check(state),
    }
    if state.settings.search_backend.strip().lower() == "opensearch":
        checks["opensearch"] = _opensearch_check(state)
    if detail and graph_ok and search is not None:
        try:
            freshness = index_freshness(state.settings, state.graph)
        except KcrmError:  # the graph went away since the ping: staleness stays unknown (None)
            freshness = None
        if freshness is not None:
            checks["index"].stale = freshness.stale
            if freshness.stale:
                checks["index"].detail = f"{checks['index'].detail}; {freshness.describe()}"
    if not detail:
        checks = {name: Check(ok=check.ok) for name, check in checks.items()}
    ready = all(check.ok for check in checks.values())
    return Readiness(status="ready" if ready else "not ready", checks=checks)


def answer(state: ServiceState, body: Readiness) -> JSONResponse:
    """200 when every check passed, else 503 with Retry-After."""
    ready = body.status == "ready"
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if ready else 503,
                        headers=None if ready else {"Retry-After": str(state.settings.api_retry_after_s)})


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/readyz", response_model=Readiness, response_model_exclude_none=True,
    summary="Neo4j reachable, search index loaded, key store readable (ok or not; details for admins)",
    responses={503: {"model": Readiness, "description": "Not ready: a check failed"}},
)
def readyz(state: Annotated[ServiceState, Depends(get_state)]) -> JSONResponse:
    return answer(state, readiness(state, detail=False))
