"""A planted customer, exported and then erased from every store, through the real stack.

Distinctive strings (a name, an e-mail, a phone, a phrase in a case) are ingested over HTTP with
a subscription watching them and a webhook that cannot be reached, so they land in the graph, the
published search generation, the ingest report and quarantine, and the alert store. The export
must contain each string; after `POST /v1/customers/{uid}/erase` no file of the data dir (outside
Neo4j's own store, see docs/operations.md), no node of the graph, no GET route of the API and no
search may show any of them, and a re-ingest of the same file must not bring the customer back.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kcrm.kg.suppression import unsuppress

pytestmark = pytest.mark.e2e

UID = "PLANT-CUS-1"
NAME = "Quillon Vexbridge"
EMAIL = "quillon.vexbridge@zorbamail.example"
PHONE = "+442079460917"
PHRASE = "grumblewick toaster calibration"
STRINGS = (NAME, EMAIL, PHONE, PHRASE)
UIDS = ("PLANT-CUS-1", "PLANT-CUS-2", "PLANT-CASE-1", "PLANT-CASE-2", "PLANT-CASE-3", "PLANT-ORD-1")
CLEANUP = "MATCH (n) WHERE n.uid STARTS WITH 'PLANT-' CALL (n) { DETACH DELETE n }"


def planted_file(product: str) -> bytes:
    """The source file: the customer, its order and case, a case shared with another customer, a
    case of another customer that quotes it, and a broken copy of it that goes to quarantine."""
    case = {"status": "open", "priority": "high", "openedAt": "2026-11-20T09:00:00+00:00", "language": "en"}
    rows = [
        {"type": "Customer", "uid": UID, "props": {"name": NAME, "email": EMAIL, "phone": PHONE, "country": "UK"}},
        {"type": "Customer", "uid": "PLANT-CUS-2", "props": {"name": "Orvald Tressingham", "country": "UK"}},
        {"type": "SupportCase", "uid": "PLANT-CASE-1",
         "props": {**case, "title": "Toaster drifts after firmware update",
                   "description": f"{NAME} reports that the {PHRASE} fails; call back on {PHONE}."},
         "rels": [{"type": "RAISED", "from": UID, "from_type": "Customer"}]},
        {"type": "SupportCase", "uid": "PLANT-CASE-2",
         "props": {**case, "title": "Joint escalation of two accounts",
                   "description": f"Raised together by {NAME} and Orvald Tressingham about the {PHRASE}."},
         "rels": [{"type": "RAISED", "from": UID, "from_type": "Customer"},
                  {"type": "RAISED", "from": "PLANT-CUS-2", "from_type": "Customer"}]},
        {"type": "SupportCase", "uid": "PLANT-CASE-3",
         "props": {**case, "title": "Reference call requested",
                   "description": f"Orvald asked to speak to {NAME} ({EMAIL}) as a reference customer."},
         "rels": [{"type": "RAISED", "from": "PLANT-CUS-2", "from_type": "Customer"}]},
        {"type": "Transaction", "uid": "PLANT-ORD-1",
         "props": {"orderNumber": "PLANT-0001", "orderedAt": "2026-11-01T10:00:00+00:00", "total": 120.0,
                   "currency": "GBP"},
         "rels": [{"type": "PLACED", "from": UID, "from_type": "Customer"},
                  {"type": "CONTAINS", "to": product, "to_type": "Product", "props": {"quantity": 2}}]},
        {"type": "Customer", "uid": "PLANT-CUS-BAD", "props": {"name": NAME, "email": f"{EMAIL} (old)"}},
    ]
    return "\n".join(json.dumps(row) for row in rows).encode()


def wait_until(check, timeout: float = 180.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def ingest(api: httpx.Client, data: bytes) -> dict:
    files = [("files", ("planted.jsonl", data, "application/x-ndjson"))]
    job = api.post("/v1/ingest", files=files, data={"source": "planted"})
    assert job.status_code == 202, job.text
    return wait_until(lambda: (b := api.get(job.json()["status_url"]).json())["status"] in ("succeeded", "failed")
                      and b)


def found_in(text: str) -> list[str]:
    """Which planted strings (or their JSON-escaped forms, any case) a text contains."""
    low = text.lower()
    return [s for s in STRINGS if s.lower() in low or json.dumps(s)[1:-1].lower() in low]


def grep_data_dir(data_dir: Path) -> list[str]:
    """Files of the data dir holding a planted string; Neo4j's own store is outside (docs/operations.md)."""
    hits = []
    needles = [v.encode() for s in STRINGS for v in {s, s.lower(), json.dumps(s)[1:-1]}]
    for path in data_dir.rglob("*"):
        if not path.is_file() or (data_dir / "neo4j") in path.parents:
            continue
        data = path.read_bytes()
        if any(n in data for n in needles) or any(n in data.lower() for n in needles):
            hits.append(str(path.relative_to(data_dir)))
    return hits


