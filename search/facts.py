"""The graph facts a hit shows beside its snippet: who, what product, how valuable, who solved it.

They are read from the graph with the item at index time (`from_graph`), so a result page needs
no further query; this picks and names them for display.
"""

from __future__ import annotations

from typing import Any

# meta key -> the name a hit's `facts` uses
FACT_KEYS = {
    "customer": "customer", "customerUid": "customerUid", "tier": "customerTier", "churn_risk": "customerChurnRisk",
    "product": "product", "category": "productCategory", "resolvedBy": "resolvedBy", "author": "author",
    "topic": "topic", "status": "status",
}


def graph_facts(meta: dict[str, Any]) -> dict[str, Any]:
    """The facts among an item's indexed fields, under their display names (absent ones left out)."""
    return {name: meta[key] for key, name in FACT_KEYS.items() if meta.get(key) not in (None, "")}
