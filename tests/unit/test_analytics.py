"""Collaboration analytics on small graphs whose answers can be checked by hand."""

from __future__ import annotations

import pytest

from kcrm.kg.analytics import (
    Membership,
    analyse,
    centrality,
    communities,
    normalised,
    project,
)
from kcrm.kg.expert_scoring import ExpertProfile, Weights, rank


def _m(member: str, context: str, count: float = 1.0) -> Membership:
    return Membership(member, context, count)


def test_projection_weight_is_the_sum_of_shared_minimum_counts() -> None:
    g = project([_m("a", "topic:x", 3), _m("b", "topic:x", 1), _m("a", "customer:c", 2), _m("b", "customer:c", 5),
                 _m("c", "topic:y")], members=["d"])
    assert g["a"]["b"]["weight"] == 1 + 2
    assert not g.has_edge("a", "c") and set(g.nodes) == {"a", "b", "c", "d"}
    assert g.degree("d") == 0


def test_star_centre_is_most_central_and_pagerank_sums_to_one() -> None:
    g = project([_m(leaf, f"topic:{leaf}") for leaf in "bcde"] + [_m("a", f"topic:{leaf}") for leaf in "bcde"])
    rank = centrality(g)
    assert max(rank, key=rank.get) == "a"
    assert rank["b"] == pytest.approx(rank["e"])
    assert sum(rank.values()) == pytest.approx(1.0)


def test_two_cliques_joined_by_a_weak_edge_are_two_communities_with_their_topics() -> None:
    rows = [_m(p, "topic:refund", 3) for p in ("a1", "a2", "a3")] + [_m(p, "topic:vpn", 3) for p in ("b1", "b2", "b3")]
    rows += [_m("a1", "product:bridge"), _m("b1", "product:bridge")]
    result = analyse(rows, watermark="w1")
    assert sorted(sorted(c.members) for c in result.communities) == [["a1", "a2", "a3"], ["b1", "b2", "b3"]]
    by_member = {m: c for c in result.communities for m in c.members}
    assert by_member["a2"].topics == [("refund", 1.0)] and by_member["b3"].topics == [("vpn", 1.0)]
    assert result.community_of["a1"] != result.community_of["b1"]
    assert result.edges == 3 + 3 + 1 and result.nodes == 6 and result.watermark == "w1"
    # the bridge ends carry the extra edge, so they rank first in their community
    assert by_member["a2"].members[0] == "a1" and by_member["b2"].members[0] == "b1"


def test_empty_and_isolated_inputs() -> None:
    assert communities(project([])) == [] and centrality(project([])) == {}
    result = analyse([], members=["x", "y"])
    assert [c.members for c in result.communities] in ([["x"], ["y"]], [["y"], ["x"]])
    assert result.centrality["x"] == pytest.approx(0.5)
    assert normalised({"a": 2.0, "b": 1.0}) == {"a": 1.0, "b": 0.5} and normalised({"a": 0.0}) == {"a": 0.0}


def test_centrality_weight_breaks_a_tie_only_when_switched_on() -> None:
    profiles = {"p": ExpertProfile(uid="p", centrality=0.2), "q": ExpertProfile(uid="q", centrality=1.0)}
    off = rank({}, {}, {}, profiles, {}, Weights(prior=0.0))
    on = rank({}, {}, {}, profiles, {}, Weights(prior=0.0, centrality=0.5))
    assert [e.expert for e in off] == ["p", "q"] and off[0].score == 0.0
    assert [e.expert for e in on] == ["q", "p"] and on[0].score == pytest.approx(0.5)
