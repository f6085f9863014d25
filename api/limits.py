"""Request limits from the settings, enforced before a route runs.

The routes declare fixed ceilings in their OpenAPI schema (e.g. `q` at most 1000 characters,
`k` at most 100); these settings can tighten them per deployment without touching a route, and
the body limit refuses an oversized upload from its Content-Length before a byte is read (or,
for a chunked upload, as soon as it passes the limit).
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kcrm.api.problems import problem_response
from kcrm.config import Settings

TEXT_PARAMS = ("q", "text", "query")
PAGE_PARAMS = ("k", "limit", "page_size")
HOPS_PARAMS = ("max_hops",)


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
    """413 for a body over KCRM_API_MAX_REQUEST_MB, 422 for a parameter over its configured limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.max_body = settings.api_max_request_mb * 1024 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        length = _int(request.headers.get("content-length", "0") or "0") or 0
        if length > self.max_body:
            response = problem_response(request, 413, "Request too large",
                                        f"the body has {length:,} bytes, over the limit of {self.max_body:,} "
                                        "(KCRM_API_MAX_REQUEST_MB)")
            await response(scope, receive, send)
            return
        errors = query_violations(list(request.query_params.multi_items()), self.settings)
        if errors:
            detail = "; ".join(f"{'.'.join(map(str, e['location']))}: {e['message']}" for e in errors)
            response = problem_response(request, 422, "Invalid request", detail, errors=errors)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise HTTPException(413, f"the body is over the limit of {self.max_body:,} bytes "
                                             "(KCRM_API_MAX_REQUEST_MB)")
            return message

        await self.app(scope, counted, send)
