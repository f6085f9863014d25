"""The bundled local Neo4j Community server: installed from Maven Central, started and stopped by kcrm.

Why this exists: kcrm wants a real Neo4j everywhere (DESIGN.md, decision 2) without Docker and
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
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, DriverError, Neo4jError

from kcrm.config import Settings
from kcrm.errors import Neo4jServerError

log = logging.getLogger(__name__)

POM_PATH = Path(__file__).resolve().parent / "neo4j-server" / "pom.xml"
"""The Maven build that resolves Neo4j and copies it into `<home>/lib`."""

MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
"""What the tarball's `bin/neo4j console` ends up running, minus the launcher script."""

ADMIN_CLASS = "org.neo4j.cli.AdminTool"
"""`neo4j-admin`'s in-process entry point; it finds the home and conf through NEO4J_HOME/NEO4J_CONF."""

HOST = "127.0.0.1"
"""The only address the bundled server ever binds: it is a local development/test server."""

INSTALL_MARKER = ".kcrm-install.json"
PID_FILE = "kcrm-neo4j.pid"
STATE_FILE = "kcrm-neo4j.json"
LOCK_FILE = "kcrm-neo4j.lock"
CONSOLE_LOG = "console.log"
MIN_JAVA = 17
MIN_PASSWORD_LENGTH = 8
"""Neo4j 5's default `dbms.security.auth_minimum_password_length`; shorter passwords are refused."""

JVM_FLAGS: tuple[str, ...] = (
    # The subset of 5.26's stock `server.jvm.additional` that matters on Java 17 (see DESIGN.md):
    # without the add-opens and the netty flag start-up fails with a LinkageError on
    # java.nio.DirectByteBuffer. `-XX:+AlwaysPreTouch` is left out on purpose: it commits the whole
    # heap up front, which slows start-up and inflates the resident size of a development server.
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j.layout.jsonTemplate.maxStringLength=32768",
    "-Dfile.encoding=UTF-8",
)

_DETACH_SCRIPT = '"$@" </dev/null >>"$KCRM_CONSOLE_LOG" 2>&1 & echo $!'
"""Runs the command line given as arguments in the background, output to the console log; prints its pid."""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SIZE = re.compile(r"^[1-9][0-9]*[kKmMgG]?$")


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


def validate_size(value: str, what: str) -> str:
    """Check a JVM-style size ("1g", "512m") early, so a typo fails here and not inside Java."""
    if not _SIZE.match(value.strip()):
        raise Neo4jServerError(f"{what} must look like 512m or 2g, not {value!r}")
    return value.strip()


def render_conf(settings: Settings) -> str:
    """neo4j.conf for the bundled server, written before every start so settings changes apply.

    Everything binds to 127.0.0.1; https is off (a loopback development server has no
    certificate); usage reporting and browser telemetry are off (no network, no surprises);
    the query log is off because a development server gains nothing from logging every query
    and the disk writes slow tests down; transaction logs are not preallocated (see below). Authentication stays on: the initial password is set
    by `neo4j-admin dbms set-initial-password` before the first start.
    """
    home = settings.neo4j_home.resolve()
    bolt, http = settings.neo4j_bolt_port, settings.neo4j_http_port
    pagecache = validate_size(settings.neo4j_pagecache, "neo4j_pagecache")
    lines = [
        "# Written by kcrm (kcrm.kg.server) at every start; edits here are overwritten.",
        "# Change kcrm's settings (KCRM_NEO4J_*) instead.",
        f"server.directories.data={home / 'data'}",
        f"server.directories.logs={home / 'logs'}",
        f"server.directories.run={home / 'run'}",
        f"server.directories.lib={home / 'lib'}",
        f"server.directories.plugins={home / 'plugins'}",
        f"server.directories.import={home / 'import'}",
        f"server.default_listen_address={HOST}",
        f"server.default_advertised_address={HOST}",
        "server.bolt.enabled=true",
        f"server.bolt.listen_address={HOST}:{bolt}",
        f"server.bolt.advertised_address={HOST}:{bolt}",
        "server.http.enabled=true",
        f"server.http.listen_address={HOST}:{http}",
        f"server.http.advertised_address={HOST}:{http}",
        "server.https.enabled=false",
        f"server.memory.pagecache.size={pagecache}",
        "dbms.security.auth_enabled=true",
        "dbms.usage_report.enabled=false",
        "client.allow_telemetry=false",
        "db.logs.query.enabled=OFF",
        # Each database otherwise preallocates a 256 MiB transaction log file: half a gigabyte
        # of disk for an empty development or test server.
        "db.tx_log.preallocate=false",
        # Bolt's netty waits a 5 s quiet period on shutdown although every database is already
        # stopped by then; 1 s makes `stop()` (run after every test session) 4 s faster.
        "internal.dbms.bolt.netty_server_shutdown_quiet_period=1",
        f"server.logs.config={home / 'conf' / 'server-logs.xml'}",
        f"server.logs.user.config={home / 'conf' / 'user-logs.xml'}",
    ]
    return "\n".join(lines) + "\n"


