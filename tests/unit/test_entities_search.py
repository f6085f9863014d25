"""Entity search's Cypher shape and short-query guard (the graph itself is tested end to end)."""

from __future__ import annotations

from kcrm.search.entities import ENTITY_CLASSES, find_entities


class RecordingGraph:
    """Records each read and answers one match per label."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def read(self, cypher: str, **params):
        self.calls.append((cypher, params))
        label = cypher.split("MATCH (n:`", 1)[1].split("`", 1)[0]
        score = {"Customer": 0.5, "Product": 1.0, "Employee": 0.8}[label]
        return [{"total": 3, "top": [{"uid": f"{label}-1", "name": f"{label} one", "nameZh": None, "score": score}]}]


def test_queries_every_entity_type_with_parameters_and_ranks_across_them() -> None:
    graph = RecordingGraph()
    found = find_entities(graph, "  Skylark  X200 ", limit=2)  # type: ignore[arg-type]
    assert len(graph.calls) == len(ENTITY_CLASSES)
    assert all(params["q"] == "skylark x200" and params["limit"] == 2 and "skylark" not in cypher.lower()
               for cypher, params in graph.calls)
    assert [h.type for h in found.hits] == ["Product", "Employee"]
    assert found.counts == {"Customer": 3, "Product": 3, "Employee": 3}


def test_too_short_a_query_asks_nothing() -> None:
    graph = RecordingGraph()
    found = find_entities(graph, "a", limit=5)  # type: ignore[arg-type]
    assert graph.calls == [] and found.hits == [] and set(found.counts.values()) == {0}
