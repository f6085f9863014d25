"""Request limits from the settings, enforced before a route runs.

The routes declare fixed ceilings in their OpenAPI schema (e.g. `q` at most 1000 characters,
`k` at most 100); these settings can tighten them per deployment without touching a route, and
the body limit refuses an oversized upload from its Content-Length before a byte is read (or,
for a chunked upload, as soon as it passes the limit).

Body limits are per route (issue 13): every JSON route gets KCRM_API_MAX_BODY_KB, because FastAPI
reads a JSON body whole before the role check and before pydantic's length limits. Only the
routes in `LARGE_BODY_ROUTES` take up to KCRM_API_MAX_REQUEST_MB, and only from a principal that
holds the route's role: anyone else is answered 403 here, before a byte of the body is read.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kcrm.api.problems import problem_response
from kcrm.foundation.config import Settings
from kcrm.security.access import Principal

TEXT_PARAMS = ("q", "text", "query")
PAGE_PARAMS = ("k", "limit", "page_size")
HOPS_PARAMS = ("max_hops",)
# (method, path) -> roles allowed to send a large body (admin holds every role).
LARGE_BODY_ROUTES: dict[tuple[str, str], tuple[str, ...]] = {("POST", "/v1/ingest"): ("app",)}


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def query_violations(params: list[tuple[str, str]], settings: Settings) -> list[dict[str, object]]:
    """Each query parameter over a configured limit, as a problem's `errors` entries."""
    found: list[dict[str, object]] = []
    for name, value in params:
        if name in TEXT_PARAMS and len(value) > settings.api_max_query_chars:
            found.append({"location": ["query", name], "message":
                          f"{len(value)} characters, over the limit of {settings.api_max_query_chars} "
                          "(KCRM_API_MAX_QUERY_CHARS)"})
        elif name in PAGE_PARAMS and (n := _int(value)) is not None and n > settings.api_max_page_size:
            found.append({"location": ["query", name], "message":
                          f"{n} is over the page size limit of {settings.api_max_page_size} (KCRM_API_MAX_PAGE_SIZE)"})
        elif name in HOPS_PARAMS and (n := _int(value)) is not None and n > settings.api_max_hops:
            found.append({"location": ["query", name], "message":
                          f"{n} is over the traversal depth limit of {settings.api_max_hops} (KCRM_API_MAX_HOPS)"})
    return found


class LimitsMiddleware:
    """413 for a body over its route's limit, 422 for a parameter over its configured limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.max_large = settings.api_max_request_mb * 1024 * 1024
        self.max_small = settings.api_max_body_kb * 1024

    def _body_limit(self, scope: Scope) -> tuple[int, str, tuple[str, ...] | None]:
        """(byte limit, the setting that sets it, the roles a large body needs or None)."""
        roles = LARGE_BODY_ROUTES.get((scope["method"], scope["path"].rstrip("/") or "/"))
        if roles is None:
            return min(self.max_small, self.max_large), "KCRM_API_MAX_BODY_KB", None
        return self.max_large, "KCRM_API_MAX_REQUEST_MB", roles

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        max_body, setting, roles = self._body_limit(scope)
        principal = scope.get("state", {}).get("principal")
        if roles is not None and isinstance(principal, Principal) and not principal.has_role(*roles):
            response = problem_response(request, 403, "Forbidden",
                                        f"this endpoint needs one of the roles {list(roles)} (or admin); key "
                                        f"{principal.key_id!r} has {sorted(principal.roles)}")
            await response(scope, receive, send)
            return
        length = _int(request.headers.get("content-length", "0") or "0") or 0
        if length > max_body:
            response = problem_response(request, 413, "Request too large",
                                        f"the body has {length:,} bytes, over this route's limit of {max_body:,} "
                                        f"({setting})")
            await response(scope, receive, send)
            return
        errors = query_violations(list(request.query_params.multi_items()), self.settings)
        if errors:
            located = [(".".join(str(part) for part in e["location"]), e["message"])  # type: ignore[attr-defined]
                       for e in errors]
            detail = "; ".join(f"{where}: {message}" for where, message in located)
            response = problem_response(request, 422, "Invalid request", detail, errors=errors)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise HTTPException(413, f"the body is over this route's limit of {max_body:,} bytes ({setting})")
            return message

        await self.app(scope, counted, send)
