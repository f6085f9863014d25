"""The bundled local Neo4j Community server: installed from Maven Central, started and stopped by kcrm.

Why this exists: kcrm wants a real Neo4j everywhere (docs/architecture.md) without Docker and
without a tarball download. The jars come from Maven Central through `neo4j-server/pom.xml`
(`install()`), and the server runs as a plain `java` process on 127.0.0.1 with its home, data
and logs under `Settings.neo4j_home`. The process is detached (its own session), so it
outlives the Python process that started it; a pid file and a small state file let any later
`kcrm` process find, report and stop it.

Layout of the home (`<data_dir>/neo4j`)::

    lib/            the jars, `.kcrm-install.json` (the marker naming the pom's hash) and the
                    class-data-sharing archive `.kcrm-cds-<java version>.jsa`
    plugins/        extra jars on the classpath (empty by default)
    conf/           neo4j.conf (rewritten at every start), server-logs.xml, user-logs.xml
    data/           databases and transaction logs
    logs/           console.log (stdout+stderr: the user log, JVM messages), debug.log, http.log,
                    install.log (Maven's output)
    run/            kcrm-neo4j.pid, kcrm-neo4j.json, the start lock

When `NEO4J_URI` is set kcrm uses that server instead and this module starts nothing
(`ensure_neo4j`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, DriverError, Neo4jError

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import Neo4jServerError
from kcrm.kg.neo4j_conf import (
    HOST,
    MAIN_CLASS,
    admin_command,
    cds_flags,
    java_command,
    render_conf,
    render_server_logs_xml,
    render_user_logs_xml,
)
from kcrm.kg.processes import (
    cmdline_of,
    java_version,
    port_in_use,
    port_owner,
    process_alive,
    send_signal,
    tail,
    wait_exit,
)

log = logging.getLogger(__name__)

POM_PATH = Path(__file__).resolve().parent / "neo4j-server" / "pom.xml"
"""The Maven build that resolves Neo4j and copies it into `<home>/lib`."""

INSTALL_MARKER = ".kcrm-install.json"
PID_FILE = "kcrm-neo4j.pid"
STATE_FILE = "kcrm-neo4j.json"
LOCK_FILE = "kcrm-neo4j.lock"
CONSOLE_LOG = "console.log"
MIN_JAVA = 17
MIN_PASSWORD_LENGTH = 8
"""Neo4j 5's default `dbms.security.auth_minimum_password_length`; shorter passwords are refused."""

_DETACH_SCRIPT = '"$@" </dev/null >>"$KCRM_CONSOLE_LOG" 2>&1 & echo $!'
"""Runs the command line given as arguments in the background, output to the console log; prints its pid."""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class ServerStatus:
    """What `kcrm neo4j status` reports; `started_in_s` is known only for a start this home recorded."""

    running: bool
    pid: int | None
    bolt_uri: str
    http_url: str
    home: Path
    log_path: Path
    started_in_s: float | None = None


# --------------------------------------------------------------------------- pure helpers


