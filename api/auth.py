"""Authentication, role checks and the audit trail of every authenticated request.

Deny by default: every path needs an API key (`Authorization: Bearer <key>` or `X-API-Key`)
except the few in `PUBLIC_PATHS` / `PUBLIC_PREFIXES` (health, the OpenAPI pages, the web
page's static files), so a router added later is protected without anyone remembering to.
The middleware sets `request.state.principal` (read by `kcrm.api.deps.get_principal`) and,
once the response is sent, queues the request's audit entry (written in batches by
`kcrm.security.audit_writer.AuditWriter`, so no request waits on an audit write).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kcrm.api.deps import get_principal
from kcrm.api.problems import problem_response
from kcrm.foundation.config import Settings
from kcrm.foundation.errors import Forbidden, GraphUnavailable
from kcrm.security.access import Principal
from kcrm.security.audit import AuditLog, entry_row
from kcrm.security.audit_writer import AuditWriter
from kcrm.security.keys import KeyStore

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/", "/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
                          "/favicon.ico", "/index.html"})
PUBLIC_PREFIXES = ("/static/",)
AUTHENTICATE = 'Bearer realm="kcrm"'

# Audit action names by route; a route missing here is recorded under its function's name.
ACTIONS = {
    "/v1/search": "search",
    "/v1/experts": "experts.find",
    "/v1/customers/{uid}/360": "customer.read",
    "/v1/customers/{uid}/insights": "customer.insights",
    "/v1/entities/{uid}": "entity.read",
    "/v1/paths": "graph.paths",
    "/v1/cases/assist": "case.assist",
    "/v1/ingest": "ingest.start",
    "/v1/ingest/{job_id}": "ingest.status",
    "/v1/taxonomy": "taxonomy.browse",
    "/v1/analytics/experts": "analytics.experts",
    "/v1/analytics/communities": "analytics.communities",
    "/v1/analytics/knowledge-risk": "analytics.knowledge_risk",
    "/v1/employees/{uid}/departure-impact": "employee.departure_impact",
    "/v1/knowledge-map": "knowledge.map",
    "/v1/audit": "audit.read",
    "/v1/subscriptions": "alerts.subscriptions",
    "/v1/subscriptions/{sub_id}": "alerts.unsubscribe",
    "/v1/subscriptions/{sub_id}/deliveries": "alerts.deliveries",
    "/v1/alerts": "alerts.feed",
    "/v1/campaigns/{uid}/targets": "campaign.targets",
    "/v1/outcomes": "outcomes.read",
    "/v1/actions": "action.record",
    "/v1/admin/readiness": "admin.readiness",
}
TARGET_PARAMS = ("uid", "job_id", "q", "text")


def is_public(path: str) -> bool:
    """True for the paths anyone may fetch without a key."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def presented_key(headers: dict[str, str]) -> str | None:
    """The key a request carries, from `Authorization: Bearer` or `X-API-Key`."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key", "").strip() or None


BEARER = HTTPBearer(auto_error=False, scheme_name="bearerAuth", description="An API key from `kcrm keys create`.")
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKeyHeader",
                              description="The same key, in its own header.")


def require_roles(*roles: str) -> Callable[..., Principal]:
    """`Depends(require_roles("analyst"))`: 403 unless the caller holds a role listed (admin holds all).

    The key itself was checked by `AuthMiddleware`; the two security parameters only make OpenAPI
    show the schemes on the operation, with the roles as the requirement's list (OpenAPI 3.1).
    """
    scopes = list(roles)

    def check_roles(request: Request, _bearer: object = Security(BEARER, scopes=scopes),
                    _header: object = Security(API_KEY_HEADER, scopes=scopes)) -> Principal:
        principal = get_principal(request)
        if not principal.has_role(*roles):
            raise Forbidden(f"this endpoint needs one of the roles {scopes} (or admin); "
                            f"key {principal.key_id!r} has {sorted(principal.roles)}")
        return principal

    return check_roles


def _audit_fields(scope: Scope, request: Request, status: int, headers: dict[str, str]) -> dict[str, Any]:
    route = scope.get("route")
    template = getattr(route, "path", None)
    action = ACTIONS.get(template or "", getattr(route, "name", None) or f"{scope['method']} {scope['path']}")
    params: dict[str, Any] = {}
    for key in request.query_params.keys():
        values = request.query_params.getlist(key)
        params[key] = values if len(values) > 1 else values[0]
    params.update(scope.get("path_params") or {})
    params.update(scope.get("state", {}).get("audit") or {})
    if "location" in headers:
        params.setdefault("location", headers["location"])
        params.setdefault("job_id", headers["location"].rsplit("/", 1)[-1])
    target = next((str(params[name]) for name in TARGET_PARAMS if name in params), None)
    return {"action": action, "target": target, "detail": params, "method": scope["method"],
            "path": scope["path"], "status": status}


class AuthMiddleware:
    """Authenticate, set the principal, answer 401 as a problem, and audit what was done."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.keys = KeyStore(settings)
        self.audit = AuditWriter(AuditLog(settings), max_queue=settings.audit_queue_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            if "app" in scope:
                scope["app"].state.audit_writer = self.audit  # GET /v1/audit flushes it before reading
            await self.app(scope, receive, self._closing_audit(send))
            return
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        key = presented_key({k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]})
        try:
            principal = self.keys.authenticate(key) if key else None
        except GraphUnavailable as exc:
            log.warning("cannot check an API key: %s", exc)
            response = problem_response(request, 503, "Service Unavailable", f"cannot check the API key: {exc}",
                                        headers={"Retry-After": str(self.settings.api_retry_after_s)})
            await response(scope, receive, send)
            return
        if principal is None:
            detail = ("send an API key as 'Authorization: Bearer <key>' or 'X-API-Key' (create one with "
                      "`kcrm keys create`)" if key is None else "the API key is unknown, malformed or revoked")
            header = AUTHENTICATE if key is None else f'{AUTHENTICATE}, error="invalid_token"'
            log.info("unauthenticated request refused: %s %s", scope["method"], scope["path"])
            response = problem_response(request, 401, "Unauthenticated", detail, headers={"WWW-Authenticate": header})
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        sent: dict[str, Any] = {"status": 500, "headers": {}}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                sent["headers"] = {k.decode("latin-1").lower(): v.decode("latin-1")
                                   for k, v in message.get("headers", [])}
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            try:
                row = entry_row(principal, **_audit_fields(scope, request, sent["status"], sent["headers"]))
                if self.audit.counters.submitted - self.audit.counters.written < self.audit.batch:
                    self.audit.submit(row)  # room for certain: no wait, stay on the event loop
                else:
                    await anyio.to_thread.run_sync(self.audit.submit, row)
            except Exception:  # the answer is already sent; a broken audit must be loud, not fatal
                log.exception("could not queue the audit entry for %s %s", scope["method"], scope["path"])

    def _closing_audit(self, send: Send) -> Send:
        """Flush the audit queue when the server shuts down (after the app's own shutdown)."""

        async def send_then_close(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await anyio.to_thread.run_sync(self.audit.close)
            await send(message)

        return send_then_close
