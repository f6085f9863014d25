"""Shared fixtures: one real Neo4j, one loaded sample company and one real HTTP server per session.

Community Neo4j has a single user database, so the session wipes it once, loads the sample,
and tests that add data use their own uids and remove them. Set NEO4J_URI (and
NEO4J_PASSWORD) to run the end-to-end tests against an existing server instead: it is wiped.

Under pytest-xdist (`make test` runs two workers) each worker is a session of
its own: its own Neo4j (ports shifted by PORT_STRIDE per worker) and data dir, so tests that wipe
or load the graph never meet another worker's. A test file runs whole on one worker (its module
fixtures are built once), and every file that uses the OpenSearch cluster runs on the same worker,
which starts the one cluster. The sample's embeddings are computed once: the first worker to
build the index leaves a copy that the others' rebuilds reuse (`shared_sample_index`).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from kcrm.foundation.config import Settings

REPO = Path(__file__).resolve().parents[1]
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... under pytest-xdist, else ""
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") else 0
PORT_STRIDE = 100  # each worker's servers listen this many ports above the previous worker's
TEST_ROOT = Path(os.environ.get("KCRM_TEST_DATA_DIR", REPO / "var" / "test"))
TEST_DATA_DIR = TEST_ROOT if WORKER_INDEX == 0 else TEST_ROOT.with_name(f"{TEST_ROOT.name}-{WORKER}")
OPENSEARCH_GROUP = "opensearch"


def worker_port(variable: str, default: int) -> int:
    """The port named by `variable` (or `default`), shifted for this xdist worker."""
    return int(os.environ.get(variable, str(default))) + PORT_STRIDE * WORKER_INDEX


def _uses_opensearch(path: Path, cache: dict[Path, bool]) -> bool:
    """True when a test file, or the conftest.py beside it, asks for the OpenSearch cluster."""
    if path not in cache:
        texts = [path.read_text(encoding="utf-8")]
        if (path.parent / "conftest.py").is_file() and path.parent != REPO / "tests":
            texts.append((path.parent / "conftest.py").read_text(encoding="utf-8"))
        cache[path] = any("opensearch_settings" in text for text in texts)
    return cache[path]


def xdist_scope(nodeid: str, cache: dict[Path, bool]) -> str:
    """The unit of work a test belongs to under xdist: its file, or OPENSEARCH_GROUP for every file
    that uses the cluster (so one worker starts one cluster and the other starts none)."""
    path = nodeid.split("::", 1)[0]
    return OPENSEARCH_GROUP if _uses_opensearch(REPO / path, cache) else path


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Whole files (and the OpenSearch files together) go to one worker each.

    xdist's `--dist loadgroup` marks do not work with pytest 9 (xdist rewrites `item._nodeid`, which
    pytest 9 no longer reads), and `--dist loadfile` would start a cluster on each worker.
    """
    from xdist.scheduler import LoadScopeScheduling

    cache: dict[Path, bool] = {}

    class FileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid, cache)

    return FileScheduling(config, log)


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
        neo4j_bolt_port=worker_port("KCRM_TEST_BOLT_PORT", 17687),
        neo4j_http_port=worker_port("KCRM_TEST_HTTP_PORT", 17474),
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
    with shared_sample_index(e2e_settings):
        workflows.reindex(e2e_settings, graph)
    return report


@contextmanager
def shared_sample_index(settings: Settings) -> Iterator[None]:
    """Around the sample's first index build: under xdist, embed the sample once for all workers.

    Every worker loads the same seeded sample into its own Neo4j. The first to get here builds
    its index as usual and leaves a copy in TEST_ROOT; the others wait for it, copy it into their
    own data dir, and their rebuild reuses its vectors (`ReusingEmbedder`) rather than running
    the models over the same 3,000 passages again on the same two cores.
    """
    if not WORKER:
        yield
        return
    seed = TEST_ROOT.with_name(TEST_ROOT.name + "-sample-index")
    TEST_ROOT.parent.mkdir(parents=True, exist_ok=True)
    with TEST_ROOT.with_name(TEST_ROOT.name + "-sample-index.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if seed.is_dir() and not settings.index_dir.exists():
            shutil.copytree(seed, settings.index_dir)
        yield
        if not seed.is_dir():
            partial = seed.with_name(seed.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(settings.index_dir, partial)
            partial.rename(seed)


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

    http = worker_port("KCRM_TEST_OPENSEARCH_HTTP_PORT", 17920)
    settings = Settings(data_dir=TEST_DATA_DIR, opensearch_nodes=3, opensearch_heap="512m", opensearch_http_port=http,
                        opensearch_transport_port=worker_port("KCRM_TEST_OPENSEARCH_TRANSPORT_PORT",
                                                              int(os.environ.get("KCRM_TEST_OPENSEARCH_HTTP_PORT", "17920")) + 10),
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
