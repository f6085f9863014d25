"""The bundled Neo4j's configuration and command lines: pure functions of the settings.

Kept apart from the process management in `kcrm.kg.server` so that what kcrm asks of Neo4j
(addresses, memory, logs, JVM flags) can be read, and unit-tested, in one place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import Neo4jServerError

MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
"""What the tarball's `bin/neo4j console` ends up running, minus the launcher script."""

ADMIN_CLASS = "org.neo4j.cli.AdminTool"
"""`neo4j-admin`'s in-process entry point; it finds the home and conf through NEO4J_HOME/NEO4J_CONF."""

HOST = "127.0.0.1"
"""The only address the bundled server ever binds: it is a local development/test server."""

JVM_FLAGS: tuple[str, ...] = (
    # The subset of 5.26's stock `server.jvm.additional` that matters on Java 17 (without them start-up fails with a LinkageError):
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

_SIZE = re.compile(r"^[1-9][0-9]*[kKmMgG]?$")


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
