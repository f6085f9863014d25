"""POST /v1/ingest and GET /v1/ingest/{id} over real HTTP: a background job that lands in the real graph."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
CLEANUP = "MATCH (n) WHERE n.uid STARTS WITH 'ING-' OR n.source STARTS WITH 'ingtest-' CALL (n) { DETACH DELETE n }"


def wait_for(api: httpx.Client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/v1/ingest/{job_id}", timeout=10).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.fixture
def clean(graph):
    graph.write(CLEANUP)
    yield graph
    graph.write(CLEANUP)


def test_upload_with_a_mapping_runs_as_a_job_and_reports_rejections(api: httpx.Client, clean) -> None:
    bad = ("id,name,city,country,email,phone,since,language\n"
           "Z1,Zeta GmbH,Bonn,Germany,z@zeta.example,,2021-01-01,en\n"
           "Z2,Eta GmbH,Bonn,Germany,z@zeta.example,,2021-13-01,en\n")
    files = [("files", ("customers.csv", (FIXTURES / "acme" / "customers.csv").read_bytes(), "text/csv")),
             ("files", ("customers_gbk.csv", (FIXTURES / "acme" / "customers_gbk.csv").read_bytes(), "text/csv")),
             ("files", ("customers_more.csv", bad.encode(), "text/csv")),
             ("mapping_file", ("acme.yaml", (FIXTURES / "acme.yaml").read_bytes(), "application/yaml"))]
    response = api.post("/v1/ingest", files=files, data={"source": "ingtest-api"}, timeout=30)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["location"] == accepted["status_url"] == f"/v1/ingest/{accepted['job_id']}"
    assert sorted(accepted["files"]) == ["customers.csv", "customers_gbk.csv", "customers_more.csv"]
    job = wait_for(api, accepted["job_id"])
    assert job["status"] == "succeeded", job.get("error") or job
    assert job["summary"]["accepted"]["records"] == 6 and job["summary"]["rejected"]["records"] == 1
    assert job["rejected"] == [{"source": "customers_more.csv", "record": 2, "locator": "line 3", "uid": "ING-Z2",
                                "field": "props.customerSince",
                                "reason": "'2021-13-01' is not a valid date: month must be in 1..12"}]
    rows = clean.read("MATCH (c:Customer {source: 'ingtest-api'}) RETURN c.uid AS uid ORDER BY uid")
    assert [r["uid"] for r in rows] == ["ING-C1", "ING-C2", "ING-C3", "ING-C5", "ING-C6", "ING-Z1"]


def test_documents_need_no_mapping(api: httpx.Client, clean) -> None:
    files = [("files", (name, (FIXTURES / "docs" / name).read_bytes())) for name in ("datasheet.pdf", "faq.md")]
    response = api.post("/v1/ingest", files=files, data={"source": "ingtest-api-docs"}, timeout=30)
    assert response.status_code == 202, response.text
    job = wait_for(api, response.json()["job_id"])
    assert job["status"] == "succeeded" and job["summary"]["accepted"]["records"] == 2, job
    titles = clean.read("MATCH (d:Document {source: 'ingtest-api-docs'}) RETURN d.title AS t ORDER BY t")
    assert [t["t"] for t in titles] == ["Cloud storage FAQ", "L2 datasheet"]


def test_a_bad_mapping_is_refused_at_once_with_its_line(api: httpx.Client) -> None:
    mapping = (FIXTURES / "acme.yaml").read_text(encoding="utf-8").replace("class: Customer", "class: Klient", 1)
    files = [("files", ("c.csv", b"id,name\nX,Y\n")), ("mapping_file", ("acme.yaml", mapping.encode()))]
    response = api.post("/v1/ingest", files=files, timeout=30)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "acme.yaml line 8" in response.json()["detail"] and "unknown class 'Klient'" in response.json()["detail"]


@pytest.mark.parametrize(("data", "files", "message"), [
    ({"mapping": "../../etc/passwd"}, [("files", ("c.csv", b"a\n1\n"))], "names a shipped mapping"),
    ({"mapping": "nope"}, [("files", ("c.csv", b"a\n1\n"))], "no mapping file 'nope'"),
    ({}, [("files", (".env", b"SECRET=1\n"))], "refused upload name"),
])
def test_bad_requests_are_problems(api: httpx.Client, data: dict, files: list, message: str) -> None:
    response = api.post("/v1/ingest", data=data, files=files, timeout=30)
    assert response.status_code == 422 and message in response.json()["detail"], response.text


def test_unknown_job_is_a_404_problem(api: httpx.Client) -> None:
    response = api.get("/v1/ingest/20000101T000000000000Z")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_openapi_documents_the_ingest_endpoints(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert "post" in paths["/v1/ingest"] and "get" in paths["/v1/ingest/{job_id}"]
