"""Subscriptions and the alerts feed: saved searches, entity watches, mined warnings, webhooks.

POST /v1/subscriptions saves a query (with filters, as on /v1/search), an entity to watch or a
watch on mined warnings, for the calling principal and with its access groups; newly ingested
matching items and newly raised churn or deviation warnings become notifications in
GET /v1/alerts and, with a `webhook_url`, a POST of JSON retried with exponential backoff.
A caller sees and deletes only its own subscriptions; the feed shows only what it may see now.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, HttpUrl, model_validator

from kcrm.alerts.matching import split_query
from kcrm.alerts.notify import WARNINGS_MARK, subscription_filter
from kcrm.alerts.store import Subscription
from kcrm.alerts.targets import AllowList, check_url
from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.foundation.errors import EntityNotFound, Forbidden, LimitReached
from kcrm.kg.explore import entity as find_entity
from kcrm.kg.field_access import MINED_ALERT_KINDS, MINED_ROLES, check_mined_filters, reads_mined
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["alerts"],
                   dependencies=[Depends(require_roles("agent", "expert", "analyst", "app"))])
ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": Problem}, 404: {"model": Problem}, 409: {"model": Problem},
                                           422: {"model": Problem}, 503: {"model": Problem}}
ItemType = Literal["SupportCase", "Document", "Policy", "IndustryRule"]


class Filters(BaseModel):
    type: list[ItemType] | None = None
    status: list[str] | None = Field(None, examples=[["open"]])
    priority: list[str] | None = None
    language: list[str] | None = None
    product: list[str] | None = Field(None, examples=[["X200"]])
    customer: list[str] | None = None
    topic: list[str] | None = Field(None, examples=[["topic-refund"]])
    category: list[str] | None = None
    date_from: str | None = Field(None, examples=["2026-01"])
    date_to: str | None = None


class SubscriptionIn(BaseModel):
    query: str | None = Field(None, max_length=1000, description="Words and `field:value` filters, as on "
                              "/v1/search; an item matches when it passes the filters and contains every word.",
                              examples=["printer driver status:open"])
    filters: Filters | None = Field(None, description="More filters, as the parameters of /v1/search.")
    entity: str | None = Field(None, min_length=1, max_length=200, description="Watch an entity: new items "
                               "linked to it (cases, orders, documents) and, for a customer, its mined warnings "
                               "(those only for a key with the analyst role).",
                               examples=["CUS-0176"])
    warnings: bool = Field(False, description="Watch mined warnings (churn, deviations; analyst role) of every customer "
                           "the caller may see.")
    webhook_url: HttpUrl | None = Field(None, description="POST each notification here as JSON (retried with "
                                        "exponential backoff).", examples=["https://hooks.example.com/kcrm"])

    @model_validator(mode="after")
    def one_kind(self) -> SubscriptionIn:
        kinds = [bool((self.query and self.query.strip()) or self.filters), bool(self.entity), self.warnings]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of: query (and/or filters), entity, warnings=true")
        if self.webhook_url is not None and self.webhook_url.scheme not in ("http", "https"):
            raise ValueError("webhook_url must be http or https")
        return self


class SubscriptionOut(BaseModel):
    id: str = Field(examples=["sub-3f2a9c1d0b7e"])
    kind: Literal["query", "entity", "warnings"]
    query: str | None = None
    filters: dict[str, Any] = Field(default_factory=dict)
    entity: str | None = None
    webhook_url: str | None = None
    created_at: str = Field(examples=["2026-11-23T17:02:11.531000+00:00"])


class NotificationOut(BaseModel):
    id: int = Field(examples=[42])
    subscription_id: str = Field(examples=["sub-3f2a9c1d0b7e"])
    kind: str = Field(examples=["new_item"], description="new_item, churn_warning or deviation.")
    item_uid: str = Field(examples=["CASE-003001"])
    item_type: str = Field(examples=["SupportCase"])
    title: str
    summary: str = Field(description="A snippet of the new item, or the warning's reason.")
    created_at: str
    delivery_status: str | None = Field(None, description="pending, delivered or failed; null without a webhook.")
    delivery_attempts: int | None = None


class AlertsResponse(BaseModel):
    count: int
    notifications: list[NotificationOut]


class DeliveryAttemptOut(BaseModel):
    attempt: int
    at: str
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryOut(BaseModel):
    id: int
    notification_id: int
    item_uid: str
    kind: str
    url: str
    status: str = Field(examples=["delivered"])
    attempts: int
    next_attempt_at: str
    last_error: str | None
    delivered_at: str | None
    attempt_log: list[DeliveryAttemptOut]


def _out(sub: Subscription) -> SubscriptionOut:
    return SubscriptionOut(id=sub.id, kind=sub.kind, query=sub.query, filters=sub.filters, entity=sub.entity,  # type: ignore[arg-type]
                           webhook_url=sub.webhook_url, created_at=sub.created_at)


@router.post("/subscriptions", response_model=SubscriptionOut, status_code=201, responses=ERRORS,
             summary="Subscribe to a query, an entity or mined warnings")
def subscribe(state: Annotated[ServiceState, Depends(get_state)],
              principal: Annotated[Principal, Depends(get_principal)], body: SubscriptionIn) -> SubscriptionOut:
    store = state.require_alerts()
    settings = state.settings
    held = len(store.subscriptions(owner=principal.key_id))
    if held >= settings.alerts_max_subscriptions:
        raise LimitReached(f"key {principal.key_id!r} already holds {held} subscriptions, the most one key may hold "
                           f"(KCRM_ALERTS_MAX_SUBSCRIPTIONS={settings.alerts_max_subscriptions}); delete one first")
    if body.webhook_url is not None:  # loopback, private, link-local and metadata targets are refused (422)
        check_url(str(body.webhook_url), AllowList.parse(settings.alerts_webhook_allow_hosts))
    groups = principal.visible_groups()
    filters = body.filters.model_dump(exclude_none=True) if body.filters else {}
    kind = "entity" if body.entity else "warnings" if body.warnings else "query"
    mined = reads_mined(principal)
    if kind == "warnings" and not mined:
        raise Forbidden(f"watching mined warnings needs one of the roles {', '.join(MINED_ROLES)} (or admin); "
                        f"this key has {', '.join(sorted(principal.roles)) or 'none'}")
    if kind == "entity" and mined:
        filters = {WARNINGS_MARK: True}
    sub = Subscription(id="", owner=principal.key_id, owner_name=principal.name, groups=groups, kind=kind,
                       query=(body.query or "").strip() or None, filters=filters, entity=body.entity,
                       webhook_url=str(body.webhook_url) if body.webhook_url else None)
    if kind == "query":
        check_mined_filters(principal, split_query(sub.query or "", subscription_filter(sub))[1].fields)
    if kind == "entity":
        find_entity(state.graph, body.entity or "", limit=1, groups=groups)  # 404 if absent or not visible
    return _out(store.add_subscription(sub))


@router.get("/subscriptions", response_model=list[SubscriptionOut], responses=ERRORS,
            summary="The caller's subscriptions")
def list_subscriptions(state: Annotated[ServiceState, Depends(get_state)],
                       principal: Annotated[Principal, Depends(get_principal)]) -> list[SubscriptionOut]:
    return [_out(s) for s in state.require_alerts().subscriptions(owner=principal.key_id)]


@router.delete("/subscriptions/{sub_id}", status_code=204, responses=ERRORS, summary="Unsubscribe",
               response_class=Response)
def unsubscribe(state: Annotated[ServiceState, Depends(get_state)],
                principal: Annotated[Principal, Depends(get_principal)],
                sub_id: Annotated[str, Path(min_length=1, max_length=100)]) -> Response:
    if not state.require_alerts().delete_subscription(sub_id, principal.key_id):
        raise EntityNotFound(f"no subscription {sub_id!r} of yours")
    return Response(status_code=204)


@router.get("/subscriptions/{sub_id}/deliveries", response_model=list[DeliveryOut], responses=ERRORS,
            summary="The webhook delivery log of one of the caller's subscriptions")
def deliveries(state: Annotated[ServiceState, Depends(get_state)],
               principal: Annotated[Principal, Depends(get_principal)],
               sub_id: Annotated[str, Path(min_length=1, max_length=100)]) -> list[DeliveryOut]:
    store = state.require_alerts()
    if store.subscription(sub_id, principal.key_id) is None:
        raise EntityNotFound(f"no subscription {sub_id!r} of yours")
    return [DeliveryOut.model_validate(d) for d in store.delivery_log(sub_id, principal.key_id)]


@router.get("/alerts", response_model=AlertsResponse, responses=ERRORS, summary="The caller's notification feed")
def alerts(state: Annotated[ServiceState, Depends(get_state)],
           principal: Annotated[Principal, Depends(get_principal)],
           after_id: Annotated[int, Query(ge=0, le=2**63 - 1,  # past this SQLite overflows: 422, not 500
                                          description="Only notifications with a larger id.")] = 0,
           limit: Annotated[int, Query(ge=1, le=200, description="At most this many, newest first.")] = 50,
           subscription: Annotated[str | None, Query(max_length=100, description="Only this subscription's.")] = None,
           ) -> AlertsResponse:
    rows = state.require_alerts().notifications(principal.key_id, after_id=after_id, limit=limit,
                                                subscription_id=subscription)
    mined = reads_mined(principal)  # a key whose analyst role was taken away reads no warning made before
    visible = [NotificationOut.model_validate(r) for r in rows if principal.can_see(r["groups"])
               and (mined or r["kind"] not in MINED_ALERT_KINDS)]
    return AlertsResponse(count=len(visible), notifications=visible)


