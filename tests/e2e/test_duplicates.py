"""Duplicate resolution through the real stack: the adversarial pairs ingested from two sources, the
possible duplicates over HTTP (trimmed by access groups), a person's merge and its undo, dismissals."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from kcrm import workflows
from kcrm.duplicates.service import unmerge_pair
from kcrm.duplicates.store import DuplicateStore, pair_id
from kcrm.ontology.model import load_ontology
from kcrm.statedb import DUPLICATE

pytestmark = pytest.mark.e2e

ADVERSARIAL = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "duplicates" / "adversarial.json")
                         .read_text(encoding="utf-8"))
SECRET_CASE = 1  # Mary / Mark Wright: the existing customer is in a group the limited key lacks
CLEANUP = "MATCH (n) WHERE n.uid STARTS WITH 'DUP-' CALL (n) { DETACH DELETE n } RETURN count(*) AS n"
SNAPSHOT = """
MATCH (c:Customer) WHERE c.uid IN $uids
OPTIONAL MATCH (c)-[r]-(o)
WITH c, r, o ORDER BY type(r), startNode(r) = c, o.uid
WITH c, collect([type(r), startNode(r) = c, o.uid, properties(r)]) AS rels
RETURN c.uid AS uid, properties(c) AS props, rels ORDER BY uid
"""


def records(side: str, source: str) -> list[dict]:
    out = []
    for n, case in enumerate(ADVERSARIAL):
        props = {k: v for k, v in case[side].items()}
        if side == "existing" and n == SECRET_CASE:
            props["accessGroups"] = ["dup-secret"]
        uid = f"DUP-{'OLD' if side == 'existing' else 'NEW'}-{n}"
        out.append({"type": "Customer", "uid": uid, "props": props})
        out.append({"type": "SupportCase", "uid": f"{uid}-CASE", "props": {
            "title": f"Case of {props['name']}", "description": "A duplicate-resolution test case.", "status": "open",
            "openedAt": "2025-04-05T06:07:08+00:00", "language": "en"},
            "rels": [{"from": uid, "from_type": "Customer", "type": "RAISED"}]})
    return out


def write(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                          encoding="utf-8")
    return folder


FORGET_PAIRS = f"""
MATCH (p:{DUPLICATE}) WHERE p.existing STARTS WITH $prefix OR p.incoming STARTS WITH $prefix
DETACH DELETE p
"""


@pytest.fixture(scope="module")
def ingested(graph, loaded, e2e_settings, tmp_path_factory):
    """The existing customers from one source, then the adversarial newcomers from another."""
    graph.write(CLEANUP)
    store = DuplicateStore(e2e_settings)
    store.graph.write(FORGET_PAIRS, prefix="DUP-")  # decisions of an earlier session on these test customers
    base = tmp_path_factory.mktemp("dups")
    old = workflows.ingest(e2e_settings, graph, write(base / "crm", records("existing", "dup-crm")), source="dup-crm")
    assert old.ok, old.rejected
    new_dir = write(base / "tickets", records("incoming", "dup-tickets"))
    new = workflows.ingest(e2e_settings, graph, new_dir, source="dup-tickets")
    assert new.ok, new.rejected
    yield new, new_dir
    graph.write(CLEANUP)
    workflows.update_index_after_ingest(e2e_settings, graph)


def outcome(result, n: int) -> str:
    old, new = f"DUP-OLD-{n}", f"DUP-NEW-{n}"
    if any((m["keep"], m["merged"]) == (old, new) for m in result.merged):
        return "merge"
    if any((p["existing"], p["incoming"]) == (old, new) for p in result.possible):
        return "possible"
    return "nothing"


@pytest.mark.parametrize("n", range(len(ADVERSARIAL)), ids=[c["case"] for c in ADVERSARIAL])
def test_each_adversarial_pair_gets_its_expected_outcome(ingested, n: int) -> None:
    result, _ = ingested
    assert outcome(result, n) == ADVERSARIAL[n]["expect"]


def test_no_automatic_merge_of_different_people(ingested, graph) -> None:
    result, _ = ingested
    expected = {(f"DUP-OLD-{n}", f"DUP-NEW-{n}") for n, c in enumerate(ADVERSARIAL) if c["expect"] == "merge"}
    assert {(m["keep"], m["merged"]) for m in result.merged} == expected  # nothing else, not even sample customers
    alive = {r["uid"] for r in graph.read("MATCH (c:Customer) WHERE c.uid STARTS WITH 'DUP-NEW-' RETURN c.uid AS uid")}
    assert alive == {f"DUP-NEW-{n}" for n, c in enumerate(ADVERSARIAL) if c["expect"] != "merge"}


def test_possible_duplicates_over_http_are_trimmed_by_access_groups(ingested, api: httpx.Client, api_url: str,
                                                                   make_key) -> None:
    everything = api.get("/v1/duplicates", params={"status": "open"})
    assert everything.status_code == 200, everything.text
    mine = {(d["existing"], d["incoming"]): d for d in everything.json()["duplicates"]
            if d["existing"].startswith("DUP-")}
    assert ("DUP-OLD-1", "DUP-NEW-1") in mine and ("DUP-OLD-0", "DUP-NEW-0") in mine
    pair = mine[("DUP-OLD-1", "DUP-NEW-1")]
    assert pair["evidence"]["email"] == "different" and [c["uid"] for c in pair["customers"]] == ["DUP-OLD-1",
                                                                                                  "DUP-NEW-1"]
    limited = {"Authorization": f"Bearer {make_key(roles=('analyst',), groups=('support',))}"}
    seen = httpx.get(f"{api_url}/v1/duplicates", headers=limited, timeout=60)
    assert seen.status_code == 200
    uids = {c["uid"] for d in seen.json()["duplicates"] for c in d["customers"]}
    assert "DUP-OLD-1" not in uids and "DUP-NEW-0" in uids  # the secret customer's pair is not even counted
    one = httpx.get(f"{api_url}/v1/duplicates", params={"customer": "DUP-OLD-1"}, headers=limited, timeout=60)
    assert one.json() == {"count": 0, "duplicates": []}
    hidden = httpx.post(f"{api_url}/v1/duplicates/{pair['id']}/merge", headers=limited, timeout=60)
    assert hidden.status_code == 404 and hidden.headers["content-type"].startswith("application/problem+json")
    agent = {"Authorization": f"Bearer {make_key(roles=('agent',), all_groups=True)}"}
    refused = httpx.post(f"{api_url}/v1/duplicates/{pair['id']}/merge", headers=agent, timeout=60)
    assert refused.status_code == 403


def test_a_merge_by_a_person_is_undone_with_both_customers_as_they_were(ingested, api: httpx.Client, graph,
                                                                       e2e_settings) -> None:
    old, new = "DUP-OLD-2", "DUP-NEW-2"  # Samuel Jones / Samuel Johns: a person decides they are one
    before = graph.read(SNAPSHOT, uids=[old, new])
    merged = api.post(f"/v1/duplicates/{pair_id(old, new)}/merge")
    assert merged.status_code == 200, merged.text
    moved = len([r for r in before if r["uid"] == new][0]["rels"])  # RAISED, and MENTIONS from entity linking
    assert merged.json()["keep"] == old and merged.json()["relationships"] == moved >= 1
    after = {r["uid"]: r for r in graph.read(SNAPSHOT, uids=[old, new])}
    assert set(after) == {old} and after[old]["props"]["mergedFrom"] == [new]
    raised = graph.read("MATCH (c:Customer)-[:RAISED]->(t:SupportCase) WHERE t.uid IN $cases "
                        "RETURN t.uid AS case, c.uid AS customer ORDER BY case", cases=[f"{old}-CASE", f"{new}-CASE"])
    assert raised == [{"case": f"{new}-CASE", "customer": old}, {"case": f"{old}-CASE", "customer": old}]
    again = api.post(f"/v1/duplicates/{pair_id(old, new)}/merge")
    assert again.status_code == 409

    store = DuplicateStore(e2e_settings)
    unmerge_pair(graph, load_ontology(), store, old, new, "pytest")
    assert graph.read(SNAPSHOT, uids=[old, new]) == before
    assert store.get(pair_id(old, new)).status == "unmerged"


def test_an_automatic_merge_is_undone_and_stays_apart_on_reingest(ingested, graph, e2e_settings) -> None:
    result, new_dir = ingested
    n = next(i for i, c in enumerate(ADVERSARIAL) if c["expect"] == "merge")
    old, new = f"DUP-OLD-{n}", f"DUP-NEW-{n}"
    kept = graph.read(SNAPSHOT, uids=[old])[0]
    assert kept["props"]["mergedFrom"] == [new]
    unmerge_pair(graph, load_ontology(), DuplicateStore(e2e_settings), old, new, "pytest")
    both = {r["uid"]: r for r in graph.read(SNAPSHOT, uids=[old, new])}
    assert "mergeLog" not in both[old]["props"] and "mergedFrom" not in both[old]["props"]
    assert {r[2] for r in both[old]["rels"] if r[0] == "RAISED"} == {f"{old}-CASE"}
    assert {r[2] for r in both[new]["rels"] if r[0] == "RAISED"} == {f"{new}-CASE"}
    assert both[new]["props"]["name"] == ADVERSARIAL[n]["incoming"]["name"]
    assert both[new]["props"]["source"] == "dup-tickets"
    again = workflows.ingest(e2e_settings, graph, new_dir, source="dup-tickets")
    assert again.ok and not any(m["merged"] == new for m in again.merged)
    assert not any(p["incoming"] == new and p["existing"] == old for p in again.possible)
    assert {r["uid"] for r in graph.read(SNAPSHOT, uids=[old, new])} == {old, new}


def test_a_dismissed_pair_is_not_suggested_again(ingested, api: httpx.Client, graph, e2e_settings) -> None:
    _, new_dir = ingested
    old, new = "DUP-OLD-0", "DUP-NEW-0"
    dismissed = api.post(f"/v1/duplicates/{pair_id(old, new)}/dismiss")
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "dismissed" and dismissed.json()["decided_by"].startswith("api:")
    again = workflows.ingest(e2e_settings, graph, new_dir, source="dup-tickets")
    assert not any((p["existing"], p["incoming"]) == (old, new) for p in again.possible)
    listed = api.get("/v1/duplicates", params={"customer": old}).json()
    assert all(d["id"] != pair_id(old, new) for d in listed["duplicates"])


def test_the_store_keeps_one_pair_per_unordered_uids_and_one_decision_wins(e2e_settings):
    """The Neo4j store: an unordered pair is added once, and of concurrent decisions exactly one wins."""
    from concurrent.futures import ThreadPoolExecutor

    from kcrm.duplicates.store import DuplicateDecided, DuplicateNotFound

    store = DuplicateStore(e2e_settings)
    store.graph.write(FORGET_PAIRS, prefix="DUP-STORE-")
    pair = {"existing": "DUP-STORE-A", "incoming": "DUP-STORE-B", "source": "s", "score": 91.5,
            "evidence": {"email": "different", "name": "91.5"}}
    try:
        assert store.add([pair]) == 1
        assert store.add([{**pair, "existing": "DUP-STORE-B", "incoming": "DUP-STORE-A"}, pair]) == 0
        got = store.get(pair_id("DUP-STORE-B", "DUP-STORE-A"))
        assert (got.existing, got.source, got.evidence, got.status) == ("DUP-STORE-A", "s", pair["evidence"], "open")
        assert [p.id for p in store.list("open", uid="DUP-STORE-B")] == [got.id]
        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(lambda i: _try_decide(store, got.id, DuplicateDecided), range(4)))
        assert sorted(outcomes) == ["decided", "refused", "refused", "refused"]
        assert store.get(got.id).status == "dismissed"
        assert ("DUP-STORE-A", "DUP-STORE-B") in store.kept_apart()
        with pytest.raises(DuplicateNotFound):
            store.decide("dup-000000000000", "dismissed", "pytest")
        made = store.record_unmerge("DUP-STORE-C", "DUP-STORE-D", "pytest")
        assert (made.status, made.source, made.evidence) == ("unmerged", "", {})
    finally:
        store.graph.write(FORGET_PAIRS, prefix="DUP-STORE-")


def _try_decide(store: DuplicateStore, pair: str, refused: type[Exception]) -> str:
    try:
        store.decide(pair, "dismissed", "pytest")
    except refused:
        return "refused"
    return "decided"
