"""Actions and their outcomes against the real Neo4j and HTTP server, the sample loaded.

`kcrm mine outcomes` (the command itself) must recover the sample generator's planted uplift of
every kind of action inside its 95% interval; each action's observed outcome is checked against
what Cypher finds in the orders independently. `POST /v1/actions` and `GET /v1/outcomes` are
exercised over HTTP, with a leak test per surface: a caller without the analyst role, or without
the key-accounts group, must not reach restricted customers or figures through them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kcrm import workflows
from kcrm.kg.mining.outcome_graph import measure_outcomes, remove_outcomes
from kcrm.kg.mining.outcomes import RULES
from kcrm.ontology.model import load_ontology
from kcrm.security.access import Principal

pytestmark = pytest.mark.e2e

OBSERVED_BY_CYPHER = """
MATCH (a:Action)-[:ACTION_ON]->(c:Customer) WHERE a.outcomeObserved IS NOT NULL
WITH a, c, datetime({date: date(datetime(a.actedAt))}) AS start, $windows[a.actionKind] AS days
OPTIONAL MATCH (a)-[:OFFERED]->(p:Product)
OPTIONAL MATCH (c)-[:PLACED]->(t:Transaction)
WHERE datetime(t.orderedAt) > start AND datetime(t.orderedAt) <= start + duration({days: days})
  AND (p IS NULL OR (t)-[:CONTAINS]->(p))
