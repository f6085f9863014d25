"""The static-facts cache: reused while the graph's watermark stands, rebuilt once it moves."""

from __future__ import annotations

from typing import Any

import pytest

from kcrm.kg import static_cache


class FakeGraph:
    """Answers only the watermark query, and counts how often it was asked."""

    def __init__(self, uri: str = "bolt://fake") -> None:
        self.uri, self.database = uri, "neo4j"
        self.mark, self.count, self.reads = "2026-01-01T00:00:00+00:00", 10, 0

    def read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        assert cypher == static_cache.WATERMARK_QUERY
        self.reads += 1
        return [{"mark": self.mark, "n": self.count}]


@pytest.fixture(autouse=True)
def clean() -> None:
    static_cache.invalidate()


def loader(values: list[int]):
    def load() -> int:
        values.append(len(values))
        return values[-1]
    return load


def test_a_value_is_loaded_once_while_the_watermark_stands() -> None:
    graph, loads = FakeGraph(), []
    assert [static_cache.cached(graph, "x", loader(loads), check_every_s=0) for _ in range(3)] == [0, 0, 0]
    assert loads == [0] and graph.reads == 3


@pytest.mark.parametrize("change", ["mark", "count"])
def test_a_new_updated_at_or_a_pruned_node_drops_the_cache(change: str) -> None:
    graph, loads = FakeGraph(), []
    static_cache.cached(graph, "x", loader(loads), check_every_s=0)
    if change == "mark":
        graph.mark = "2026-01-02T00:00:00+00:00"
    else:
        graph.count -= 1
    assert static_cache.cached(graph, "x", loader(loads), check_every_s=0) == 1


def test_the_watermark_is_read_at_most_once_per_interval() -> None:
    graph, loads = FakeGraph(), []
    for _ in range(5):
        static_cache.cached(graph, "x", loader(loads), check_every_s=3600)
    assert graph.reads == 1 and loads == [0]
    graph.mark = "later"
    assert static_cache.cached(graph, "x", loader(loads), check_every_s=3600) == 0  # not yet re-checked
    static_cache.invalidate(graph)
    assert static_cache.cached(graph, "x", loader(loads), check_every_s=3600) == 1


def test_graphs_and_names_are_kept_apart() -> None:
    one, two, loads = FakeGraph("bolt://one"), FakeGraph("bolt://two"), []
    assert static_cache.cached(one, "a", loader(loads)) == 0
    assert static_cache.cached(one, "b", loader(loads)) == 1
    assert static_cache.cached(two, "a", loader(loads)) == 2
    assert static_cache.cached(one, "a", loader(loads)) == 0
