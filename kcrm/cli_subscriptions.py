"""`kcrm subscriptions`: an administrator's view of every principal's subscriptions (issue 13)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kcrm.foundation.config import get_settings

app = typer.Typer(help="Every principal's alert subscriptions: list, remove.", no_args_is_help=True)


@app.command("list")
def list_subscriptions(owner: Annotated[str | None, typer.Option(help="Only this key id's.")] = None) -> None:
    """One JSON line per subscription: id, owner key, kind, query or entity, webhook."""
    from kcrm.alerts.admin import list_all
    from kcrm.alerts.service import alert_store

    for sub in list_all(alert_store(get_settings()), owner):
        typer.echo(json.dumps({"id": sub.id, "owner": sub.owner, "owner_name": sub.owner_name, "kind": sub.kind,
                               "query": sub.query, "entity": sub.entity, "webhook_url": sub.webhook_url,
                               "created_at": sub.created_at}, ensure_ascii=False))


@app.command("remove")
def remove_subscription(sub_id: Annotated[str, typer.Argument(help="The id `kcrm subscriptions list` shows.")]) -> None:
    """Remove any principal's subscription, its notifications and its queued webhooks."""
    from kcrm.alerts.admin import remove
    from kcrm.alerts.service import alert_store
    from kcrm.cli import _cli_principal
    from kcrm.security.audit import AuditLog

    settings = get_settings()
    removed = remove(alert_store(settings), sub_id)
    if removed is None:
        typer.echo(f"error: no subscription {sub_id!r}", err=True)
        raise typer.Exit(1)
    AuditLog(settings).record(_cli_principal(), "alerts.admin_remove", target=sub_id,
                                          detail={"owner": removed.owner})
    typer.echo(f"removed {sub_id} of {removed.owner} ({removed.owner_name})")
