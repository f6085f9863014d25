"""`kcrm export` (the graph as RDF) and `kcrm subject export|erase` (data-subject requests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from kcrm.foundation.errors import KcrmError

subject_app = typer.Typer(help="Data-subject requests: export or erase everything about one customer.",
                          no_args_is_help=True)


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def export(
    fmt: Annotated[str, typer.Option("--format", help="turtle or jsonld.")] = "turtle",
    types: Annotated[Optional[list[str]], typer.Option("--type", help="Only this class (repeatable).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Only nodes changed on or after this ISO date.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Write the graph (or the part asked for) as RDF with the ontology's IRIs; `kcrm ingest` reads it back."""
    from kcrm.cli import _settings
    from kcrm.kg.export import export_edges, export_nodes
    from kcrm.ontology.model import load_ontology
    from kcrm.ontology.rdf import FORMATS, serialize, to_rdf
    from kcrm.workflows import open_graph

    if fmt not in FORMATS:
        _fail(ValueError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}"))
    settings = _settings()
    ontology = load_ontology()
    try:
        for name in types or []:
            ontology.class_spec(name)
        with open_graph(settings) as graph:
            nodes = list(export_nodes(graph, ontology, types, since))
            edges = list(export_edges(graph, ontology, types, since))
    except KcrmError as exc:
        _fail(exc)
    _write(serialize(to_rdf(ontology, nodes, edges), fmt), out)
    typer.echo(json.dumps({"nodes": len(nodes), "relationships": len(edges)}), err=True)


def _audit(action: str, uid: str, detail: dict) -> None:
    from kcrm.cli import _cli_principal, _settings
    from kcrm.security.audit import AuditLog

    AuditLog(_settings()).record(_cli_principal(), action, target=uid, detail=detail)


@subject_app.command("export")
def subject_export(
    uid: Annotated[str, typer.Argument(help="The customer's uid.")],
    fmt: Annotated[str, typer.Option("--format", help="json, turtle or jsonld.")] = "json",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Everything kcrm knows about one customer, with provenance (audited)."""
    from kcrm.cli import _settings
    from kcrm.privacy import export_subject
    from kcrm.workflows import open_graph

    settings = _settings()
    try:
        with open_graph(settings) as graph:
            result = export_subject(graph, uid, fmt)
    except (KcrmError, ValueError) as exc:
        _fail(exc)
    _audit("subject.export", uid, {"format": fmt})
    _write(result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, indent=2), out)


@subject_app.command("erase")
def subject_erase(
    uid: Annotated[str, typer.Argument(help="The customer's uid.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would change, per store; change nothing.")]
    = False,
) -> None:
    """Erase one customer from the graph, the search index, reports, quarantine and alerts (audited)."""
    from kcrm.cli import _settings
    from kcrm.privacy import erase_subject
    from kcrm.workflows import open_graph

    settings = _settings()
    try:
        with open_graph(settings) as graph:
            report = erase_subject(settings, graph, uid, dry_run=dry_run)
    except KcrmError as exc:
        _fail(exc)
    _audit("subject.erase.dry-run" if dry_run else "subject.erase", uid, report.counts())
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))


def register(app: typer.Typer) -> None:
    """Add these commands to the main `kcrm` app."""
    app.command("export")(export)
    app.add_typer(subject_app, name="subject")