def render_server_logs_xml() -> str:
    """log4j2 config of the server's internal logs (debug.log, http.log, query.log, security.log).

    The tarball ships this file in conf/ and the Maven jars do not; without it Neo4j has no
    debug.log, the first place to look when something goes wrong. Same layout as the stock file,
    fewer rolled-over files (a development server).
    """
    appenders = "".join((
        _rolling("DebugLog", "debug.log", _DEBUG_LAYOUT),
        _rolling("HttpLog", "http.log", _PATTERN_LAYOUT),
        _rolling("QueryLog", "query.log", _PATTERN_LAYOUT),
        _rolling("SecurityLog", "security.log", _PATTERN_LAYOUT),
    ))
    loggers = "".join(
        f'\n    <Logger name="{name}" level="INFO" additivity="false"><AppenderRef ref="{ref}"/></Logger>'
        for name, ref in (("QueryLogger", "QueryLog"), ("HttpLogger", "HttpLog"), ("SecurityLogger", "SecurityLog"))
    )
    return _log4j_config(appenders, '\n    <Root level="INFO"><AppenderRef ref="DebugLog"/></Root>' + loggers)


def render_user_logs_xml() -> str:
    """log4j2 config of the user log (what the tarball writes to neo4j.log): to stdout only.

    The server runs with `--console-mode` and its stdout goes to logs/console.log, so that one
    file holds the start-up messages, errors and anything the JVM prints, in order; that is the
    file `start()` quotes when the server dies.
    """
    appender = f'\n    <Console name="Console" target="SYSTEM_OUT">{_PATTERN_LAYOUT}</Console>'
    return _log4j_config(appender, '\n    <Root level="INFO"><AppenderRef ref="Console"/></Root>')


_DEBUG_LAYOUT = '<Neo4jDebugLogLayout pattern="%d{yyyy-MM-dd HH:mm:ss.SSSZ}{GMT+0} %-5p [%c{1.}] %m%n"/>'
_PATTERN_LAYOUT = '<PatternLayout pattern="%d{yyyy-MM-dd HH:mm:ss.SSSZ}{GMT+0} %-5p %m%n"/>'


def _rolling(name: str, file: str, layout: str) -> str:
    """One size-rolled log file under server.directories.logs (resolved by Neo4j's config lookup)."""
    return (f'\n    <RollingRandomAccessFile name="{name}" fileName="${{config:server.directories.logs}}/{file}"'
            f' filePattern="$${{config:server.directories.logs}}/{file}.%02i">{layout}'
            '<Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>'
            '<DefaultRolloverStrategy fileIndex="min" max="3"/></RollingRandomAccessFile>')


def _log4j_config(appenders: str, loggers: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- Written by kcrm (kcrm.kg.server) at every start. -->\n'
            '<Configuration status="ERROR" monitorInterval="30" packages="org.neo4j.logging.log4j">\n'
            f'  <Appenders>{appenders}\n  </Appenders>\n  <Loggers>{loggers}\n  </Loggers>\n</Configuration>\n')


