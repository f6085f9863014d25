"""The web page for support agents: static files shipped inside the package, served at `/`.

Plain HTML, CSS and JavaScript modules with no build step; the content security policy keeps
the page from loading anything that is not served by this API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Everything from this origin, nothing from anywhere else (no CDN, no inline script).
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff"}


class _StaticFiles(StaticFiles):
    """Static files revalidated on every load, so a new release is never half cached."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(_HEADERS)
        return response


def install_web(app: FastAPI) -> None:
    """Serve the page at `/` and its assets under `/static/`."""
    app.mount("/static", _StaticFiles(directory=STATIC_DIR), name="static")

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=_HEADERS)
