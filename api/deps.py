"""FastAPI dependencies: how a route gets at the service state."""

from __future__ import annotations

from fastapi import Request

from kcrm.api.state import ServiceState


def get_state(request: Request) -> ServiceState:
    """The state built at start-up (see `kcrm.api.app.create_app`)."""
    return request.app.state.kcrm
