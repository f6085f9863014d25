"""The hostile-input suite (issue 13): each case against the real server, with /healthz watched meanwhile.

Every case must end in a precise 4xx problem (its status and a phrase of its detail are checked)
or, for an upload, in a job that finishes with a precise rejection in its report. While each
runs, `GET /healthz` is asked again and again with a 1 s timeout (a frozen server fails the
case), no answer may be a 500, and after the whole suite the graph and the index hold exactly
what they held before: none of these inputs is valid.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.unit.test_isolation import docx_bomb

pytestmark = pytest.mark.e2e

KB = 1024


@dataclass
class Clients:
    admin: httpx.Client
    agent: httpx.Client
    app: httpx.Client
    url: str


@dataclass(frozen=True)
class Case:
    """One hostile request: what to send, and the 4xx and detail phrase it must get."""

    send: Callable[[Clients], httpx.Response]
    status: int | tuple[int, ...]
    phrase: str = ""
    problem: bool = True  # False where the HTTP parser refuses the request before the app sees it
    reset_ok: bool = False  # the HTTP parser may also hang up on it (what uvicorn does with huge headers)


@dataclass(frozen=True)
class Upload:
    """One hostile upload: accepted as a job (202), which finishes with this rejection in its report."""

    files: list[tuple[str, bytes]]
    phrase: str
    data: dict[str, str] = field(default_factory=dict)


def _chunks(total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * 64 * KB
        sent += 64 * KB


def _json_bytes(c: httpx.Client, path: str, body: bytes) -> httpx.Response:
    return c.post(path, content=body, headers={"Content-Type": "application/json"})


def _upload(c: httpx.Client, names: list[str], data: dict[str, str] | None = None) -> httpx.Response:
    return c.post("/v1/ingest", files=[("files", (n, b"name\nx\n", "text/csv")) for n in names], data=data or {})


def _laughs() -> bytes:
    """The billion laughs: ten entities, each ten of the one before."""
    entities = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    return f'<?xml version="1.0"?><!DOCTYPE r [{"".join(entities)}]><r><c>&l9;</c></r>'.encode()


def _deep_json_file() -> bytes:
    return ("[" * 100_000 + "]" * 100_000).encode()


def _native(props: dict[str, Any], uid: str = "HOSTILE-C1", kind: str = "Customer") -> bytes:
    return (json.dumps({"type": kind, "uid": uid, "props": props}, ensure_ascii=False) + "\n").encode()


HTTP_CASES: dict[str, Case] = {
    # bodies: small for JSON routes, large only for ingest and only for the app role (finding 2)
    "json body over the route limit (Content-Length)": Case(
        lambda c: _json_bytes(c.agent, "/v1/cases/assist", b"{" + b" " * 300 * KB + b"}"), 413, "KCRM_API_MAX_BODY_KB"),
    "json body over the route limit (chunked)": Case(
        lambda c: c.agent.post("/v1/cases/assist", content=_chunks(400 * KB),
                               headers={"Content-Type": "application/json"}), 413, "KCRM_API_MAX_BODY_KB"),
    "subscription body over the route limit": Case(
        lambda c: _json_bytes(c.agent, "/v1/subscriptions", b'{"query": "' + b"a" * 300 * KB + b'"}'), 413,
        "KCRM_API_MAX_BODY_KB"),
    "large upload from a role that may not ingest": Case(
        lambda c: c.agent.post("/v1/ingest", files=[("files", ("a.csv", b"x" * 2 * KB * KB, "text/csv"))]), 403,
        "roles ['app']"),
    "deep JSON body": Case(lambda c: _json_bytes(c.agent, "/v1/cases/assist", b"[" * 100_000 + b"]" * 100_000),
                           (400, 422)),
    "malformed JSON body": Case(lambda c: _json_bytes(c.agent, "/v1/cases/assist", b'{"text": "a'), 422),
    "assist text over its length": Case(lambda c: c.agent.post("/v1/cases/assist", json={"text": "a" * 20_001}),
                                        422, "20000"),
    # query strings and integers (finding 15 and our own)
    "huge query text": Case(lambda c: c.agent.get("/v1/search", params={"q": "a" * 5000}), 422,
                            "KCRM_API_MAX_QUERY_CHARS"),
    "after_id past 2^63": Case(lambda c: c.agent.get("/v1/alerts", params={"after_id": "100000000000000000000"}),
                               422, "after_id"),
    "k past 2^63": Case(lambda c: c.agent.get("/v1/search", params={"q": "printer", "k": str(2**64)}), 422,
                        "KCRM_API_MAX_PAGE_SIZE"),
    "audit limit past 2^63": Case(lambda c: c.admin.get("/v1/audit", params={"limit": str(2**70)}), 422, "limit"),
    "max_hops past 2^63": Case(lambda c: c.agent.get("/v1/paths", params={"from": "A", "to": "B",
                                                                         "max_hops": str(2**64)}), 422),
    "audit since before year 1 in UTC": Case(
        lambda c: c.admin.get("/v1/audit", params={"since": "0001-01-01T00:00:00+01:00"}), 400, "years 1 to 9999"),
    "audit since after year 9999 in UTC": Case(
        lambda c: c.admin.get("/v1/audit", params={"since": "9999-12-31T23:59:59-01:00"}), 400, "years 1 to 9999"),
    "negative page size": Case(lambda c: c.agent.get("/v1/search", params={"q": "printer", "k": "-1"}), 422),
    # headers
    "overlong API key header": Case(lambda c: httpx.get(f"{c.url}/v1/search?q=a",
                                                        headers={"X-API-Key": "k" * 200 * KB}),
                                    (400, 401, 413, 431), problem=False, reset_ok=True),
    "control characters in the API key": Case(lambda c: httpx.get(f"{c.url}/v1/search?q=a",
                                                                   headers={"X-API-Key": "abc\tdef"}), 401,
                                              "unknown, malformed or revoked"),
    # upload names and the mapping field (finding 15)
    "upload name of 100 CJK characters": Case(lambda c: _upload(c.app, ["客" * 100 + ".csv"]), 422,
                                              "file name limit of 255"),
    "upload name of 300 letters": Case(lambda c: _upload(c.app, ["a" * 300 + ".csv"]), 422, "refused upload name"),
    "upload name with a control character": Case(lambda c: _upload(c.app, ["a\x01b.csv"]), 422,
                                                 "refused upload name"),
    "upload name with a right-to-left override": Case(lambda c: _upload(c.app, ["\u202evsc.exe"]), 422,
                                                      "refused upload name"),
    "upload name '..'": Case(lambda c: _upload(c.app, [".."]), 422, "refused upload name"),
    "two uploads of one name": Case(lambda c: _upload(c.app, ["a.csv", "a.csv"]), 422, "same name"),
    "mapping that is a path": Case(lambda c: _upload(c.app, ["a.csv"], {"mapping": "../../etc/passwd"}), 422,
                                   "shipped mapping"),
    "mapping that is an absolute path": Case(lambda c: _upload(c.app, ["a.csv"], {"mapping": "/etc/hostname"}), 422,
                                             "shipped mapping"),
    "mapping of 300 characters": Case(lambda c: _upload(c.app, ["a.csv"], {"mapping": "m" * 300}), 422, "mapping"),
    "mapping naming a file in the working directory": Case(
        lambda c: _upload(c.app, ["a.csv"], {"mapping": "pyproject"}), 422, "shipped mapping"),
    "mapping form value over the part limit": Case(
        lambda c: _upload(c.app, ["a.csv"], {"mapping": "m" * 2 * KB * KB}), (400, 413, 422)),
    "ingest without multipart": Case(lambda c: _json_bytes(c.app, "/v1/ingest", b"{}"), 422),
    # webhook targets (finding 10); the test server allows only 127.0.0.1 itself
    "webhook to another loopback address": Case(
        lambda c: c.agent.post("/v1/subscriptions", json={"warnings": True, "webhook_url": "http://127.0.0.2:7474/"}),
        422, "loopback"),
    "webhook to IPv6 loopback": Case(
        lambda c: c.agent.post("/v1/subscriptions", json={"warnings": True, "webhook_url": "http://[::1]:7687/"}),
        422, "loopback"),
    "webhook to the metadata address": Case(
        lambda c: c.agent.post("/v1/subscriptions", json={"warnings": True,
                                                         "webhook_url": "http://169.254.169.254/latest/meta-data/"}),
        422, "link-local"),
    "webhook to the metadata host name": Case(
        lambda c: c.agent.post("/v1/subscriptions", json={"warnings": True,
                                                         "webhook_url": "http://metadata.google.internal/"}),
        422, "metadata"),
    "webhook to a private network": Case(
        lambda c: c.agent.post("/v1/subscriptions", json={"warnings": True, "webhook_url": "http://10.0.0.7/x"}),
        422, "private"),
    "webhook to 0.0.0.0": Case(
        lambda c: c.agent.post("/v1/subscriptions", json={"warnings": True, "webhook_url": "http://0.0.0.0:8000/"}),
        422, "unspecified"),
    "webhook with credentials": Case(
        lambda c: c.agent.post("/v1/subscriptions", json={"warnings": True,
                                                         "webhook_url": "http://u:p@127.0.0.1:9/"}),
        422, "user name"),
    "admin subscriptions with an agent key": Case(lambda c: c.agent.get("/v1/admin/subscriptions"), 403, "admin"),
}

UPLOADS: dict[str, Upload] = {
    "DOCX zip bomb": Upload([], "memory limit of 256 MiB (KCRM_INGEST_PARSE_MAX_MB)"),
    "XML billion laughs": Upload([("laughs.xml", _laughs())], "entit"),
    "XML external entity": Upload([("xxe.xml", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
                                               b'"file:///etc/passwd">]><r><c>&x;</c></r>')], "entit"),
    "deeply nested JSON file": Upload([("deep.json", _deep_json_file())], "nested too deeply"),
    "e-mail cell of dots": Upload([("dots.jsonl", _native({"name": "Dot", "email": "a@" + "." * 200_000 + "@"}))],
                                  "email"),
    "uid with a right-to-left override": Upload([("rtl.jsonl", _native({"name": "R"}, uid="CUS-\u202e1"))],
                                                "RIGHT-TO-LEFT OVERRIDE"),
    "cell over the field limit": Upload([("big.jsonl", _native({"name": "n" * 2_000_000}))], "field limit"),
    "binary junk as CSV": Upload([("junk.csv", bytes(range(256)) * 64)], "cannot tell the encoding"),
    "binary junk as JSON lines": Upload([("junk.jsonl", b"\x00\xff" * 5000)], "junk.jsonl"),
    "a file no mapping source matches": Upload([("junk.csv", b"a,b\n1,2\n")], "no source of mapping 'northwind'",
                                               {"mapping": "northwind"}),
    "an unknown format": Upload([("tool.exe", b"MZ\x90\x00")], "no reader for this file extension"),
    "control characters in a uid": Upload([("ctl.jsonl", _native({"name": "C"}, uid="CUS-\x07\x1b[31m"))],
                                          "U+0007"),
}


@pytest.fixture(scope="module")
def clients(api: httpx.Client, api_url: str, make_key) -> Iterator[Clients]:
    agent = httpx.Client(base_url=api_url, headers={"X-API-Key": make_key(("agent",), ("public",))}, timeout=60)
    app = httpx.Client(base_url=api_url, headers={"X-API-Key": make_key(("app",), all_groups=True)}, timeout=120)
    yield Clients(api, agent, app, api_url)
    agent.close()
    app.close()


def _state(graph, api: httpx.Client) -> dict[str, Any]:
    """What the graph and the index hold: node and relationship counts, and indexed items per type."""
    counts = graph.read("MATCH (n) WHERE NOT n:KcrmService WITH count(n) AS nodes "
                        "OPTIONAL MATCH (a)-[r]->() WHERE NOT a:KcrmService RETURN nodes, count(r) AS rels")[0]
    index = {t: api.get("/v1/search", params={"q": f"type:{t}", "k": 1}).json()["total"]
             for t in ("SupportCase", "Document", "Policy", "IndustryRule")}
    return {"nodes": counts["nodes"], "rels": counts["rels"], "index": index}


@pytest.fixture(scope="module")
def unchanged(graph, api: httpx.Client) -> Iterator[None]:
    """The graph and the index after the suite are what they were before it."""
    before = _state(graph, api)
    yield
    assert _state(graph, api) == before


def _while_healthy(url: str, work: Callable[[], Any]) -> Any:
    """Run `work` on a thread while /healthz is asked with a 1 s timeout; its result (or its exception)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # re-raised below, on the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    asked = 0
    with httpx.Client(base_url=url, timeout=1.0) as probe:
        while thread.is_alive() or asked == 0:
            assert probe.get("/healthz").status_code == 200  # a timeout here means the server froze
            asked += 1
            thread.join(0.1)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.parametrize("name", list(HTTP_CASES))
