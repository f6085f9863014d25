"""GET /v1/admin/readiness: what the public /readyz leaves out, for an authenticated admin.

The Neo4j URI, the index's item and chunk counts and whether it is stale against the graph,
the key store's path and any exception text: useful to an operator, a map of the system to
anyone else (issue 13, finding 14).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_state
from kcrm.api.problems import Problem
from kcrm.api.routes.health import Readiness, answer, readiness
from kcrm.api.state import ServiceState

router = APIRouter(prefix="/v1/admin", tags=["health"], dependencies=[Depends(require_roles("admin"))])


@router.get(
    "/readiness", response_model=Readiness, response_model_exclude_none=True,
    summary="Readiness with details: Neo4j URI, index counts and staleness, key store",
    responses={503: {"model": Readiness, "description": "Not ready: a check failed"},
               401: {"model": Problem}, 403: {"model": Problem}},
)
def admin_readiness(state: Annotated[ServiceState, Depends(get_state)]) -> JSONResponse:
    return answer(state, readiness(state, detail=True))