def java_command(settings: Settings, java: str = "java", extra_flags: Sequence[str] = ()) -> list[str]:
    """The full command line of the server process (no shell, so no quoting issues).

    Heap is given as -Xms = -Xmx: neo4j.conf's heap settings are read only by the launcher
    script we do not use, and an equal min/max avoids resizing pauses. `extra_flags` carries
    the class-data-sharing options (see `LocalNeo4j._cds_flags`).
    """
    home = settings.neo4j_home.resolve()
    heap = validate_size(settings.neo4j_heap, "neo4j_heap")
    classpath = f"{home / 'lib'}/*{os.pathsep}{home / 'plugins'}/*"
    return [
        java, f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS, *extra_flags,
        "-cp", classpath, MAIN_CLASS,
        f"--home-dir={home}", f"--config-dir={home / 'conf'}", "--console-mode",
    ]


def admin_command(settings: Settings, args: list[str], java: str = "java") -> list[str]:
    """`neo4j-admin <args>` run in-process from the same jars (no launcher script needed)."""
    home = settings.neo4j_home.resolve()
    return [java, "-Xmx256m", *JVM_FLAGS, "-cp", f"{home / 'lib'}/*", ADMIN_CLASS, *args]


def cds_flags(archive: Path, partial: Path) -> list[str]:
    """JVM flags for application class-data sharing (JEP 350 dynamic archives, Java 13+).

    Neo4j loads ~20,000 classes at start-up, which on a small machine is most of its start
    time. The first run records them (`-XX:ArchiveClassesAtExit`, written when the JVM exits
    cleanly, i.e. at `stop()`); every later run maps the archive (`-XX:SharedArchiveFile`),
    which roughly halves the time to Bolt-ready and lowers the resident size. The recording
    run's ~900 "skipping signed jar" warnings are silenced; a rejected archive (other JDK
    build, changed jars) only makes the JVM warn in console.log and run without it.
    """
    if archive.is_file():
        return [f"-XX:SharedArchiveFile={archive}"]
    return [f"-XX:ArchiveClassesAtExit={partial}", "-Xlog:cds=off,cds+dynamic=off"]


def java_version(java: str) -> str | None:
    """JAVA_VERSION from the JDK's `release` file (no extra process); None when not found."""
    release = Path(os.path.realpath(java)).parent.parent / "release"
    with contextlib.suppress(OSError):
        match = re.search(r'^JAVA_VERSION="([^"]+)"', release.read_text(), re.MULTILINE)
        if match:
            return match.group(1)
    return None


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when something listens on host:port, or the port cannot be bound for another reason.

    Binds with SO_REUSEADDR like a server would, so TIME_WAIT leftovers of a just-stopped
    server do not count as "in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_owner(port: int) -> str | None:
    """Best effort, Linux only: "pid N (command line)" of the process listening on the port.

    Used only to make the "port in use" error actionable; returns None when it cannot tell
    (another OS, or a process owned by another user).
    """
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return f"pid {proc.name} ({_short(_cmdline(int(proc.name)))})"
    return None


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes in LISTEN state (0A) on the port, from /proc/net/tcp{,6}."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def _short(cmdline: str, limit: int = 160) -> str:
    """A long java command line cut in the middle: the program and the main class both stay visible."""
    if len(cmdline) <= limit:
        return cmdline
    program = cmdline.split(" ", 1)[0]
    return f"{program} ... {cmdline[-(limit - len(program) - 5):]}"


def _cmdline(pid: int) -> str:
    """A process's command line as one string ("" when it is gone or unreadable)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def pom_hash(pom: Path = POM_PATH) -> str:
    """SHA-256 of the pom: any change to it (a new Neo4j version) means reinstalling lib/."""
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def tail(path: Path, offset: int = 0, lines: int = 40) -> str:
    """The last `lines` lines of a file from byte `offset` on (what this start wrote), for errors."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def process_alive(pid: int) -> bool:
    """True when the pid exists and is not a zombie (a dead child we have not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): kill(0) is all we know
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


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
            _signal(pid, signal.SIGTERM)
            clean = _wait_exit(pid, timeout_s)
            if not clean:
                log.warning("neo4j (pid %s) did not stop within %.0f s; killing it", pid, timeout_s)
                _signal(pid, signal.SIGKILL)
                if not _wait_exit(pid, 10):
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
        cmdline = _cmdline(pid)
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


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait_exit(pid: int, timeout_s: float) -> bool:
    """Wait for the process to be gone; True when it is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.2)
    return not process_alive(pid)


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