def test_hostile_request_gets_a_precise_4xx(name: str, clients: Clients, unchanged) -> None:
    case = HTTP_CASES[name]
    try:
        response = _while_healthy(clients.url, lambda: case.send(clients))
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        assert case.reset_ok, "the server hung up on a request it should have answered"
        return
    allowed = case.status if isinstance(case.status, tuple) else (case.status,)
    assert response.status_code in allowed, (response.status_code, response.text[:500])
    if case.problem:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text[:300]
        assert case.phrase in response.json()["detail"], response.json()


def _wait(client: httpx.Client, job_id: str, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 240
    with httpx.Client(base_url=url, timeout=1.0) as probe:
        while time.monotonic() < deadline:
            assert probe.get("/healthz").status_code == 200
            body = client.get(f"/v1/ingest/{job_id}").json()
            if body["status"] in ("succeeded", "failed"):
                return body
            time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.mark.parametrize("name", list(UPLOADS))
def test_hostile_upload_is_rejected_in_the_report(name: str, clients: Clients, unchanged, tmp_path: Path) -> None:
    upload = UPLOADS[name]
    files = upload.files or [("bomb.docx", docx_bomb(tmp_path / "bomb.docx", 10_000_000).read_bytes())]
    data = {"source": "hostile-suite", **upload.data}
    response = _while_healthy(clients.url, lambda: clients.app.post(
        "/v1/ingest", files=[("files", (n, body)) for n, body in files], data=data))
    assert response.status_code == 202, response.text[:500]
    job = _wait(clients.app, response.json()["job_id"], clients.url)
    assert job["status"] == "succeeded", job.get("error") or job
    assert job["summary"]["accepted"]["records"] == 0, job["summary"]
    refusals = [f"{r['source']} {r['field']} {r['reason']}" for r in job["rejected"]]
    refusals += [f"{s['source']} skipped: {s['reason']}" for s in job["summary"]["skipped"]]
    assert any(upload.phrase in text for text in refusals), refusals


def test_subscriptions_per_key_are_capped(api_url: str, make_key) -> None:
    from kcrm.foundation.config import Settings

    cap = Settings().alerts_max_subscriptions
    with httpx.Client(base_url=api_url, headers={"X-API-Key": make_key(("agent",), ("public",))}) as agent:
        for n in range(cap):
            assert agent.post("/v1/subscriptions", json={"query": f"printer{n}"}).status_code == 201
        over = agent.post("/v1/subscriptions", json={"query": "one more"})
        assert over.status_code == 409 and "KCRM_ALERTS_MAX_SUBSCRIPTIONS" in over.json()["detail"]
        held = agent.get("/v1/subscriptions").json()
        assert len(held) == cap
        for sub in held:  # later tests' ingests would evaluate every one of them
            agent.delete(f"/v1/subscriptions/{sub['id']}")


def test_revoking_a_key_removes_its_subscriptions_and_admin_sees_all(api: httpx.Client, api_url: str,
                                                                      state_settings, cli_env) -> None:
    from kcrm.security.keys import KeyStore

    plain, key = KeyStore(state_settings).create("to-revoke-subs", ["agent"], ["public"], created_by="pytest")
    with httpx.Client(base_url=api_url, headers={"X-API-Key": plain}) as agent:
        made = agent.post("/v1/subscriptions", json={"query": "printer driver",
                                                     "webhook_url": "http://127.0.0.1:9/hook"})
        assert made.status_code == 201, made.text
        sub_id = made.json()["id"]
        assert agent.get("/v1/admin/subscriptions").status_code == 403  # an agent never sees others'
    listed = api.get("/v1/admin/subscriptions", params={"owner": key.key_id}).json()
    assert [(s["id"], s["owner"], s["webhook_url"]) for s in listed] == [(sub_id, key.key_id, "http://127.0.0.1:9/hook")]
    done = subprocess.run([sys.executable, "-m", "kcrm.cli", "keys", "revoke", key.key_id], env=cli_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "removed 1 subscriptions" in done.stdout, done.stderr
    assert api.get("/v1/admin/subscriptions", params={"owner": key.key_id}).json() == []


def test_admin_removes_another_principals_subscription(api: httpx.Client, api_url: str, make_key) -> None:
    with httpx.Client(base_url=api_url, headers={"X-API-Key": make_key(("agent",), ("public",))}) as agent:
        sub_id = agent.post("/v1/subscriptions", json={"query": "refund"}).json()["id"]
        assert api.delete(f"/v1/admin/subscriptions/{sub_id}").status_code == 204
        assert [s["id"] for s in agent.get("/v1/subscriptions").json()] == []
        assert agent.delete(f"/v1/admin/subscriptions/{sub_id}").status_code == 403
    assert api.delete(f"/v1/admin/subscriptions/{sub_id}").status_code == 404


def test_a_failed_upload_leaves_no_queued_job(api: httpx.Client, e2e_settings) -> None:
    """An upload refused for its name (finding 15) must not leave a job that stays 'queued' forever."""
    root = e2e_settings.data_dir / "ingest"
    before = set(root.iterdir()) if root.is_dir() else set()
    assert _upload(api, ["客" * 100 + ".csv"]).status_code == 422
    after = set(root.iterdir()) if root.is_dir() else set()
    queued = [p for p in after - before if (p / "job.json").is_file()
              and json.loads((p / "job.json").read_text())["status"] == "queued"]
    assert queued == []


def test_the_suite_has_forty_cases() -> None:
    assert len(HTTP_CASES) + len(UPLOADS) >= 40

