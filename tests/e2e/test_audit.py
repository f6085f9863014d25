"""The audit log over real HTTP and the CLI: who searched for what, read which customer, changed what."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _entries(api: httpx.Client, **params) -> list[dict]:
    response = api.get("/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def _wait_for(api: httpx.Client, **params) -> list[dict]:
    """The entry is written just after the answer is sent: give it a moment."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if found := _entries(api, **params):
            return found
        time.sleep(0.1)
    return []


@pytest.fixture(scope="module")
def customer(graph) -> str:
    return graph.read("MATCH (c:Customer) RETURN c.uid AS uid ORDER BY uid DESC LIMIT 1")[0]["uid"]


def test_searches_and_customer_reads_are_recorded_with_who_and_what(api: httpx.Client, api_url: str, make_key,
                                                                   customer: str) -> None:
    name = f"desk-{uuid.uuid4().hex[:8]}"
    key = make_key(roles=["agent"], name=name)
    words = f"refund {uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=api_url, headers={"X-API-Key": key}, timeout=60) as agent:
        assert agent.get("/v1/search", params={"q": words, "k": 3, "status": "open"}).status_code == 200
        assert agent.get(f"/v1/customers/{customer}/360").status_code == 200
        assert agent.get("/v1/audit").status_code == 403  # an agent cannot read the log...
    searched = _wait_for(api, principal=name, action="search")
    assert len(searched) == 1
    entry = searched[0]
    assert entry["target"] == words and entry["detail"]["q"] == words and entry["detail"]["status"] == "open"
    assert entry["status"] == 200 and entry["method"] == "GET" and entry["key_id"] == key.split("_")[1]
    read = _wait_for(api, principal=name, action="customer.read")
    assert [e["target"] for e in read] == [customer]
    denied = _wait_for(api, principal=key.split("_")[1], action="audit.read")  # ...and trying is recorded
    assert [e["status"] for e in denied] == [403]


def test_ingest_and_key_changes_are_recorded(api: httpx.Client, api_url: str, make_key, cli_env) -> None:
    name = f"loader-{uuid.uuid4().hex[:8]}"
    key = make_key(roles=["app"], name=name)
    files = [("files", ("note.txt", b"An audit test note, not customer data.", "text/plain"))]
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as app:
        accepted = app.post("/v1/ingest", files=files, data={"dry_run": "true", "source": "audit-test"})
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    started = _wait_for(api, principal=name, action="ingest.start")
    assert len(started) == 1
    assert started[0]["target"] == job_id and started[0]["detail"]["files"] == ["note.txt"]
    assert started[0]["detail"]["dry_run"] is True and started[0]["status"] == 202

    env = cli_env
    created = subprocess.run([sys.executable, "-m", "kcrm.cli", "keys", "create", "--name", f"{name}-2",
                              "--role", "expert", "--group", "hr", "--json"],
                             env=env, capture_output=True, text=True, timeout=120, check=True)
    key_id = json.loads(created.stdout)["key_id"]
    made = _entries(api, action="key.create", target=key_id)
    assert len(made) == 1 and made[0]["principal"].startswith("cli:")
    assert made[0]["detail"]["roles"] == ["expert"] and made[0]["detail"]["groups"] == ["hr"]

    cli = subprocess.run([sys.executable, "-m", "kcrm.cli", "audit", "--principal", name, "--json"],
                         env=env, capture_output=True, text=True, timeout=120, check=True)
    actions = [json.loads(line)["action"] for line in cli.stdout.splitlines()]
    assert actions == ["ingest.start"]


def test_filters_since_and_limit(api: httpx.Client) -> None:
    api.get("/v1/search", params={"q": "printer", "k": 1})
    assert len(_entries(api, limit=2)) == 2
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert _entries(api, since=future) == []
    recent = _entries(api, since=(datetime.now(UTC) - timedelta(minutes=30)).isoformat(), action="search", limit=5)
    assert recent and all(e["action"] == "search" for e in recent)
    assert [e["id"] for e in recent] == sorted((e["id"] for e in recent), reverse=True)
    bad = api.get("/v1/audit", params={"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()["detail"]
    assert api.get("/v1/audit", params={"limit": 0}).status_code == 422