def pom_hash(pom: Path = POM_PATH) -> str:
    """SHA-256 of the pom: any change to it (a new Neo4j version) means reinstalling lib/."""
    return hashlib.sha256(pom.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- the server


class LocalNeo4j:
    """Install, start, stop and report the bundled Neo4j under `settings.neo4j_home`."""

    def __init__(self, settings: Settings, class_data_sharing: bool = True) -> None:
        self.settings = settings
        self.class_data_sharing = class_data_sharing
        self.home = settings.neo4j_home.resolve()
        self.lib_dir = self.home / "lib"
        self.conf_dir = self.home / "conf"
        self.run_dir = self.home / "run"
        self.log_dir = self.home / "logs"
        self.log_path = self.log_dir / CONSOLE_LOG
        self.pid_path = self.run_dir / PID_FILE
        self.state_path = self.run_dir / STATE_FILE

    # ----------------------------------------------------------------- install

    def installed(self) -> bool:
        """True when lib/ holds the jars of the current pom (the marker's hash matches)."""
        try:
            marker = json.loads((self.lib_dir / INSTALL_MARKER).read_text())
        except (OSError, ValueError):
            return False
        return isinstance(marker, dict) and marker.get("pom_sha256") == pom_hash()

    def install(self) -> None:
        """Fill lib/ with Neo4j and its dependencies from Maven Central (skipped when current).

        Maven writes into `lib.partial/`, which replaces `lib/` only when Maven succeeded, so an
        interrupted install never leaves a half-filled lib/ that looks complete, and jars of an
        older Neo4j version never share the classpath with the new ones.
        """
        if self.installed():
            log.debug("neo4j already installed in %s", self.lib_dir)
            return
        java_binary()
        mvn = shutil.which("mvn")
        if mvn is None:
            raise Neo4jServerError("Maven (`mvn`) is not on PATH; it is needed once to download Neo4j "
                                   "from Maven Central (e.g. `apt-get install maven`)")
        partial = self.home / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(POM_PATH), "package",
                   f"-Dkcrm.neo4j.lib={partial}", f"-Dkcrm.neo4j.build={self.home / 'build'}"]
        log.info("installing neo4j from Maven Central into %s (first time only)", self.lib_dir)
        started = time.monotonic()
        result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, check=False)
        output = _ANSI.sub("", result.stdout)  # Maven 3.8 emits colour resets even in batch mode
        (self.log_dir / "install.log").write_text(output)
        if result.returncode != 0:
            last = "\n".join(output.splitlines()[-30:])
            raise Neo4jServerError(f"Maven could not install Neo4j (exit {result.returncode}); "
                                   f"full output in {self.log_dir / 'install.log'}:\n{last}")
        self._write_marker(partial)
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        partial.rename(self.lib_dir)
        shutil.rmtree(self.home / "build", ignore_errors=True)
        log.info("neo4j installed in %.1f s", time.monotonic() - started)

    def _write_marker(self, lib_dir: Path) -> None:
        """Record which pom filled lib/, so the next start can skip Maven entirely."""
        jars = sorted(p.name for p in lib_dir.glob("*.jar"))
        if not any(name.startswith("neo4j-5") for name in jars):
            raise Neo4jServerError(f"Maven succeeded but {lib_dir} holds no neo4j jar")
        marker = {"pom_sha256": pom_hash(), "neo4j_version": neo4j_version_of(jars), "jars": len(jars),
                  "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (lib_dir / INSTALL_MARKER).write_text(json.dumps(marker, indent=2) + "\n")

    # ----------------------------------------------------------------- configure

    def write_config(self) -> None:
        """Write conf/ and create the folders Neo4j expects; done at every start."""
        for folder in ("conf", "data", "logs", "run", "plugins", "import"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "neo4j.conf").write_text(render_conf(self.settings))
        (self.conf_dir / "server-logs.xml").write_text(render_server_logs_xml())
        (self.conf_dir / "user-logs.xml").write_text(render_user_logs_xml())

    def _first_start(self) -> bool:
        """True until the system database exists; only then can an initial password be set."""
        return not (self.home / "data" / "databases" / "system").exists()

    def set_initial_password(self) -> None:
        """Give user `neo4j` the configured password before the very first start.

        Uses `neo4j-admin dbms set-initial-password` (AdminTool, same classpath, no launcher),
        which writes data/dbms/auth.ini for the system database to pick up when it is created.
        Auth stays enabled so the local server behaves like a production one. The password
        appears briefly on that java process's command line (the tool takes no other input);
        acceptable for a loopback-only development server. Later password changes must be done
        with `ALTER USER` (or by deleting the data folder): Neo4j reads the file only once.
        """
        password = self.settings.neo4j_password
        if self.settings.neo4j_user != "neo4j":
            raise Neo4jServerError(f"the bundled server has only the user 'neo4j'; NEO4J_USER is "
                                   f"{self.settings.neo4j_user!r}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise Neo4jServerError(f"NEO4J_PASSWORD must have at least {MIN_PASSWORD_LENGTH} characters "
                                   "(Neo4j 5 refuses shorter ones)")
        env = dict(os.environ, NEO4J_HOME=str(self.home), NEO4J_CONF=str(self.conf_dir))
        command = admin_command(self.settings, ["dbms", "set-initial-password", password], java_binary())
        result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, check=False, cwd=self.home)
        if result.returncode != 0:
            last = "\n".join(result.stdout.replace(password, "***").splitlines()[-20:])
            raise Neo4jServerError(
                f"neo4j-admin could not set the initial password (exit {result.returncode}):\n{last}")
        log.info("initial neo4j password set")

    # ----------------------------------------------------------------- lifecycle

    def start(self, wait: bool = True) -> ServerStatus:
        """Install if needed, launch the server detached, and (by default) wait until it answers.

        A second start while it runs is a no-op returning the status. A file lock serialises
        concurrent starts of the same home (two test processes, a CLI and a test).
        """
        with self._lock():
            current = self.status()
            if current.running:
                log.info("neo4j already running (pid %s) at %s", current.pid, current.bolt_uri)
                if wait:
                    self._wait_ready(current, offset=0, started=time.monotonic())
                return current
            self._clear_run_files()
            self._check_ports_free()
            self.install()
            self.write_config()
            if self._first_start():
                self.set_initial_password()
            started = time.monotonic()
            pid, offset = self._launch()
            self._write_state(pid, started_in_s=None)
            log.info("neo4j starting (pid %s), log %s", pid, self.log_path)
            if not wait:
                return self.status()
            elapsed = self._wait_ready(self.status(), offset, started)
            self._write_state(pid, started_in_s=round(elapsed, 2))
            log.info("neo4j ready at %s in %.1f s", self.settings.bolt_uri, elapsed)
            return self.status()

    def _check_ports_free(self) -> None:
        """Fail clearly, naming the holder when possible, if Bolt's or HTTP's port is taken."""
        for name, port in (("Bolt", self.settings.neo4j_bolt_port), ("HTTP", self.settings.neo4j_http_port)):
            if port_in_use(port):
                owner = port_owner(port) or "another process"
                raise Neo4jServerError(f"cannot start Neo4j: the {name} port {HOST}:{port} is already in use by "
                                       f"{owner}; stop it or choose another port (KCRM_NEO4J_"
                                       f"{'BOLT' if name == 'Bolt' else 'HTTP'}_PORT)")

    def _cds_paths(self, java: str) -> tuple[Path, Path]:
        """(archive, partial) in lib/: a reinstall replaces lib/ and so drops a stale archive."""
        archive = self.lib_dir / f".kcrm-cds-{java_version(java) or 'java'}.jsa"
        return archive, archive.with_name(archive.name + ".partial")

    def _cds_flags(self, java: str) -> list[str]:
        if not self.class_data_sharing:
            return []
        archive, partial = self._cds_paths(java)
        partial.unlink(missing_ok=True)
        return cds_flags(archive, partial)

    def _settle_cds(self, clean_exit: bool) -> None:
        """After the server exited: keep the archive it recorded only if it exited cleanly."""
        archive, partial = self._cds_paths(java_binary())
        if clean_exit and partial.is_file() and partial.stat().st_size > 0:
            partial.replace(archive)
            for stale in self.lib_dir.glob(".kcrm-cds-*.jsa"):  # recorded by an older JDK
                if stale != archive:
                    stale.unlink(missing_ok=True)
            log.info("class-data-sharing archive written: %s", archive)
        else:
            partial.unlink(missing_ok=True)

    def _launch(self) -> tuple[int, int]:
        """Start java detached, output appended to console.log; returns (pid, log offset).

        A throw-away `sh` in a new session starts java in the background and exits at once, so
        java is nobody's child here: it outlives this process, never lingers as our zombie,
        and Python does not warn about a subprocess left running.
        """
        java = java_binary()
        command = java_command(self.settings, java, self._cds_flags(java))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as console:
            console.write(f"\n===== kcrm: starting neo4j {time.strftime('%Y-%m-%d %H:%M:%S')} =====\n".encode())
            offset = console.tell()
        env = dict(_server_env(self.home, self.conf_dir), KCRM_CONSOLE_LOG=str(self.log_path))
        result = subprocess.run(["/bin/sh", "-c", _DETACH_SCRIPT, "kcrm-neo4j", *command], cwd=self.home, env=env,
                                stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True, text=True,
                                check=False, timeout=30)
        if result.returncode != 0 or not result.stdout.strip().isdigit():
            raise Neo4jServerError(f"could not launch java for Neo4j: {result.stderr.strip() or result.stdout.strip()}")
        pid = int(result.stdout.strip())
        self.pid_path.write_text(f"{pid}\n")
        return pid, offset

    def _wait_ready(self, current: ServerStatus, offset: int, started: float) -> float:
        """Wait until Bolt accepts our credentials and HTTP answers; return seconds since `started`.

        Bolt comes up about a second before the HTTP server, and Neo4j stopped in between exits
        without its clean shutdown; waiting for both means a caller gets a fully started server.
        Fails early when the process exits (quoting this start's log), on a wrong password (no
        point waiting), and after `neo4j_start_timeout_s`.
        """
        deadline = started + self.settings.neo4j_start_timeout_s
        pid = current.pid or 0
        with _bolt_driver(current.bolt_uri, self.settings) as driver:
            while not (self._bolt_ready(driver, current.bolt_uri) and _http_ready(current.http_url)):
                if pid and not process_alive(pid):
                    self._clear_run_files()
                    self._settle_cds(clean_exit=False)
                    raise Neo4jServerError(f"Neo4j exited during start-up; see {self.log_path}:\n"
                                           f"{tail(self.log_path, offset)}")
                if time.monotonic() > deadline:
                    raise Neo4jServerError(f"Neo4j did not answer on {current.bolt_uri} within "
                                           f"{self.settings.neo4j_start_timeout_s:.0f} s (pid {pid} still "
                                           f"running); see {self.log_path}:\n{tail(self.log_path, offset)}")
                time.sleep(0.25)
        return time.monotonic() - started

    def _bolt_ready(self, driver: Driver, uri: str) -> bool:
        """One `verify_connectivity()`; a refused password is an error, not a reason to wait."""
        try:
            driver.verify_connectivity()
            return True
        except AuthError as exc:
            raise Neo4jServerError(
                f"Neo4j at {uri} runs but refuses the password for user {self.settings.neo4j_user!r}. "
                f"The password is fixed at the first start of {self.home / 'data'}; use that one, "
                "change it with ALTER USER, or delete that folder to start afresh.") from exc
        except (DriverError, Neo4jError, OSError):
            return False

    def stop(self, timeout_s: float = 60) -> None:
        """SIGTERM (Neo4j shuts down cleanly), then SIGKILL after `timeout_s`; no-op when stopped."""
        with self._lock():
            current = self.status()
            if not current.running or current.pid is None:
                self._clear_run_files()
                log.debug("neo4j not running; nothing to stop")
                return
            pid = current.pid
            log.info("stopping neo4j (pid %s)", pid)
            send_signal(pid, signal.SIGTERM)
            clean = wait_exit(pid, timeout_s)
            if not clean:
                log.warning("neo4j (pid %s) did not stop within %.0f s; killing it", pid, timeout_s)
                send_signal(pid, signal.SIGKILL)
                if not wait_exit(pid, 10):
                    raise Neo4jServerError(f"Neo4j (pid {pid}) survived SIGKILL")
            self._clear_run_files()
            with contextlib.suppress(Neo4jServerError, OSError):  # the server is stopped either way
                self._settle_cds(clean_exit=clean)
            log.info("neo4j stopped")

    def status(self) -> ServerStatus:
        """Whether the server recorded in run/ is alive (and really is this home's Neo4j)."""
        pid = self._read_pid()
        running = pid is not None and process_alive(pid) and self._is_our_server(pid)
        # A running server keeps the ports it was started with, even if the settings changed since.
        state = self._read_state() if running else {}
        bolt = int(state.get("bolt_port", self.settings.neo4j_bolt_port))
        http = int(state.get("http_port", self.settings.neo4j_http_port))
        started_in_s = state.get("started_in_s")
        return ServerStatus(
            running=running,
            pid=pid if running else None,
            bolt_uri=f"bolt://{HOST}:{bolt}",
            http_url=f"http://{HOST}:{http}",
            home=self.home,
            log_path=self.log_path,
            started_in_s=float(started_in_s) if isinstance(started_in_s, (int, float)) else None,
        )

    # ----------------------------------------------------------------- run files

    def _is_our_server(self, pid: int) -> bool:
        """Guards against pid reuse: the process must be Neo4j started on this home."""
        cmdline = cmdline_of(pid)
        if not cmdline:
            return True  # no /proc to ask; trust the pid file
        return MAIN_CLASS in cmdline and f"--home-dir={self.home}" in cmdline

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None

    def _read_state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _write_state(self, pid: int, started_in_s: float | None) -> None:
        """The facts status() reports for a running server, even from another process."""
        state = {"pid": pid, "bolt_port": self.settings.neo4j_bolt_port, "http_port": self.settings.neo4j_http_port,
                 "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "started_in_s": started_in_s}
        self.state_path.write_text(json.dumps(state) + "\n")

    def _clear_run_files(self) -> None:
        for path in (self.pid_path, self.state_path):
            path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """An exclusive flock on run/kcrm-neo4j.lock for the duration of start/stop."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with (self.run_dir / LOCK_FILE).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def as_dict(self) -> dict[str, object]:
        """The status as JSON-ready values (for `kcrm neo4j status --json` and the API)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self.status()).items()}