def clean(graph) -> None:
    graph.write(CLEANUP)
    unsuppress(graph, [("Customer", UID), ("SupportCase", "PLANT-CASE-1"), ("SupportCase", "PLANT-CASE-2"),
                       ("Transaction", "PLANT-ORD-1")])


@pytest.fixture
def planted(api: httpx.Client, graph, loaded) -> Iterator[dict]:
    clean(graph)
    product = graph.read("MATCH (p:Product) RETURN p.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]
    watch = api.post("/v1/subscriptions", json={"query": "grumblewick", "webhook_url": "http://127.0.0.1:9/hook"})
    assert watch.status_code == 201, watch.text
    status = ingest(api, planted_file(product))
    assert status["status"] == "succeeded", status
    entity_watch = api.post("/v1/subscriptions", json={"entity": UID})
    assert entity_watch.status_code == 201, entity_watch.text
    yield {"product": product, "watch": watch.json()["id"], "entity_watch": entity_watch.json()["id"]}
    for sub in (watch.json()["id"], entity_watch.json()["id"]):
        api.delete(f"/v1/subscriptions/{sub}")
    clean(graph)


def answer_text(response: httpx.Response) -> str:
    """The response without its echo of the request (`query`): what the service found, not what was asked."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("query", "instance")}
    return json.dumps(body, ensure_ascii=False)


def every_get_route(api: httpx.Client) -> Iterator[tuple[str, httpx.Response]]:
    """Each GET operation of the OpenAPI document, path parameters filled with the planted uids and
    each planted string in its text parameters. The audit log is left out: it records what callers
    typed, this test's own searches included (docs/operations.md says so)."""
    spec = api.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        op = ops.get("get")
        if op is None or path in ("/openapi.json", "/v1/audit"):
            continue
        params = op.get("parameters", [])
        text_params = [p["name"] for p in params if p["in"] == "query" and p["name"] in ("q", "query", "prefix")]
        fills = UIDS if "{" in path else ("",)
        for uid in fills:
            url = re.sub(r"\{[^}]+\}", uid, path)
            for value in STRINGS if text_params else (None,):
                query = {name: value for name in text_params} if value else {}
                yield f"GET {url} {query}", api.get(url, params=query, timeout=60)


def test_planted_customer_is_exported_then_erased_everywhere(api, planted, graph, e2e_settings, make_key) -> None:
    assert found_in(graph.read("MATCH (c:Customer {uid: $uid}) RETURN c.email AS e", uid=UID)[0]["e"])
    # planted in every store first: graph, search, ingest report/quarantine, alerts
    assert wait_until(lambda: "PLANT-CASE-1" in api.get("/v1/search", params={"q": "grumblewick"}).text)
    assert grep_data_dir(e2e_settings.data_dir), "the ingest report and quarantine should hold the strings"
    assert wait_until(lambda: found_in(api.get("/v1/alerts", params={"subscription": planted["watch"]}).text))

    export = api.get(f"/v1/customers/{UID}/export")
    assert export.status_code == 200, export.text
    assert set(found_in(export.text)) == set(STRINGS)
    body = export.json()
    assert {n["uid"] for n in body["nodes"]} >= {"PLANT-CASE-1", "PLANT-CASE-2", "PLANT-ORD-1"}
    assert body["subject"]["properties"]["source"] == "planted"
    turtle = api.get(f"/v1/customers/{UID}/export", params={"format": "turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle") and set(found_in(turtle.text)) == set(STRINGS)

    agent = {"Authorization": f"Bearer {make_key(roles=('agent', 'analyst'), all_groups=True)}"}
    officer = {"Authorization": f"Bearer {make_key(roles=('privacy',), all_groups=True)}"}
    assert api.get(f"/v1/customers/{UID}/export", headers=agent).status_code == 403
    assert api.post(f"/v1/customers/{UID}/erase", headers=agent).status_code == 403
    assert api.post(f"/v1/customers/{UID}/erase", headers=officer).status_code == 403
    assert set(found_in(api.get(f"/v1/customers/{UID}/export", headers=officer).text)) == set(STRINGS)

    dry = api.post(f"/v1/customers/{UID}/erase", params={"dry_run": True})
    assert dry.status_code == 200, dry.text
    plan = dry.json()
    assert {d["uid"] for d in plan["graph"]["deleted"]} == {UID, "PLANT-CASE-1"}, plan
    assert {k["uid"] for k in plan["graph"]["kept_pseudonymised"]} == {"PLANT-CASE-2", "PLANT-ORD-1"}
    assert "PLANT-CASE-3" in {r["uid"] for r in plan["graph"]["redacted"]}
    assert plan["files"]["files"] > 0 and plan["alerts"]["notifications"] > 0 and plan["search"]["remove"] >= 1
    assert not found_in(dry.text)
    assert api.get(f"/v1/customers/{UID}/360").status_code == 200  # the dry run changed nothing

    erased = api.post(f"/v1/customers/{UID}/erase")
    assert erased.status_code == 200, erased.text
    assert erased.json()["search"]["removed"] >= 1 and erased.json()["suppressed"] == 4

    assert grep_data_dir(e2e_settings.data_dir) == []
    quoting = graph.read("MATCH (n) WHERE any(k IN keys(n) WHERE n[k] IS :: STRING AND "
                         "any(s IN $strings WHERE toLower(n[k]) CONTAINS toLower(s))) RETURN n.uid AS uid",
                         strings=list(STRINGS))
    assert quoting == []
    kept = graph.read("MATCH (n) WHERE n.uid IN ['PLANT-ORD-1', 'PLANT-CASE-2', 'PLANT-CASE-3', 'PLANT-CUS-2'] "
                      "RETURN n.uid AS uid")
    assert {row["uid"] for row in kept} == {"PLANT-ORD-1", "PLANT-CASE-2", "PLANT-CASE-3", "PLANT-CUS-2"}
    assert api.get(f"/v1/customers/{UID}/360").status_code == 404
    leaks = [(what, found_in(answer_text(response))) for what, response in every_get_route(api)
             if found_in(answer_text(response))]
    assert leaks == [], leaks
    subs = {s["id"] for s in api.get("/v1/subscriptions").json()}
    assert planted["entity_watch"] not in subs and planted["watch"] in subs

    audit = api.get("/v1/audit", params={"action": "subject.erase", "target": UID}).json()["entries"]
    assert audit and audit[0]["detail"]["deleted"] == 2 and not found_in(json.dumps(audit))

    again = ingest(api, planted_file(planted["product"]))
    assert again["status"] == "succeeded", again
    assert graph.read("MATCH (n) WHERE n.uid IN [$uid, 'PLANT-CASE-1'] RETURN n.uid AS uid", uid=UID) == []
    back = graph.read("MATCH (n) WHERE n.uid IN ['PLANT-CASE-2', 'PLANT-ORD-1'] RETURN n.description AS d")
    assert len(back) == 2 and not any(found_in(row["d"] or "") for row in back)


def test_dry_run_on_a_sample_customer_lists_every_store_and_changes_nothing(api, graph, loaded, e2e_settings,
                                                                            cli_env) -> None:
    uid = graph.read("MATCH (c:Customer)-[:RAISED]->() RETURN c.uid AS uid ORDER BY uid LIMIT 1")[0]["uid"]
    before = graph.read("MATCH (c:Customer {uid: $uid})--(n) RETURN count(n) AS n", uid=uid)[0]["n"]
    result = subprocess.run([sys.executable, "-m", "kcrm.cli", "subject", "erase", uid, "--dry-run"], env=cli_env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and set(report) >= {"graph", "search", "files", "alerts", "suppressed"}
    assert report["graph"]["deleted"][0] == {"type": "Customer", "uid": uid}
    assert report["graph"]["kept_pseudonymised"] and report["search"]["remove"] >= 1
    after = graph.read("MATCH (c:Customer {uid: $uid})--(n) RETURN count(n) AS n", uid=uid)[0]["n"]
    assert after == before
