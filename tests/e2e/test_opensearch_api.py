"""With KCRM_SEARCH_BACKEND=opensearch and the cluster unreachable, `/readyz` says so and names the
URL (503 with Retry-After), searches get 503 with Retry-After naming it, while liveness and the graph
routes keep working."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from kcrm.foundation.config import Settings
from tests.conftest import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def unreachable_url(e2e_settings: Settings, cli_env: dict[str, str], loaded) -> Iterator[tuple[str, str]]:
    """A second `kcrm serve` over the test stack, told to search on a cluster that is not there."""
    dead = f"http://127.0.0.1:{free_port()}"
    port = free_port()
    env = dict(cli_env, KCRM_SEARCH_BACKEND="opensearch", OPENSEARCH_URL=dead, KCRM_OPENSEARCH_TIMEOUT_S="2")
    log_path = e2e_settings.data_dir / "api-opensearch-down.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "kcrm.cli", "serve", "--port", str(port)], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield url, dead
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_readyz_names_the_unreachable_cluster_and_graph_routes_still_answer(unreachable_url, api_key: str) -> None:
    url, dead = unreachable_url
    ready = httpx.get(f"{url}/readyz", timeout=30)
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.json()["checks"]["opensearch"] == {"ok": False}, "the public probe names no address"
    assert ready.json()["checks"]["neo4j"]["ok"] is True
    admin = httpx.get(f"{url}/v1/admin/readiness", headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
    check = admin.json()["checks"]["opensearch"]
    assert check["ok"] is False and f"not reachable at {dead}" in check["detail"], admin.text
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    search = httpx.get(f"{url}/v1/search", params={"q": "printer"}, headers={"Authorization": f"Bearer {api_key}"},
                       timeout=60)
    assert search.status_code == 503 and search.headers["Retry-After"], search.text
    assert search.headers["content-type"].startswith("application/problem+json")
    assert f"not reachable at {dead}" in search.json()["detail"]
    graph = httpx.get(f"{url}/v1/customers/CUS-0001/360", headers={"Authorization": f"Bearer {api_key}"}, timeout=60)
    assert graph.status_code == 200, graph.text