# --------------------------------------------------------------------------- process helpers


def java_binary() -> str:
    """The `java` to run: $JAVA_HOME/bin/java if set, else the one on PATH; must be Java 17+."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not candidate or not Path(candidate).exists():
        raise Neo4jServerError("Java is not installed (no `java` on PATH and no JAVA_HOME); "
                               f"Neo4j 5.26 needs Java {MIN_JAVA} or 21")
    version = java_version(candidate)
    if version is not None and int(version.split(".")[0]) < MIN_JAVA:
        raise Neo4jServerError(f"{candidate} is Java {version}; Neo4j 5.26 needs Java {MIN_JAVA} or 21 "
                               "(set JAVA_HOME)")
    return candidate


def neo4j_version_of(jar_names: list[str]) -> str | None:
    """The Neo4j version from the server jar's name (neo4j-5.26.x.jar)."""
    for name in jar_names:
        match = re.fullmatch(r"neo4j-(\d+\.\d+\.\d+)\.jar", name)
        if match:
            return match.group(1)
    return None


def _bolt_driver(uri: str, settings: Settings) -> Driver:
    """A driver with a short connect timeout, for polling during start-up."""
    return GraphDatabase.driver(uri, auth=(settings.neo4j_user, settings.neo4j_password), connection_timeout=2.0)


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Loopback requests must never go through an http_proxy from the environment."""


def _http_ready(url: str) -> bool:
    """True when Neo4j's HTTP discovery endpoint answers 200 (it needs no credentials)."""
    try:
        with _NO_PROXY_OPENER.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _server_env(home: Path, conf_dir: Path) -> Mapping[str, str]:
    """The launcher script's environment variables, which some Neo4j code still consults."""
    return dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(conf_dir))


def ensure_neo4j(settings: Settings) -> str:
    """The Bolt URI to use, starting the bundled server first when kcrm owns Neo4j.

    With NEO4J_URI set nothing is started: that server is someone else's to run. Otherwise
    `start()` is called even when the server runs: it waits on the start lock, so a server
    that another process is still starting is ready when this returns (one quick Bolt check
    when it already was).
    """
    if not settings.local_neo4j:
        return settings.bolt_uri
    return LocalNeo4j(settings).start().bolt_uri
