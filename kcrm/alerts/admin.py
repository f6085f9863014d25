"""What an administrator does to other principals' subscriptions: list them, remove them.

Why (issue 13): a revoked key's subscriptions went on delivering titles and snippets to its
webhook, and nobody but the owner could see or remove them. Revoking a key now removes them
(`remove_owner`), and an admin lists or removes any of them by id.
"""

from __future__ import annotations

from kcrm.alerts.store import AlertStore, Subscription


def list_all(store: AlertStore, owner: str | None = None) -> list[Subscription]:
    """Every subscription (or one owner's), oldest first."""
    return store.subscriptions(owner=owner)


def remove(store: AlertStore, sub_id: str) -> Subscription | None:
    """Remove any principal's subscription with its notifications and deliveries; the one removed, or None."""
    found = next((s for s in store.subscriptions() if s.id == sub_id), None)
    if found is not None and store.delete_subscription(sub_id, found.owner):
        return found
    return None


def remove_owner(store: AlertStore, owner: str) -> list[str]:
    """Remove every subscription of one key (it was revoked); the ids removed."""
    return [s.id for s in store.subscriptions(owner=owner) if store.delete_subscription(s.id, owner)]
