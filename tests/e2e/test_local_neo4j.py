"""The bundled Neo4j for real: install (from ~/.m2 or Maven Central), start, query over Bolt, stop.

Runs in its own temporary home on free ports, so it neither touches nor needs the session's
shared test server or a developer's running one. Needs Java 17+ and Maven.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import Neo4jServerError
from kcrm.kg.server import LocalNeo4j, ensure_neo4j, port_in_use, process_alive

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-local-neo4j-password"


def free_ports(count: int) -> list[int]:
    """Distinct loopback ports that nothing listens on right now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    bolt, http = free_ports(2)
    return Settings(data_dir=tmp_path_factory.mktemp("kcrm-neo4j"), neo4j_bolt_port=bolt, neo4j_http_port=http,
                    neo4j_heap="1g", neo4j_pagecache="128m", neo4j_uri=None, neo4j_user="neo4j",
                    neo4j_password=PASSWORD)


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[LocalNeo4j]:
    """The server under test; stopped at the end whatever the tests did."""
    local = LocalNeo4j(settings)
    yield local
    local.stop(timeout_s=30)


def return_one(uri: str, password: str = PASSWORD) -> int:
    with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one")
        return int(records[0]["one"])


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_start_query_status_stop(server: LocalNeo4j, settings: Settings) -> None:
    status = server.start()

    assert status.running and status.pid is not None and process_alive(status.pid)
    assert status.bolt_uri == f"bolt://127.0.0.1:{settings.neo4j_bolt_port}"
    assert status.http_url == f"http://127.0.0.1:{settings.neo4j_http_port}"
    assert status.started_in_s is not None and 0 < status.started_in_s < settings.neo4j_start_timeout_s
    assert return_one(status.bolt_uri) == 1

    assert status.home == settings.neo4j_home.resolve()
    assert status.log_path == status.home / "logs" / "console.log"
    assert "Started." in status.log_path.read_text()
    assert (status.home / "logs" / "debug.log").stat().st_size > 0
    assert server.pid_path.read_text().strip() == str(status.pid)
    assert server.status() == status, "status() from the run files matches what start() returned"

    again = server.start()
    assert again.pid == status.pid, "starting a running server is a no-op"
    assert ensure_neo4j(settings) == status.bolt_uri

    server.stop()

    stopped = server.status()
    assert not stopped.running and stopped.pid is None
    assert not process_alive(status.pid)
    assert not server.pid_path.exists()
    assert not port_in_use(settings.neo4j_bolt_port)
    assert "Stopped." in status.log_path.read_text()
    server.stop()  # stopping a stopped server is a no-op


def test_restart_keeps_the_password_and_maps_the_class_archive(server: LocalNeo4j, settings: Settings) -> None:
    archives = list(server.lib_dir.glob(".kcrm-cds-*.jsa"))
    if not archives:  # run alone: the first clean stop records the archive
        server.start()
        server.stop()
        archives = list(server.lib_dir.glob(".kcrm-cds-*.jsa"))
    assert len(archives) == 1 and archives[0].stat().st_size > 0

    status = server.start()
    try:
        assert f"-XX:SharedArchiveFile={archives[0]}" in cmdline(status.pid or 0)
        assert return_one(status.bolt_uri) == 1, "the initial password survives a restart"
        with pytest.raises(AuthError):
            return_one(status.bolt_uri, password="not-the-password")
    finally:
        server.stop()
    assert not server.status().running


def test_a_server_that_dies_during_start_up_is_reported_with_its_log(server: LocalNeo4j, settings: Settings) -> None:
    broken = LocalNeo4j(settings.model_copy(update={"neo4j_heap": "16k"}))  # the JVM refuses so small a heap
    with pytest.raises(Neo4jServerError, match="exited during start-up") as err:
        broken.start()
    message = str(err.value)
    assert str(broken.log_path) in message
    assert "heap" in message.lower()
    assert not broken.status().running and not broken.pid_path.exists()
