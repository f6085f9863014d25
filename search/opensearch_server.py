"""The bundled local OpenSearch cluster: installed from Maven Central, started and stopped by kcrm.

Why this exists: the `opensearch` search backend needs a real cluster, and this machine kind has
no Docker and no OpenSearch package (../shared/OPENSEARCH.md). Like the bundled Neo4j
(`kcrm.kg.server`), the jars come from Maven Central through `opensearch-server/pom.xml`,
which also compiles the small launcher `kcrm.opensearch.KcrmNode`; each node is a detached
`java` process on 127.0.0.1 whose pid file lets any later `kcrm` process find and stop it.

Layout of the home (`<data_dir>/opensearch`)::

    lib/                    the jars and `.kcrm-install.json` (the hash of the build files)
    nodes/node-<i>/config/  opensearch.yml, log4j2.properties (rewritten at every start)
    nodes/node-<i>/data/    the node's shards and cluster state
    logs/node-<i>.log       the node's console (its whole log), install.log (Maven's output)
    run/node-<i>.pid        pid files, cluster.json (ports and node count), the start lock

When `OPENSEARCH_URL` is set kcrm uses that cluster and this module starts nothing
(`ensure_opensearch`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import OpenSearchServerError
from kcrm.kg.processes import cmdline_of, port_in_use, port_owner, process_alive, send_signal, tail, wait_exit
from kcrm.kg.server import java_binary

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
BUILD_DIR = Path(__file__).resolve().parent / "opensearch-server"
POM_PATH = BUILD_DIR / "pom.xml"
LAUNCHER = BUILD_DIR / "src" / "main" / "java" / "kcrm" / "opensearch" / "KcrmNode.java"
MAIN_CLASS = "kcrm.opensearch.KcrmNode"
CLUSTER_NAME = "kcrm-local"
INSTALL_MARKER = ".kcrm-install.json"
STATE_FILE = "cluster.json"
LOCK_FILE = "cluster.lock"

_DETACH_SCRIPT = '"$@" </dev/null >>"$KCRM_CONSOLE_LOG" 2>&1 & echo $!'
"""Runs the command given as arguments in the background, output to the node's log; prints its pid."""

_LOG4J = """status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.deprecation.name = org.opensearch.deprecation
logger.deprecation.level = error
"""
"""Everything to stdout, which the launcher appends to logs/node-<i>.log."""


@dataclass(frozen=True)
class NodeStatus:
    """One bundled node: its name, pid (None when not running), ports and log."""

    name: str
    pid: int | None
    http_url: str
    transport_port: int
    log_path: Path

    @property
    def running(self) -> bool:
        return self.pid is not None


@dataclass(frozen=True)
class ClusterStatus:
    """What `kcrm opensearch status` reports; `health` is None when no node answers HTTP."""

    nodes: list[NodeStatus]
    url: str
    home: Path
    health: str | None = None
    started_in_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return any(node.running for node in self.nodes)


def build_hash() -> str:
    """SHA-256 of the pom and the launcher: a change to either means reinstalling lib/."""
    digest = hashlib.sha256(POM_PATH.read_bytes())
    digest.update(LAUNCHER.read_bytes())
    return digest.hexdigest()


def render_node_config(name: str, index: int, nodes: int, settings: Settings, data: Path, logs: Path,
                       bootstrap: bool) -> str:
    """opensearch.yml of node `index` of `nodes`: loopback only, every node a seed host.

    Every node is cluster-manager eligible, so three nodes keep a voting majority when one dies
    (with two, writes stalled when the elected manager was killed: OPENSEARCH.md).
    `cluster.initial_cluster_manager_nodes` is written only on the cluster's first start.
    """
    seeds = [f"{HOST}:{settings.opensearch_transport_port + i}" for i in range(nodes)]
    lines = {
        "cluster.name": CLUSTER_NAME,
        "node.name": name,
        "path.data": str(data),
        "path.logs": str(logs),
        "network.host": HOST,
        "http.port": settings.opensearch_http_port + index,
        "transport.port": settings.opensearch_transport_port + index,
        "discovery.seed_hosts": json.dumps(seeds),
        "action.auto_create_index": "false",
        "cluster.routing.allocation.disk.threshold_enabled": "false",
    }
    if nodes == 1:
        lines["discovery.type"] = "single-node"
        lines.pop("discovery.seed_hosts")
    elif bootstrap:
        lines["cluster.initial_cluster_manager_nodes"] = json.dumps([node_name(i) for i in range(nodes)])
    return "".join(f"{key}: {value}\n" for key, value in lines.items())


