"""RFC 9457 problem details: the one place where errors become HTTP responses."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from kcrm.foundation.errors import GraphUnavailable, KcrmError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://kcrm.dev/problems/"


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(examples=[PROBLEM_BASE + "bad-query"])
    title: str = Field(examples=["Bad query"])
    status: int = Field(examples=[400])
    detail: str = Field(examples=["query must not be empty"])
    instance: str = Field(examples=["/v1/search"])
    errors: list[dict[str, Any]] | None = None


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def problem_response(request: Request, status: int, title: str, detail: str,
                     errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    """Build a problem+json response for `request`."""
    body = Problem(type=PROBLEM_BASE + _slug(title), title=title, status=status, detail=detail,
                   instance=request.url.path, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _retry_after(request: Request) -> str:
    """Seconds a client should wait before retrying a 503 (KCRM_API_RETRY_AFTER_S)."""
    state = getattr(request.app.state, "kcrm", None)
    return str(state.settings.api_retry_after_s) if state is not None else "5"


async def _kcrm_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KcrmError)
    headers = {"Retry-After": _retry_after(request)} if isinstance(exc, GraphUnavailable) or exc.status == 503 else None
    if exc.status >= 500:
        log.warning("request failed: %s %s: %s", request.method, request.url.path, exc)
    return problem_response(request, exc.status, exc.title, str(exc), headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"location": list(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors)
    return problem_response(request, 422, "Invalid request", detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed", 413: "Request too large",
             401: "Unauthenticated", 403: "Forbidden"}.get(exc.status_code, "HTTP error")
    return problem_response(request, exc.status_code, title, str(exc.detail),
                            headers=dict(exc.headers) if exc.headers else None)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(request, 500, "Internal error", "an unexpected error occurred; see the server log")


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error type to a problem details response."""
    app.add_exception_handler(KcrmError, _kcrm_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
