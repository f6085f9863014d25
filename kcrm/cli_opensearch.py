"""`kcrm opensearch start|stop|status`: the bundled OpenSearch cluster behind the opensearch backend."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kcrm.foundation.config import Settings, get_settings
from kcrm.foundation.errors import KcrmError
from kcrm.foundation.logs import configure_logging

opensearch_app = typer.Typer(help="The bundled local OpenSearch cluster (search backend 'opensearch').",
                             no_args_is_help=True)


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _external(settings: Settings) -> None:
    """With OPENSEARCH_URL set: report that cluster's health, or fail naming the URL."""
    from kcrm.search.opensearch_client import cluster_health_of

    try:
        health = cluster_health_of(settings)
    except KcrmError as exc:
        _fail(exc)
    typer.echo(f"using external OpenSearch at {settings.opensearch_url}: {health['status']}, "
               f"{health['number_of_nodes']} nodes (starting nothing)")


@opensearch_app.command("start")
def opensearch_start(
    nodes: Annotated[Optional[int], typer.Option(min=1, max=9, help="Nodes to run (default KCRM_OPENSEARCH_NODES; "
                                                 "3 keep writes available when one dies).")] = None,
) -> None:
    """Install (first time, from Maven Central) and start the cluster on 127.0.0.1; wait for green."""
    from kcrm.search.opensearch_server import LocalOpenSearch

    settings = _settings()
    if not settings.local_opensearch:
        _external(settings)
        return
    try:
        status = LocalOpenSearch(settings).start(nodes=nodes)
    except KcrmError as exc:
        _fail(exc)
    running = [node for node in status.nodes if node.running]
    typer.echo(f"opensearch {status.health}: {len(running)} nodes at {status.url}, logs {running[0].log_path.parent}")
    for node in running:
        typer.echo(f"  {node.name}: pid {node.pid}, {node.http_url}, log {node.log_path}")


@opensearch_app.command("stop")
def opensearch_stop() -> None:
    """Stop every node of the bundled cluster."""
    from kcrm.search.opensearch_server import LocalOpenSearch

    try:
        LocalOpenSearch(_settings()).stop()
    except KcrmError as exc:
        _fail(exc)
    typer.echo("opensearch stopped")


@opensearch_app.command("status")
def opensearch_status() -> None:
    """Say which nodes run, the cluster's health and where the logs are; exit 1 when none runs."""
    from kcrm.search.opensearch_server import LocalOpenSearch

    settings = _settings()
    if not settings.local_opensearch:
        _external(settings)
        return
    status = LocalOpenSearch(settings).status()
    typer.echo(f"opensearch {'running' if status.running else 'stopped'}: health {status.health or 'unknown'}, "
               f"{status.url}, home {status.home}")
    for node in status.nodes:
        state = f"pid {node.pid}" if node.running else "stopped"
        typer.echo(f"  {node.name}: {state}, {node.http_url}, log {node.log_path}")
    if not status.running:
        raise typer.Exit(1)