def node_name(index: int) -> str:
    return f"node-{index}"


class LocalOpenSearch:
    """Install, start, stop and report the bundled OpenSearch cluster under `settings.opensearch_home`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.opensearch_home.resolve()
        self.lib_dir = self.home / "lib"
        self.run_dir = self.home / "run"
        self.log_dir = self.home / "logs"
        self.state_path = self.run_dir / STATE_FILE

    # ----------------------------------------------------------------- install

    def installed(self) -> bool:
        """True when lib/ holds the jars of the current build files (the marker's hash matches)."""
        try:
            marker = json.loads((self.lib_dir / INSTALL_MARKER).read_text())
        except (OSError, ValueError):
            return False
        return isinstance(marker, dict) and marker.get("build_sha256") == build_hash()

    def install(self) -> None:
        """Fill lib/ from Maven Central and compile the launcher (skipped when current).

        Maven writes into `lib.partial/`, which replaces lib/ only when it succeeded; the k-NN
        plugin's zip is unpacked into the scratch folder and its jars join lib/ (a jar that core
        already brings is kept once).
        """
        if self.installed():
            return
        java_binary()
        mvn = shutil.which("mvn")
        if mvn is None:
            raise OpenSearchServerError("Maven (`mvn`) is not on PATH; it is needed once to download OpenSearch "
                                        "from Maven Central (e.g. `apt-get install maven`)")
        partial, build = self.home / "lib.partial", self.home / "build"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(build, ignore_errors=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(POM_PATH), "package",
                   f"-Dkcrm.opensearch.lib={partial}", f"-Dkcrm.opensearch.build={build}"]
        log.info("installing opensearch from Maven Central into %s (first time only)", self.lib_dir)
        started = time.monotonic()
        result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, check=False)
        (self.log_dir / "install.log").write_text(result.stdout)
        if result.returncode != 0:
            last = "\n".join(result.stdout.splitlines()[-30:])
            raise OpenSearchServerError(f"Maven could not install OpenSearch (exit {result.returncode}); full "
                                        f"output in {self.log_dir / 'install.log'}:\n{last}")
        for jar in (build / "knn").rglob("*.jar"):
            if not (partial / jar.name).exists():
                shutil.copy2(jar, partial / jar.name)
        jars = sorted(p.name for p in partial.glob("*.jar"))
        if not any(name.startswith("opensearch-knn-") for name in jars):
            raise OpenSearchServerError(f"Maven succeeded but {partial} holds no opensearch-knn jar")
        marker = {"build_sha256": build_hash(), "jars": len(jars), "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (partial / INSTALL_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        partial.rename(self.lib_dir)
        shutil.rmtree(build, ignore_errors=True)
        log.info("opensearch installed in %.1f s (%d jars)", time.monotonic() - started, len(jars))

    # ----------------------------------------------------------------- paths

    def node_dir(self, index: int) -> Path:
        return self.home / "nodes" / node_name(index)

    def node_log(self, index: int) -> Path:
        return self.log_dir / f"{node_name(index)}.log"

    def _pid_path(self, index: int) -> Path:
        return self.run_dir / f"{node_name(index)}.pid"

    def http_url(self, index: int = 0) -> str:
        return f"http://{HOST}:{self.settings.opensearch_http_port + index}"

    # ----------------------------------------------------------------- lifecycle

    def start(self, nodes: int | None = None, wait: bool = True) -> ClusterStatus:
        """Install if needed, launch every node that is not running, and wait for green.

        A start while the cluster runs with the same node count only waits for green; a
        different count is refused (stop first), since the voting configuration would not match.
        """
        count = nodes or self.settings.opensearch_nodes
        with self._lock():
            running = self._recorded_nodes()
            if running and running != count and any(self.node_pid(i) for i in range(running)):
                raise OpenSearchServerError(f"the bundled OpenSearch runs with {running} nodes; "
                                            f"`kcrm opensearch stop` before starting it with {count}")
            self.install()
            started = time.monotonic()
            bootstrap = not any((self.node_dir(i) / "data" / "nodes").exists() for i in range(count))
            if bootstrap:  # a cluster formed with another node count cannot reuse its state
                shutil.rmtree(self.home / "nodes", ignore_errors=True)
            launched = [i for i in range(count) if self.node_pid(i) is None]
            for index in launched:
                self._start_node(index, count, bootstrap)
            self._write_state(count, started_in_s=None)
            if not wait:
                return self.status()
            self.wait_green(count, started, launched)
            elapsed = round(time.monotonic() - started, 2)
            self._write_state(count, started_in_s=elapsed if launched else None)
            log.info("opensearch green at %s with %d nodes in %.1f s", self.http_url(), count, elapsed)
            return self.status()

    def start_node(self, index: int) -> None:
        """(Re)start one node of the recorded cluster, e.g. after it died; does not wait."""
        count = self._recorded_nodes() or self.settings.opensearch_nodes
        with self._lock():
            if self.node_pid(index) is None:
                self._start_node(index, count, bootstrap=False)

    def _start_node(self, index: int, count: int, bootstrap: bool) -> None:
        for port, variable in ((self.settings.opensearch_http_port + index, "HTTP"),
                               (self.settings.opensearch_transport_port + index, "TRANSPORT")):
            if port_in_use(port, HOST):
                owner = port_owner(port) or "another process"
                raise OpenSearchServerError(
                    f"cannot start OpenSearch {node_name(index)}: port {HOST}:{port} is in use by {owner}; stop it "
                    f"or choose other ports (KCRM_OPENSEARCH_{variable}_PORT)")
        folder = self.node_dir(index)
        config, data, tmp = folder / "config", folder / "data", folder / "tmp"
        for path in (config, data, tmp, self.log_dir, self.run_dir):
            path.mkdir(parents=True, exist_ok=True)
        (config / "opensearch.yml").write_text(
            render_node_config(node_name(index), index, count, self.settings, data, self.log_dir, bootstrap))
        (config / "log4j2.properties").write_text(_LOG4J)
        heap = self.settings.opensearch_heap
        command = [java_binary(), f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-Dlog4j2.formatMsgNoLookups=true",
                   "-Dio.netty.allocator.numDirectArenas=0", f"-Djava.io.tmpdir={tmp}",
                   "-cp", f"{self.lib_dir}/*", MAIN_CLASS, str(folder), str(config)]
        log_path = self.node_log(index)
        with log_path.open("ab") as console:
            console.write(f"\n===== kcrm: starting {node_name(index)} {time.strftime('%Y-%m-%d %H:%M:%S')} =====\n"
                          .encode())
        result = subprocess.run(["/bin/sh", "-c", _DETACH_SCRIPT, "kcrm-opensearch", *command], cwd=folder,
                                env={"PATH": "/usr/bin:/bin", "KCRM_CONSOLE_LOG": str(log_path)},
                                stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True, text=True,
                                check=False, timeout=30)
        if result.returncode != 0 or not result.stdout.strip().isdigit():
            raise OpenSearchServerError(f"could not launch java for OpenSearch: {result.stderr.strip()}")
        pid = int(result.stdout.strip())
        self._pid_path(index).write_text(f"{pid}\n")
        log.info("opensearch %s starting (pid %s), log %s", node_name(index), pid, log_path)

    def wait_green(self, count: int, started: float | None = None, watched: list[int] | None = None) -> float:
        """Wait until `count` nodes have joined and the cluster is green; seconds waited.

        Fails early, quoting the node's log, when a node it launched exits, and after
        `opensearch_start_timeout_s`.
        """
        started = started if started is not None else time.monotonic()
        deadline = started + self.settings.opensearch_start_timeout_s
        while True:
            health = cluster_health(self.http_url(), wait_nodes=count)
            if health is not None and health.get("status") == "green" and health.get("number_of_nodes") == count:
                return time.monotonic() - started
            for index in watched if watched is not None else range(count):
                if self.node_pid(index) is None:
                    raise OpenSearchServerError(f"OpenSearch {node_name(index)} exited during start-up; see "
                                                f"{self.node_log(index)}:\n{tail(self.node_log(index))}")
            if time.monotonic() > deadline:
                raise OpenSearchServerError(
                    f"the bundled OpenSearch was not green within {self.settings.opensearch_start_timeout_s:.0f} s "
                    f"(health: {health}); see the logs in {self.log_dir}")
            time.sleep(0.5)

    def kill_node(self, index: int, sig: signal.Signals = signal.SIGKILL) -> int:
        """Send `sig` to one node (the fault tests' SIGKILL); returns its pid."""
        pid = self.node_pid(index)
        if pid is None:
            raise OpenSearchServerError(f"OpenSearch {node_name(index)} is not running")
        send_signal(pid, sig)
        if not wait_exit(pid, 30):
            raise OpenSearchServerError(f"OpenSearch {node_name(index)} (pid {pid}) survived signal {sig.name}")
        return pid

    def stop(self, timeout_s: float = 60) -> None:
        """SIGTERM every node (shards flushed by the shutdown hook), SIGKILL after `timeout_s`."""
        with self._lock():
            pids = {index: self.node_pid(index) for index in range(self._node_slots())}
            for index, pid in pids.items():
                if pid is not None:
                    log.info("stopping opensearch %s (pid %s)", node_name(index), pid)
                    send_signal(pid, signal.SIGTERM)
            for index, pid in pids.items():
                if pid is not None and not wait_exit(pid, timeout_s):
                    log.warning("opensearch %s (pid %s) did not stop in %.0f s; killing it", node_name(index), pid,
                                timeout_s)
                    send_signal(pid, signal.SIGKILL)
                    wait_exit(pid, 10)
                self._pid_path(index).unlink(missing_ok=True)
            self.state_path.unlink(missing_ok=True)

    def status(self) -> ClusterStatus:
        """Which bundled nodes run (verified against /proc), and the cluster's health if one answers."""
        state = self._read_state()
        nodes = [NodeStatus(name=node_name(i), pid=self.node_pid(i), http_url=self.http_url(i),
                            transport_port=self.settings.opensearch_transport_port + i, log_path=self.node_log(i))
                 for i in range(self._node_slots())]
        health = None
        for node in nodes:
            if node.running:
                answer = cluster_health(node.http_url)
                if answer is not None:
                    health = str(answer.get("status"))
                    break
        started = state.get("started_in_s")
        return ClusterStatus(nodes=nodes, url=self.http_url(), home=self.home, health=health,
                             started_in_s=float(started) if isinstance(started, (int, float)) else None)

    # ----------------------------------------------------------------- run files

    def node_pid(self, index: int) -> int | None:
        """The node's pid when it runs and really is this home's node (guards against pid reuse)."""
        try:
            pid = int(self._pid_path(index).read_text().strip())
        except (OSError, ValueError):
            return None
        if not process_alive(pid):
            return None
        cmdline = cmdline_of(pid)
        if cmdline and (MAIN_CLASS not in cmdline or str(self.node_dir(index)) not in cmdline):
            return None
        return pid

    def _node_slots(self) -> int:
        recorded = self._recorded_nodes()
        on_disk = len(list(self.run_dir.glob("node-*.pid"))) if self.run_dir.exists() else 0
        return max(recorded, on_disk, self.settings.opensearch_nodes)

    def _recorded_nodes(self) -> int:
        nodes = self._read_state().get("nodes")
        return nodes if isinstance(nodes, int) else 0

    def _read_state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _write_state(self, nodes: int, started_in_s: float | None) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        state = {"nodes": nodes, "http_port": self.settings.opensearch_http_port,
                 "transport_port": self.settings.opensearch_transport_port,
                 "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "started_in_s": started_in_s}
        self.state_path.write_text(json.dumps(state) + "\n")

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """An exclusive flock on run/cluster.lock for the duration of start/stop."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with (self.run_dir / LOCK_FILE).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Loopback requests must never go through an http_proxy from the environment."""


def cluster_health(url: str, wait_nodes: int | None = None) -> dict[str, Any] | None:
    """`GET _cluster/health` on the bundled cluster (no credentials); None when nothing answers."""
    query = f"?wait_for_nodes={wait_nodes}&timeout=1s" if wait_nodes else ""
    try:
        with _NO_PROXY_OPENER.open(f"{url}/_cluster/health{query}", timeout=5) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 408 when wait_for_nodes timed out: the body still says the state
        try:
            body = json.loads(exc.read())
        except ValueError:
            return None
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def ensure_opensearch(settings: Settings) -> str:
    """The URL of the cluster to use, starting the bundled one first when kcrm owns OpenSearch."""
    if not settings.local_opensearch:
        return settings.opensearch_endpoint
    return LocalOpenSearch(settings).start().url
