"""Shared fixtures: one real Neo4j, one loaded sample company and one real HTTP server per session.

Community Neo4j has a single user database, so the session wipes it once, loads the sample,
and tests that add data use their own uids and remove them. Set NEO4J_URI (and
NEO4J_PASSWORD) to run the end-to-end tests against an existing server instead: it is wiped.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import httpx
import pytest

from kcrm.foundation.config import Settings

REPO = Path(__file__).resolve().parents[1]
TEST_DATA_DIR = Path(os.environ.get("KCRM_TEST_DATA_DIR", REPO / "var" / "test"))


def _uses_opensearch(path: Path, cache: dict[Path, bool]) -> bool:
    """True when a test file, or a conftest.py of its own folder, asks for the OpenSearch cluster."""
    if path not in cache:
        texts = [path.read_text(encoding="utf-8")]
        if path.parent != REPO / "tests" and (path.parent / "conftest.py").is_file():
            texts.append((path.parent / "conftest.py").read_text(encoding="utf-8"))
        cache[path] = any("opensearch_settings" in text for text in texts)
    return cache[path]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the files that use the OpenSearch cluster last, one after another.

    The cluster is three JVMs started when a test first asks for it and stopped at the session's
    end; collected in path order, the contract tests started it in the first minutes and it idled
    beside the rest of the suite (about 5 % of a core per node). The order within and between the
    other files is unchanged.
    """
    cache: dict[Path, bool] = {}
    items.sort(key=lambda item: _uses_opensearch(Path(str(item.fspath)), cache))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def e2e_settings() -> Settings:
    """Settings for the test stack: its own data dir and ports, apart from a running demo."""
    return Settings(
        data_dir=TEST_DATA_DIR,
        neo4j_bolt_port=int(os.environ.get("KCRM_TEST_BOLT_PORT", "17687")),
        neo4j_http_port=int(os.environ.get("KCRM_TEST_HTTP_PORT", "17474")),
        neo4j_heap="1g",
    )


@pytest.fixture(scope="session")
def neo4j_uri(e2e_settings: Settings) -> Iterator[str]:
    """The Bolt URI of a running Neo4j: the bundled one (started here, stopped after) or NEO4J_URI."""
    if not e2e_settings.local_neo4j:
        yield e2e_settings.bolt_uri
        return
    from kcrm.kg.server import LocalNeo4j

    server = LocalNeo4j(e2e_settings)
    already_running = server.status().running
    status = server.start()
    yield status.bolt_uri
    if not already_running:
        server.stop()


@pytest.fixture(scope="session")
def graph(e2e_settings: Settings, neo4j_uri: str):
    from kcrm.kg.connection import Graph, connect

    g = Graph(connect(e2e_settings), e2e_settings)
    yield g
    g.close()


def wipe(graph) -> None:
    """Delete every node of the customer graph, in batches (auto-commit transactions, as CALL IN
    TRANSACTIONS needs); the service's own state (keys, audit, alerts, jobs) is kept."""
    from kcrm.statedb import SERVICE_LABEL

    with graph.driver.session(database=graph.database) as session:
        session.run(f"MATCH (n) WHERE NOT n:{SERVICE_LABEL} CALL (n) {{ DETACH DELETE n }} "
                    "IN TRANSACTIONS OF 5000 ROWS").consume()


def wipe_service_state(graph) -> None:
    """Delete the service's own state: keys, audit, alerts, jobs (once per session, before any key is made)."""
    from kcrm.statedb import WIPE_STATE

    with graph.driver.session(database=graph.database) as session:
        session.run(WIPE_STATE).consume()


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kcrm.sample import generate_sample

    directory = tmp_path_factory.mktemp("sample")
    generate_sample(directory)
    return directory


@pytest.fixture(scope="session")
def loaded(e2e_settings: Settings, graph, sample_dir: Path):
    """The graph wiped, the sample company loaded, and the search index built from it."""
    from kcrm import workflows

    wipe(graph)
    wipe_service_state(graph)  # fresh keys and audit each session, so they never pile up
    report = workflows.load_records(e2e_settings, graph, sample_dir)
    workflows.reindex(e2e_settings, graph)
    return report


@pytest.fixture(scope="session")
def api_url(e2e_settings: Settings, cli_env: dict[str, str], loaded) -> Iterator[str]:
    """A real `kcrm serve` process (one worker) on a free loopback port, talking to the test Neo4j."""
    proc, url = start_server(cli_env, e2e_settings.data_dir / "api-test.log")
    yield url
    stop_server(proc)


