"""Ingest respects access groups (`kcrm.ingest.access_check`): the pure decision, with the graph answered."""

from __future__ import annotations

from kcrm.ingest.access_check import refuse_outside_groups
from kcrm.kg.records import Record
from kcrm.ontology.model import load_ontology


def record(uid: str, **props) -> Record:
    return Record(type="Customer", uid=uid, props={"name": uid, **props}, rels=(), source="c.csv", line=2)


class Graph:
    """Holds CUS-G (group g) and CUS-P (public); answers the hidden-uid query like Neo4j would."""

    nodes = {"CUS-G": ["g"], "CUS-P": None}

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def read(self, cypher: str, **params):
        self.calls.append(params)
        groups = params["groups"]
        return [{"uid": u} for u in params["uids"] if self.nodes.get(u) and not set(self.nodes[u]) & set(groups)]


def test_a_key_without_the_group_cannot_touch_its_nodes_or_assign_it() -> None:
    graph = Graph()
    records = [record("CUS-G", name="overwritten"), record("CUS-P"), record("CUS-NEW", accessGroups=["g"]),
               record("CUS-MINE", accessGroups=["h", "public"]), record("CUS-NEW2")]
    kept, problems = refuse_outside_groups(records, graph, load_ontology(), ["h"])
    assert [r.uid for r in kept] == ["CUS-P", "CUS-MINE", "CUS-NEW2"]
    by_uid = {p.uid: p for p in problems}
    assert by_uid["CUS-G"].field == "uid" and "may not be changed" in by_uid["CUS-G"].reason
    assert by_uid["CUS-NEW"].field == "props.accessGroups" and "g" in by_uid["CUS-NEW"].reason
    assert "h" in by_uid["CUS-NEW"].reason  # names what the key does hold
    assert graph.calls[0]["groups"] == ["h", "public"]


def test_a_key_with_the_group_and_the_cli_write_everything() -> None:
    records = [record("CUS-G", accessGroups=["g"]), record("CUS-P")]
    assert refuse_outside_groups(records, Graph(), load_ontology(), ["g"]) == (records, [])
    graph = Graph()
    assert refuse_outside_groups(records, graph, load_ontology(), None) == (records, []) and not graph.calls
