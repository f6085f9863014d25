"""`kcrm backup DEST` and `kcrm restore SRC` (see kcrm/backup.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kcrm.foundation.errors import KcrmError


def backup_command(dest: Annotated[Path, typer.Argument(help="A new (or empty) directory to write.")]) -> None:
    """Copy the graph (Neo4j's own dump: the bundled server stops for seconds), the index and the service state."""
    from kcrm.backup import backup
    from kcrm.cli import _fail, _settings

    try:
        result = backup(_settings(), dest)
    except KcrmError as exc:
        _fail(exc)
    typer.echo(json.dumps(result.as_dict(), indent=2))


def restore_command(src: Annotated[Path, typer.Argument(help="A directory `kcrm backup` wrote.")]) -> None:
    """Check every checksum, then restore the graph, index and state into an empty data dir."""
    from kcrm.backup import restore
    from kcrm.cli import _fail, _settings

    try:
        result = restore(_settings(), src)
    except KcrmError as exc:
        _fail(exc)
    typer.echo(json.dumps(result.as_dict(), indent=2))


def register(app: typer.Typer) -> None:
    """Add these commands to the main `kcrm` app."""
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
