"""FastAPI dependencies: how a route gets at the service state and at the caller."""

from __future__ import annotations

from fastapi import Request

from kcrm.api.state import ServiceState
from kcrm.security.access import SYSTEM, Principal


def get_state(request: Request) -> ServiceState:
    """The state built at start-up (see `kcrm.api.app.create_app`)."""
    return request.app.state.kcrm


def get_principal(request: Request) -> Principal:
    """The caller authenticated for this request (set by the authentication layer).

    Until a request has been authenticated this is `SYSTEM`; the authentication layer sets
    `request.state.principal` before any route runs.
    """
    return getattr(request.state, "principal", SYSTEM)