def start_server(env: dict[str, str], log_path: Path, workers: int = 1,
                 extra: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start `kcrm serve` on a free port and wait until /healthz answers; (process, base URL)."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "kcrm.cli", "serve", "--port", str(port),
                                 "--workers", str(workers)], env=dict(env, **(extra or {})), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kcrm serve exited early; see {log_path}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"kcrm serve did not answer within 120 s; see {log_path}")
    return proc, url


def stop_server(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def cli_env(e2e_settings: Settings, neo4j_uri: str) -> dict[str, str]:
    """The environment for `kcrm ...` subprocesses (CLI and servers) on the test data dir and Neo4j."""
    return dict(os.environ, KCRM_DATA_DIR=str(e2e_settings.data_dir), NEO4J_URI=neo4j_uri,
                NEO4J_PASSWORD=e2e_settings.neo4j_password, KCRM_LOG_FORMAT="json", KCRM_API_WORKERS="1",
                KCRM_ALERTS_WEBHOOK_ALLOW_HOSTS="127.0.0.1",  # the tests' own webhook receivers
                KCRM_INGEST_PARSE_MAX_MB="256")  # a zip bomb breaks the parse limit quickly on a shared machine


@pytest.fixture(scope="session")
def state_settings(e2e_settings: Settings, neo4j_uri: str) -> Settings:
    """Settings whose stores (keys, audit, alerts, jobs) reach the test Neo4j."""
    return e2e_settings.model_copy(update={"neo4j_uri": neo4j_uri})


@pytest.fixture(scope="session")
def api_key(api_url: str, cli_env: dict[str, str]) -> str:
    """The API key the end-to-end tests send: admin, all groups, made by `kcrm keys create` itself."""
    if os.environ.get("KCRM_TEST_API_KEY"):
        return os.environ["KCRM_TEST_API_KEY"]
    env = cli_env
    result = subprocess.run([sys.executable, "-m", "kcrm.cli", "keys", "create", "--name", "e2e-admin",
                             "--role", "admin", "--all-groups", "--json"],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout)["key"]


@pytest.fixture(scope="session")
def make_key(api_url: str, state_settings: Settings) -> Callable[..., str]:
    """Mint a real key for the test server: `make_key(roles=("agent",), groups=("hr",)) -> key`.

    Same store and code as `kcrm keys create`; `all_groups=True` gives a key that sees everything.
    """
    from kcrm.security.keys import KeyStore

    store = KeyStore(state_settings)
    counter = iter(range(1_000_000))

    def make(roles: Iterable[str] = ("agent",), groups: Iterable[str] = (), name: str | None = None,
             all_groups: bool = False) -> str:
        plain, _ = store.create(name or f"e2e-{next(counter)}", list(roles), list(groups), all_groups=all_groups,
                                created_by="pytest")
        return plain

    return make


@pytest.fixture(scope="session")
def api(api_url: str, api_key: str) -> Iterator[httpx.Client]:
    """An HTTP client for the test server that sends the test API key on every request.

    New end-to-end tests use this rather than bare `httpx.get(api_url + ...)`, so that
    authentication is decided in one place.
    """
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(base_url=api_url, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def opensearch_settings() -> Iterator[Settings]:
    """A green 3-node OpenSearch cluster (512m heap each) for the opensearch backend's tests.

    Three cluster-manager-eligible nodes, so writes go on when one is killed (OPENSEARCH.md).
    OPENSEARCH_URL uses an existing cluster instead. The cluster is started once per session
    (installed from Maven Central on the first run) and stopped after, unless it already ran.
    """
    from kcrm.search.opensearch_server import LocalOpenSearch

    http = int(os.environ.get("KCRM_TEST_OPENSEARCH_HTTP_PORT", "17920"))
    settings = Settings(data_dir=TEST_DATA_DIR, opensearch_nodes=3, opensearch_heap="512m", opensearch_http_port=http,
                        opensearch_transport_port=int(os.environ.get("KCRM_TEST_OPENSEARCH_TRANSPORT_PORT", http + 10)),
                        opensearch_index="kcrm-test", embedder="hashing")
    if not settings.local_opensearch:
        yield settings
        return
    cluster = LocalOpenSearch(settings)
    already_running = cluster.status().running
    cluster.start(nodes=3)
    yield settings
    if not already_running:
        cluster.stop()
