"""`kcrm duplicates`: the possible duplicate customers ingest found, for a person to merge or dismiss.

Ingest merges two customers automatically only when a strong key (e-mail, phone) agrees and none
conflicts; everything else that merely looks alike waits here. Every merge, automatic or not,
can be undone with `kcrm duplicates unmerge KEEP MERGED`.
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from kcrm.foundation.errors import KcrmError

duplicates_app = typer.Typer(help="Possible duplicate customers: list, merge, dismiss, unmerge.",
                             no_args_is_help=True)


def _context():
    from kcrm.cli import _settings
    from kcrm.duplicates.store import DuplicateStore
    from kcrm.ontology.model import load_ontology

    settings = _settings()
    return settings, DuplicateStore(settings), load_ontology()


def _who() -> str:
    from kcrm.cli import _cli_principal

    return _cli_principal().name


def _fail(exc: Exception) -> None:
    from kcrm.cli import _fail as fail

    fail(exc)


@duplicates_app.command("list")
def duplicates_list(
    status: Annotated[str, typer.Option(help="open, merged, dismissed, unmerged or all.")] = "open",
    customer: Annotated[Optional[str], typer.Option(help="Only pairs that involve this customer uid.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """The possible duplicates with both customers and the evidence (best score first)."""
    from kcrm import workflows
    from kcrm.duplicates.service import visible_pairs

    settings, store, ontology = _context()
    try:
        with workflows.open_graph(settings) as graph:
            pairs = visible_pairs(graph, ontology, store, None, None if status == "all" else status, customer)
    except KcrmError as exc:
        _fail(exc)
    for pair in pairs:
        if json_out:
            typer.echo(json.dumps(pair, ensure_ascii=False))
            continue
        a, b = pair["customers"]
        evidence = ", ".join(f"{k} {v}" for k, v in sorted(pair["evidence"].items()))
        typer.echo(f"{pair['id']}  {pair['status']:<9} {a['uid']} {a['name']!r} <> {b['uid']} {b['name']!r}  "
                   f"({evidence})")


@duplicates_app.command("merge")
def duplicates_merge(pair: Annotated[str, typer.Argument(help="The id `kcrm duplicates list` shows.")]) -> None:
    """Merge the pair: the incoming customer folds into the existing one (undo with `unmerge`)."""
    from kcrm import workflows
    from kcrm.duplicates.service import merge_pair

    settings, store, ontology = _context()
    try:
        with workflows.open_graph(settings) as graph:
            outcome = merge_pair(graph, ontology, store, pair, _who())
    except KcrmError as exc:
        _fail(exc)
    typer.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))


@duplicates_app.command("dismiss")
def duplicates_dismiss(pair: Annotated[str, typer.Argument(help="The id `kcrm duplicates list` shows.")]) -> None:
    """The two are different customers: never merged or suggested again."""
    from kcrm import workflows
    from kcrm.duplicates.service import dismiss_pair

    settings, store, ontology = _context()
    try:
        with workflows.open_graph(settings) as graph:
            found = dismiss_pair(graph, ontology, store, pair, _who())
    except KcrmError as exc:
        _fail(exc)
    typer.echo(json.dumps(found.as_dict(), ensure_ascii=False))


@duplicates_app.command("unmerge")
def duplicates_unmerge(
    keep: Annotated[str, typer.Argument(help="The customer that was kept.")],
    merged: Annotated[str, typer.Argument(help="The customer merged into it (see its mergedFrom).")],
) -> None:
    """Undo a merge from the kept node's mergeLog: both customers, their properties and relationships back."""
    from kcrm import workflows
    from kcrm.duplicates.service import unmerge_pair

    settings, store, ontology = _context()
    try:
        with workflows.open_graph(settings) as graph:
            outcome = unmerge_pair(graph, ontology, store, keep, merged, _who())
    except KcrmError as exc:
        _fail(exc)
    typer.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))
