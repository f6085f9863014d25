"""Who is asking: the principal behind a request and the access groups it may see.

Every searchable item and graph node carries `accessGroups` (a list of group names). An item
whose list is empty or holds `PUBLIC_GROUP` is visible to every authenticated caller; any other
item only to a principal that shares one of its groups. Internal work (the CLI, indexing,
mining) runs as `SYSTEM`, which sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

PUBLIC_GROUP = "public"
ROLES = ("agent", "expert", "analyst", "admin", "app", "privacy")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the key it used, its roles and its access groups."""

    key_id: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    sees_everything: bool = False

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds any of `roles` (admin holds them all)."""
        return "admin" in self.roles or any(role in self.roles for role in roles)

    def can_see(self, item_groups: Iterable[str] | None) -> bool:
        """True when an item with these access groups may be shown to this principal."""
        if self.sees_everything:
            return True
        wanted = set(item_groups or ())
        return not wanted or PUBLIC_GROUP in wanted or bool(wanted & self.groups)

    def visible_groups(self) -> list[str] | None:
        """The group list to pass to a query filter; None means no trimming at all."""
        return None if self.sees_everything else sorted(self.groups | {PUBLIC_GROUP})


SYSTEM = Principal(key_id="system", name="system", roles=frozenset({"admin"}), sees_everything=True)
