"""GET /v1/admin/subscriptions and DELETE /v1/admin/subscriptions/{id}: any principal's subscriptions.

Admin only (issue 13 finding 11): an operator can see which keys watch what and where their
webhooks point, and stop any of them, without the owner's key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from kcrm.alerts.admin import list_all, remove
from kcrm.api.auth import require_roles
from kcrm.api.deps import get_state
from kcrm.api.problems import Problem
from kcrm.api.routes.alerts import SubscriptionOut
from kcrm.api.state import ServiceState
from kcrm.foundation.errors import EntityNotFound

router = APIRouter(prefix="/v1/admin", tags=["alerts"], dependencies=[Depends(require_roles("admin"))])


class AdminSubscriptionOut(SubscriptionOut):
    owner: str
    owner_name: str


@router.get("/subscriptions", response_model=list[AdminSubscriptionOut], summary="Every principal's subscriptions",
            responses={403: {"model": Problem}, 503: {"model": Problem}})
def all_subscriptions(state: Annotated[ServiceState, Depends(get_state)],
                      owner: Annotated[str | None, Query(max_length=100, description="Only this key id's.")] = None,
                      ) -> list[AdminSubscriptionOut]:
    return [AdminSubscriptionOut(id=s.id, kind=s.kind, query=s.query, filters=s.filters,  # type: ignore[arg-type]
                                 entity=s.entity, webhook_url=s.webhook_url, created_at=s.created_at, owner=s.owner,
                                 owner_name=s.owner_name)
            for s in list_all(state.require_alerts(), owner)]


@router.delete("/subscriptions/{sub_id}", status_code=204, response_class=Response,
               summary="Remove any principal's subscription", responses={403: {"model": Problem}, 404: {"model": Problem}})
def remove_subscription(request: Request, state: Annotated[ServiceState, Depends(get_state)],
                        sub_id: Annotated[str, Path(min_length=1, max_length=100)]) -> Response:
    removed = remove(state.require_alerts(), sub_id)
    if removed is None:
        raise EntityNotFound(f"no subscription {sub_id!r}")
    request.state.audit = {"owner": removed.owner}
    return Response(status_code=204)