RETURN a.uid AS uid, a.outcomeObserved AS observed, count(t) > 0 AS found
"""
CLEAN_API_ACTIONS = "MATCH (a:Action {source: 'api:actions'}) DETACH DELETE a RETURN count(*) AS n"


def client(api_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=120)


@pytest.fixture(scope="module")
def measured(loaded, graph, cli_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict]]:
    """`kcrm mine outcomes` run twice by the real command; both summaries. Everything undone afterwards."""
    runs = []
    try:
        for n in range(2):
            out = tmp_path_factory.mktemp("outcomes") / f"run{n}.json"
            done = subprocess.run([sys.executable, "-m", "kcrm.cli", "mine", "outcomes", "--json", str(out)],
                                  env=cli_env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-3000:]
            runs.append(json.loads(out.read_text(encoding="utf-8")))
        yield runs
    finally:
        graph.write(CLEAN_API_ACTIONS)
        remove_outcomes(graph, load_ontology())


@pytest.fixture(scope="module")
def keys(api_url: str, make_key) -> Iterator[dict[str, httpx.Client]]:
    made = {"agent": make_key(roles=("agent",), name="outcomes-agent"),
            "expert": make_key(roles=("expert",), name="outcomes-expert"),
            "analyst": make_key(roles=("analyst",), name="outcomes-analyst"),
            "team": make_key(roles=("analyst", "agent"), groups=("key-accounts",), name="outcomes-team")}
    clients = {name: client(api_url, key) for name, key in made.items()}
    yield clients
    for c in clients.values():
        c.close()


@pytest.fixture(scope="module")
def public_customer(graph, loaded) -> dict:
    return graph.read("MATCH (c:Customer)<-[:OWNS]-(e:Employee) WHERE c.accessGroups IS NULL "
                      "AND e.accessGroups IS NULL RETURN c.uid AS customer, e.uid AS employee "
                      "ORDER BY c.uid LIMIT 1")[0]


def test_kcrm_mine_outcomes_recovers_the_true_uplift_of_every_kind(measured, sample_dir: Path) -> None:
    truth = json.loads((sample_dir / "manifest.json").read_text(encoding="utf-8"))["actions"]
    estimates = {e["kind"]: e for e in measured[-1]["estimates"]}
    assert set(truth) == set(estimates) == set(RULES)
    for kind, planted in truth.items():
        e = estimates[kind]
        assert e["actions"] == planted["actions"] and e["pending"] == 0 and e["matched"] >= 0.8 * e["actions"]
        assert e["ciLow"] <= planted["trueUplift"] <= e["ciHigh"], (kind, planted, e)
        assert e["ciLow"] > 0, (kind, e)
    assert measured[0]["estimates"] == measured[1]["estimates"]  # the same graph gives the same figures


def test_estimates_and_stamps_are_written_back_with_provenance_idempotently(measured, graph) -> None:
    rows = graph.read("MATCH (o:OutcomeEstimate) RETURN o {.*} AS o ORDER BY o.uid")
    assert [r["o"]["uid"] for r in rows] == sorted(f"OUT-{k}" for k in RULES)
    estimates = {e["kind"]: e for e in measured[-1]["estimates"]}
    for row in rows:
        o = row["o"]
        assert o["source"] == "kcrm.mine" and o["computedAt"] and o["ingestedAt"] and o["method"]
        assert o["uplift"] == estimates[o["actionKind"]]["uplift"] and o["ciLow"] < o["uplift"] < o["ciHigh"]
        assert o["accessGroups"] == ["key-accounts"]  # it rests on key-account orders and actions
    assert measured[1]["written"]["removed_estimates"] == 0 and measured[1]["written"]["estimates"] == len(RULES)
    windows = {kind: rule.window_days for kind, rule in RULES.items()}
    checked = graph.read(OBSERVED_BY_CYPHER, windows=windows)
    assert len(checked) == sum(e["actions"] - e["pending"] for e in estimates.values())
    assert all(r["observed"] == r["found"] for r in checked), [r for r in checked if r["observed"] != r["found"]][:5]
    stamps = graph.read("MATCH (a:Action) WHERE a.outcomeObserved IS NOT NULL "
                        "RETURN collect(DISTINCT a.computedBy) AS by, count(DISTINCT a.computedAt) AS stamps")[0]
    assert stamps == {"by": ["kcrm.mine"], "stamps": 1}


def test_get_outcomes_serves_the_stored_estimates(measured, api) -> None:
    body = api.get("/v1/outcomes").json()
    assert body["source"] == "kcrm.mine" and body["computedAt"] and "matching" in body["method"]
    mined = {e["kind"]: e for e in measured[-1]["estimates"]}
    for item in body["items"]:
        e = mined[item["kind"]]
        assert (item["uplift"], item["ciLow"], item["ciHigh"], item["matched"]) == (
            e["uplift"], e["ciLow"], e["ciHigh"], e["matched"])


def test_post_action_records_a_fact_with_provenance(measured, api, graph, public_customer) -> None:
    body = {"kind": "retention-call", "customer": public_customer["customer"],
            "employee": public_customer["employee"], "actedAt": "2026-10-30T10:30:00+00:00",
            "description": "Called after the churn warning."}
    made = api.post("/v1/actions", json=body)
    assert made.status_code == 201, made.text
    action = made.json()
    assert action["recommendation"] == "churn-warning" and action["uid"].startswith("ACT-API-")
    row = graph.read("MATCH (e:Employee)-[:PERFORMED]->(a:Action {uid: $uid})-[:ACTION_ON]->(c:Customer) "
                     "RETURN a {.*} AS a, e.uid AS e, c.uid AS c", uid=action["uid"])[0]
    assert (row["e"], row["c"]) == (body["employee"], body["customer"])
    assert row["a"]["source"] == "api:actions" and row["a"]["sourceRecord"] and row["a"]["ingestedAt"]
    assert row["a"]["actionKind"] == "retention-call" and row["a"]["actedAt"].startswith("2026-10-30T10:30")
    # its 90-day window is still open on the sample's last order: counted as pending, not measured
    pending = {e["kind"]: e for e in measure_outcomes(graph, load_ontology()).summary()["estimates"]}
    assert pending["retention-call"]["pending"] == 1


def test_post_action_problems_name_what_is_wrong(measured, api, public_customer) -> None:
    base = {"kind": "retention-call", "customer": public_customer["customer"],
            "employee": public_customer["employee"], "actedAt": "2026-10-30T10:30:00+00:00"}
    missing = api.post("/v1/actions", json={**base, "customer": "CUS-NOPE"})
    assert missing.status_code == 404 and "CUS-NOPE" in missing.json()["detail"]
    assert missing.headers["content-type"].startswith("application/problem+json")
    offer = api.post("/v1/actions", json={**base, "kind": "crosssell-offer"})
    assert offer.status_code == 422 and "product" in offer.text
    assert api.post("/v1/actions", json={**base, "kind": "phone-survey"}).status_code == 422
    naive = api.post("/v1/actions", json={**base, "actedAt": "2026-10-30T10:30:00"})
    assert naive.status_code == 422 and "offset" in naive.json()["detail"]
    assert api.post("/v1/actions", json={**base, "product": "PRD-NOPE"}).status_code == 404


def test_leak_outcomes_are_for_analysts_and_trimmed_to_their_groups(measured, keys, graph) -> None:
    for role in ("agent", "expert"):
        denied = keys[role].get("/v1/outcomes")
        assert denied.status_code == 403 and "analyst" in denied.json()["detail"]
    team = keys["team"].get("/v1/outcomes").json()
    assert team["source"] == "kcrm.mine"  # holds key-accounts: the stored figures
    outsider = keys["analyst"].get("/v1/outcomes").json()
    assert outsider["source"] == "computed"  # the stored figures rest on key-account records
    visible = {r["kind"]: r["n"] for r in graph.read(  # counted now: actions recorded over HTTP included
        "MATCH (a:Action) WHERE a.accessGroups IS NULL RETURN a.actionKind AS kind, count(*) AS n")}
    restricted = graph.read("MATCH (a:Action) WHERE 'key-accounts' IN a.accessGroups RETURN count(*) AS n")[0]["n"]
    assert restricted > 0
    assert {i["kind"]: i["actions"] for i in outsider["items"]} == visible
    mined = graph.read("MATCH (a:Action) WHERE a.source <> 'api:actions' RETURN count(*) AS n")[0]["n"]
    assert sum(i["actions"] for i in team["items"]) == mined  # the stored figures count the restricted too
    trimmed = measure_outcomes(graph, load_ontology(), Principal("t", "t", frozenset({"analyst"})))
    assert [i["uplift"] for i in outsider["items"]] == [e.as_dict()["uplift"] for e in trimmed.estimates.values()]
    for who in ("agent", "analyst"):  # nor through the entity page: mined for one, restricted for the other
        assert keys[who].get("/v1/entities/OUT-retention-call").status_code == 404
    assert keys["team"].get("/v1/entities/OUT-retention-call").status_code == 200


def test_leak_actions_on_hidden_customers_cannot_be_recorded_or_read(measured, keys, graph, confidential) -> None:
    hidden_customer = confidential["uid"]
    employee = graph.read("MATCH (e:Employee)-[:OWNS]->(:Customer {uid: $c}) RETURN e.uid AS uid",
                          c=hidden_customer)[0]["uid"]
    body = {"kind": "retention-call", "customer": hidden_customer, "employee": employee,
            "actedAt": "2026-10-29T09:00:00+00:00"}
    hidden = keys["agent"].post("/v1/actions", json=body)
    assert hidden.status_code == 404 and hidden_customer in hidden.json()["detail"]  # as if it did not exist
    assert keys["expert"].post("/v1/actions", json=body).status_code == 403
    made = keys["team"].post("/v1/actions", json=body)
    assert made.status_code == 201 and made.json()["accessGroups"] == ["key-accounts"]
    uid = made.json()["uid"]
    assert keys["agent"].get(f"/v1/entities/{uid}").status_code == 404
    assert keys["team"].get(f"/v1/entities/{uid}").status_code == 200
    public = graph.read("MATCH (a:Action) WHERE a.accessGroups IS NULL AND a.outcomeObserved IS NOT NULL "
                        "RETURN a.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]
    seen = keys["agent"].get(f"/v1/entities/{public}").json()
    assert seen["uid"] == public and "outcomeObserved" not in seen["properties"]  # a mined figure
    assert "outcomeObserved" in keys["team"].get(f"/v1/entities/{public}").json()["properties"]


def test_actions_ingest_from_a_csv_through_the_shipped_mapping(measured, graph, e2e_settings, tmp_path: Path) -> None:
    pair = graph.read("MATCH (e:Employee)-[:OWNS]->(c:Customer) WHERE c.accessGroups IS NULL "
                      "RETURN c.uid AS c, e.uid AS e ORDER BY c.uid LIMIT 2")
    product = graph.read("MATCH (p:Product) RETURN p.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]
    rows = ["action_id,kind,customer_id,employee_id,acted_at,recommendation,product_id,campaign_id,note",
            f"ACT-CSV-0001,retention-call,{pair[0]['c']},{pair[0]['e']},2026-10-20T10:00:00+00:00,churn-warning,,,"
            "Called about the renewal",
            f"ACT-CSV-0002,crosssell-offer,{pair[1]['c']},{pair[1]['e']},2026-10-21 11:00:00+08:00,cross-sell,"
            f"{product},CMP-0009,Offered with the campaign",
            f"ACT-CSV-0003,phone-survey,{pair[1]['c']},{pair[1]['e']},2026-10-21T11:00:00+00:00,cross-sell,,,"]
    path = tmp_path / "actions.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    try:
        result = workflows.ingest(e2e_settings, graph, path, mapping="actions", source="outtest-csv")
        assert [(p.uid, p.field) for p in result.rejected] == [("ACT-CSV-0003", "props.actionKind")]
        found = graph.read(
            "MATCH (e:Employee)-[:PERFORMED]->(a:Action {source: 'outtest-csv'})-[:ACTION_ON]->(c:Customer) "
            "OPTIONAL MATCH (a)-[:OFFERED]->(p:Product) OPTIONAL MATCH (a)-[:FOLLOWS]->(k:Campaign) "
            "RETURN a.uid AS uid, a.actionKind AS kind, a.actedAt AS at, c.uid AS c, e.uid AS e, p.uid AS p, "
            "k.uid AS k, a.sourceRecord AS record ORDER BY uid")
        assert [(r["uid"], r["kind"], r["c"], r["e"], r["p"], r["k"]) for r in found] == [
            ("ACT-CSV-0001", "retention-call", pair[0]["c"], pair[0]["e"], None, None),
            ("ACT-CSV-0002", "crosssell-offer", pair[1]["c"], pair[1]["e"], product, "CMP-0009")]
        assert found[1]["at"].startswith("2026-10-21T") and all(r["record"] for r in found)
    finally:
        graph.write("MATCH (a:Action {source: 'outtest-csv'}) DETACH DELETE a")
