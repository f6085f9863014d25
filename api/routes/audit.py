"""GET /v1/audit: who searched for what, who read which customer, who changed what (admin only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.foundation.errors import BadQuery
from kcrm.security.audit import AuditLog

router = APIRouter(prefix="/v1", tags=["audit"],
                   dependencies=[Depends(require_roles("admin"))])


class AuditEntryOut(BaseModel):
    id: int = Field(examples=[4012])
    at: str = Field(examples=["2026-11-23T16:40:12.345+00:00"])
    key_id: str = Field(examples=["3f9a1c0b7d2e"])
    principal: str = Field(examples=["helpdesk-frontend"], description="The key's name.")
    action: str = Field(examples=["customer.read"])
    target: str | None = Field(examples=["CUS-0176"], description="The customer, entity, job or query acted on.")
    method: str | None = Field(examples=["GET"])
    path: str | None = Field(examples=["/v1/customers/CUS-0176/360"])
    status: int | None = Field(examples=[200])
    detail: dict[str, Any] = Field(examples=[{"uid": "CUS-0176", "cases": "10"}])


class AuditResponse(BaseModel):
    count: int = Field(examples=[1])
    entries: list[AuditEntryOut]


@router.get("/audit", response_model=AuditResponse, summary="The audit log, newest first",
            responses={400: {"model": Problem}, 422: {"model": Problem}})
def read_audit(
    request: Request,
    state: Annotated[ServiceState, Depends(get_state)],
    principal: Annotated[str | None, Query(max_length=200, description="A key id or key name.")] = None,
    action: Annotated[str | None, Query(max_length=100, description="An action or its prefix, e.g. 'customer.'.",
                                        examples=["search"])] = None,
    target: Annotated[str | None, Query(max_length=200, description="Exactly this target (uid, job id, query).")] = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO 8601 date or date-time (UTC).",
                                       examples=["2026-11-23T00:00:00"])] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many entries.")] = 100,
) -> AuditResponse:
    if since is not None:
        try:
            when = datetime.fromisoformat(since.replace("Z", "+00:00"))
            since = (when.astimezone(UTC) if when.tzinfo else when).replace(tzinfo=None).isoformat()
        except ValueError as exc:
            raise BadQuery(f"since={since!r} is not an ISO 8601 date or date-time") from exc
        except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            raise BadQuery(f"since={since!r} is outside the years 1 to 9999 once moved to UTC") from exc
    writer = getattr(request.app.state, "audit_writer", None)
    if writer is not None:
        writer.flush(2.0)  # this process's own recent requests are in the answer
    entries = AuditLog(state.settings).query(principal=principal, action=action, since=since,
                                                         target=target, limit=limit)
    return AuditResponse(count=len(entries), entries=[AuditEntryOut(**e.__dict__) for e in entries])
