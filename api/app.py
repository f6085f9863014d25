"""The FastAPI application: thin routes over the library, problems for every error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kcrm import __version__
from kcrm.api.auth import AuthMiddleware
from kcrm.api.limits import LimitsMiddleware
from kcrm.api.openapi import install_openapi
from kcrm.api.problems import install_problem_handlers
from kcrm.api.routes import (
    admin_subscriptions,
    alerts,
    analytics,
    assist,
    audit,
    campaigns,
    customers,
    duplicates,
    entities,
    experts,
    health,
    ingest,
    insights,
    knowledge_map,
    knowledge_risk,
    outcomes,
    privacy,
    readiness,
    search,
    taxonomy,
)
from kcrm.api.state import build_state
from kcrm.api.web import install_web
from kcrm.foundation.config import Settings, get_settings

DESCRIPTION = """
kcrm answers support agents, employees and other applications from one customer knowledge
graph (Neo4j) and one search index. Errors are RFC 9457 problem details
(`application/problem+json`).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; state (graph driver, index) is created when the server starts."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings)
        app.state.kcrm = state
        jobs = ingest.start_jobs(app.state, state)  # claims queued jobs, and those of a process that died
        try:
            yield
        finally:  # SIGTERM: stop taking work, finish or release what is held, within a bounded time
            jobs.shutdown()
            if state.alert_dispatcher is not None:
                state.alert_dispatcher.stop()
            state.graph.close()

    app = FastAPI(title="kcrm", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(search.router)
    app.include_router(insights.router)
    app.include_router(ingest.router)
    app.include_router(analytics.router)
    app.include_router(taxonomy.router)
    app.include_router(alerts.router)
    app.include_router(campaigns.router)
    app.include_router(readiness.router)
    app.include_router(duplicates.router)
    app.include_router(knowledge_risk.router)
    app.include_router(knowledge_map.router)
    app.include_router(outcomes.router)
    for module in (experts, customers, entities, assist):
        app.include_router(module.router)
    install_web(app)
    app.include_router(audit.router)
    app.include_router(admin_subscriptions.router)
    app.include_router(privacy.router)
    app.add_middleware(LimitsMiddleware, settings=settings)  # inside auth: a refused request is audited
    app.add_middleware(AuthMiddleware, settings=settings)
    install_openapi(app)
    return app
