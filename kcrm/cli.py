"""The `kcrm` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from kcrm.config import Settings, get_settings
from kcrm.errors import KcrmError
from kcrm.logs import configure_logging

app = typer.Typer(help="kcrm: customer knowledge graph and search.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
neo4j_app = typer.Typer(help="The bundled local Neo4j server.", no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@neo4j_app.command("start")
def neo4j_start() -> None:
    """Install (first time) and start Neo4j on 127.0.0.1; wait until Bolt answers."""
    from kcrm.kg.server import LocalNeo4j

    settings = _settings()
    if not settings.local_neo4j:
        typer.echo(f"NEO4J_URI is set ({settings.neo4j_uri}): using that server, starting nothing.")
        return
    try:
        status = LocalNeo4j(settings).start()
    except KcrmError as exc:
        _fail(exc)
    typer.echo(f"neo4j running: pid {status.pid}, {status.bolt_uri}, log {status.log_path}")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the bundled Neo4j server."""
    from kcrm.kg.server import LocalNeo4j

    try:
        LocalNeo4j(_settings()).stop()
    except KcrmError as exc:
        _fail(exc)
    typer.echo("neo4j stopped")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the bundled server runs, where, and where its log is."""
    from kcrm.kg.server import LocalNeo4j

    settings = _settings()
    if not settings.local_neo4j:
        typer.echo(f"using external Neo4j at {settings.neo4j_uri}")
        return
    status = LocalNeo4j(settings).status()
    state = "running" if status.running else "stopped"
    typer.echo(f"neo4j {state}: pid {status.pid}, {status.bolt_uri}, home {status.home}, log {status.log_path}")
    if not status.running:
        raise typer.Exit(1)


@app.command("sample")
def sample(
    out: Annotated[Optional[Path], typer.Option(help="Directory to write (default: DATA_DIR/sample).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")] = 42,
) -> None:
    """Generate the sample company's record files."""
    from kcrm.ingest.sample import generate_sample

    settings = _settings()
    out = out or settings.sample_dir
    out.mkdir(parents=True, exist_ok=True)
    counts = generate_sample(out, seed=seed)
    typer.echo(json.dumps({"directory": str(out), "counts": counts}, ensure_ascii=False))


@app.command("load")
def load(
    directory: Annotated[Optional[Path], typer.Argument(help="Directory of *.jsonl records (default: the sample).")] = None,
) -> None:
    """Upsert records into Neo4j in batches; idempotent. Exit 1 if any record was rejected."""
    from kcrm import workflows

    settings = _settings()
    try:
        directory = directory or workflows.ensure_sample(settings)
        graph = workflows.open_graph(settings)
        try:
            report = workflows.load_records(settings, graph, directory, progress=sys.stderr.isatty())
        finally:
            graph.close()
    except (KcrmError, FileNotFoundError) as exc:
        _fail(exc)
    summary = {key: value for key, value in report.as_dict().items() if key != "rejected"}
    summary["rejected"] = len(report.rejected)
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    for problem in report.rejected[:20]:
        typer.echo(f"rejected {problem.source}:{problem.line} uid={problem.uid} {problem.field}: {problem.reason}",
                   err=True)
    if report.rejected:
        raise typer.Exit(1)


@app.command("validate")
def validate(directory: Annotated[Path, typer.Argument(help="Directory of *.jsonl records.")]) -> None:
    """Check records against the ontology with pySHACL (the reference validator); writes nothing."""
    from kcrm.ingest.directory import read_directory
    from kcrm.ingest.shacl import shacl_validate
    from kcrm.ontology.model import load_ontology

    _settings()
    ontology = load_ontology()
    records, problems = read_directory(directory, ontology)
    problems += shacl_validate(ontology, records)
    for problem in problems:
        typer.echo(f"{problem.source}:{problem.line} uid={problem.uid} {problem.field}: {problem.reason}")
    typer.echo(f"{len(records)} records read, {len(problems)} problems")
    if problems:
        raise typer.Exit(1)


@app.command("reindex")
def reindex() -> None:
    """Rebuild the search index from Neo4j and swap it in atomically."""
    from kcrm import workflows

    settings = _settings()
    try:
        graph = workflows.open_graph(settings)
        try:
            path = workflows.reindex(settings, graph, progress=sys.stderr.isatty())
        finally:
            graph.close()
    except KcrmError as exc:
        _fail(exc)
    typer.echo(f"index written to {path}")


@app.command("serve")
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default KCRM_API_HOST).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default KCRM_API_PORT).")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from kcrm.api.app import create_app

    settings = _settings()
    uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port,
                log_config=None)


@app.command("demo")
def demo(
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API when ready.")] = True,
) -> None:
    """Start Neo4j, load the sample company, build the index and serve the API."""
    from kcrm import workflows

    settings = _settings()
    try:
        directory = workflows.ensure_sample(settings)
        graph = workflows.open_graph(settings)
        try:
            report = workflows.load_records(settings, graph, directory, progress=sys.stderr.isatty())
            if report.rejected:
                typer.echo(f"warning: {len(report.rejected)} sample records rejected", err=True)
            workflows.reindex(settings, graph, progress=sys.stderr.isatty())
        finally:
            graph.close()
    except KcrmError as exc:
        _fail(exc)
    typer.echo(f"ready: http://{settings.api_host}:{settings.api_port}/docs")
    if serve_api:
        serve()


if __name__ == "__main__":
    app()
