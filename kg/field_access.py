"""Which fields each role may read: the one rule every surface applies to mined customer figures.

Why one module: `kcrm mine` writes value tiers, churn risk and their reasons, RFM scores,
deviation flags, mined segments and RECOMMENDED edges onto the graph the agents browse (and
`kcrm mine outcomes` the observed outcome of each Action, and OutcomeEstimate nodes). The
figures are for analysts (docs/security.md, role matrix), so the 360, entities, paths, search
hits, facts, facets and filters, alerts and the web page must all drop them for other roles;
when each surface kept its own list, one forgot (issue 13, finding 7). Every surface asks
`reads_mined(principal)` and strips with the helpers here; the field lists come from the
writer (`kg.mining.writeback`), so a property mining adds is hidden without another edit.

Who reads mined data: `analyst` (and `admin`, who holds every role). Agents, experts and apps
(integrations) do not: they see the customer as ingested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kcrm.foundation.errors import Forbidden
from kcrm.kg.mining.outcome_graph import ACTION_MINED_PROPERTIES
from kcrm.kg.mining.writeback import CUSTOMER_PROPERTIES, RECOMMENDATION_PROPERTIES, SOURCE
from kcrm.security.access import Principal

MINED_ROLES = ("analyst",)
MINED_SOURCE = SOURCE
# Properties mining sets on a Customer node (its provenance stamps included).
MINED_CUSTOMER_FIELDS = frozenset((*CUSTOMER_PROPERTIES, "computedBy", "computedAt"))
# Properties `kcrm mine outcomes` stamps on an Action node (the action itself is an ingested fact).
MINED_ACTION_FIELDS = frozenset((*ACTION_MINED_PROPERTIES, "computedBy", "computedAt"))
MINED_NODE_FIELDS = MINED_CUSTOMER_FIELDS | MINED_ACTION_FIELDS
# Properties on mined edges (RECOMMENDED, mined IN_SEGMENT): the edges themselves are hidden.
MINED_EDGE_FIELDS = frozenset((*RECOMMENDATION_PROPERTIES, "computedAt"))
# Search: item meta keys copied from the case's customer (`search.from_graph`), filters and facets on them.
MINED_SEARCH_FIELDS = frozenset({"tier", "churn_risk"})
# Alerts mining raises (`kcrm.alerts.notify`).
MINED_ALERT_KINDS = frozenset({"churn_warning", "deviation"})


def reads_mined(principal: Principal) -> bool:
    """True when this caller may read mined customer figures (value, churn, RFM, recommendations)."""
    return principal.has_role(*MINED_ROLES)


def node_properties(props: Mapping[str, Any], mined: bool) -> dict[str, Any]:
    """A node's properties as the caller may read them (`mined`: from `reads_mined`)."""
    return dict(props) if mined else {k: v for k, v in props.items() if k not in MINED_NODE_FIELDS}


def search_meta(meta: Mapping[str, Any], mined: bool) -> dict[str, Any]:
    """An index item's meta as the caller may read it: mined customer figures dropped unless `mined`."""
    return dict(meta) if mined else {k: v for k, v in meta.items() if k not in MINED_SEARCH_FIELDS}


def mined_filters(filters: Mapping[str, Any]) -> list[str]:
    """The mined fields a search filter uses (non-empty values only): refused to a caller without the role."""
    return sorted(k for k in MINED_SEARCH_FIELDS if filters.get(k))


def not_mined(var: str, flag: str = "minedOk", source: str = "minedSource") -> str:
    """A Cypher boolean: node or relationship `var` was not written by mining, or the caller may read mined data.

    The query takes `$minedOk` (from `reads_mined`) and `$minedSource` (`MINED_SOURCE`) as parameters.
    """
    for name in (var, flag, source):
        if not name.replace("_", "").isalnum() or name[0].isdigit():
            raise ValueError(f"not a Cypher variable: {name!r}")
    return f"(${flag} OR coalesce({var}.source, '') <> ${source})"


def mined_params(mined: bool) -> dict[str, Any]:
    """The parameters `not_mined` predicates read."""
    return {"minedOk": mined, "minedSource": MINED_SOURCE}


def check_mined_filters(principal: Principal, filters: Mapping[str, Any]) -> None:
    """Forbidden (403) when a caller without the role filters on a mined field.

    Why refuse rather than ignore: an ignored filter silently widens the result, and a
    filter that worked would let an agent read each case's tier by elimination.
    """
    used = mined_filters(filters)
    if used and not reads_mined(principal):
        raise Forbidden(f"filtering on {', '.join(used)} (mined customer figures) needs one of the roles "
                        f"{', '.join(MINED_ROLES)} (or admin); this key has {', '.join(sorted(principal.roles)) or 'none'}")
