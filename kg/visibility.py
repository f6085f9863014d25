"""Security trimming in Cypher: one predicate, the same rule as `kcrm.security.access.Principal.can_see`.

A node is visible to a caller when the caller sees everything (`$groups` is null), or the node
has no `accessGroups`, or shares one group with `$groups` (which always holds "public" for a
trimmed caller, see `Principal.visible_groups`). Queries splice `visible("n")` into a WHERE
with the caller's groups passed as the `$groups` parameter: values never enter the text.
"""

from __future__ import annotations

import re

from kcrm.security.access import PUBLIC_GROUP

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def visible(var: str, param: str = "groups") -> str:
    """A Cypher boolean: node `var` may be seen by a caller whose groups are `$param` (null: all)."""
    if not _VARIABLE.match(var) or not _VARIABLE.match(param):
        raise ValueError(f"not a Cypher variable: {var!r} / {param!r}")
    return (f"(${param} IS NULL OR {var}.accessGroups IS NULL OR size({var}.accessGroups) = 0 "
            f"OR any(g IN {var}.accessGroups WHERE g IN ${param}))")


def path_visible(path_var: str, param: str = "groups") -> str:
    """A Cypher boolean: every node on path `path_var` is visible (checked during a shortest-path search)."""
    if not _VARIABLE.match(path_var):
        raise ValueError(f"not a Cypher variable: {path_var!r}")
    return f"(${param} IS NULL OR all(x IN nodes({path_var}) WHERE {visible('x', param)}))"


def query_groups(groups: list[str] | None) -> list[str] | None:
    """The `$groups` parameter for a caller's visible groups (None: no trimming); always holds public."""
    return None if groups is None else sorted({*groups, PUBLIC_GROUP})
