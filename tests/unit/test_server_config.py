"""The pure parts of the bundled Neo4j server: its config, its command line, port checks, run files.

Nothing here starts Java or Maven (a fake `mvn` script stands in where Maven's failure is tested).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import Neo4jServerError
from kcrm.kg import server
from kcrm.kg.neo4j_conf import (
    MAIN_CLASS,
    cds_flags,
    java_command,
    render_conf,
    render_server_logs_xml,
    render_user_logs_xml,
    validate_size,
)
from kcrm.kg.processes import port_in_use, port_owner, tail
from kcrm.kg.server import INSTALL_MARKER, LocalNeo4j, ensure_neo4j, neo4j_version_of, pom_hash


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a home under tmp_path, independent of the caller's NEO4J_* environment."""
    values: dict[str, Any] = {"data_dir": tmp_path, "neo4j_bolt_port": 17111, "neo4j_http_port": 17112,
                              "neo4j_pagecache": "256m", "neo4j_heap": "1g", "neo4j_uri": None,
                              "neo4j_user": "neo4j", "neo4j_password": "unit-test-password"}
    values.update(overrides)
    return Settings(**values)


def conf_dict(text: str) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")]
    return {key: value for key, value in pairs}


@pytest.fixture
def listening_socket() -> Iterator[int]:
    """A port on 127.0.0.1 that this test process listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


# --------------------------------------------------------------------------- neo4j.conf


def test_conf_binds_loopback_on_the_configured_ports(tmp_path: Path) -> None:
    conf = conf_dict(render_conf(settings_for(tmp_path)))
    assert conf["server.bolt.listen_address"] == "127.0.0.1:17111"
    assert conf["server.http.listen_address"] == "127.0.0.1:17112"
    assert conf["server.default_listen_address"] == "127.0.0.1"
    assert conf["server.https.enabled"] == "false"
    assert conf["server.bolt.enabled"] == "true"
    assert "0.0.0.0" not in render_conf(settings_for(tmp_path))  # noqa: S104 - asserting its absence


def test_conf_keeps_everything_under_the_home(tmp_path: Path) -> None:
    home = (tmp_path / "neo4j").resolve()
    conf = conf_dict(render_conf(settings_for(tmp_path)))
    for key, folder in (("data", "data"), ("logs", "logs"), ("run", "run"), ("lib", "lib"), ("plugins", "plugins"),
                        ("import", "import")):
        assert conf[f"server.directories.{key}"] == str(home / folder)
    assert conf["server.logs.config"] == str(home / "conf" / "server-logs.xml")
    assert conf["server.logs.user.config"] == str(home / "conf" / "user-logs.xml")


def test_conf_memory_auth_and_privacy(tmp_path: Path) -> None:
    conf = conf_dict(render_conf(settings_for(tmp_path)))
    assert conf["server.memory.pagecache.size"] == "256m"
    assert conf["dbms.security.auth_enabled"] == "true"
    assert conf["dbms.usage_report.enabled"] == "false"
    assert conf["client.allow_telemetry"] == "false"
    assert conf["db.tx_log.preallocate"] == "false"


@pytest.mark.parametrize("bad", ["", "1 g", "lots", "0g", "-1g", "1t", "1gb"])
def test_sizes_are_checked_before_java_sees_them(tmp_path: Path, bad: str) -> None:
    with pytest.raises(Neo4jServerError, match="512m"):
        validate_size(bad, "neo4j_heap")
    with pytest.raises(Neo4jServerError):
        render_conf(settings_for(tmp_path, neo4j_pagecache=bad))


@pytest.mark.parametrize("good", ["1g", "512m", "2G", "1048576k", "4096"])
def test_valid_sizes_pass(good: str) -> None:
    assert validate_size(good, "neo4j_heap") == good


def test_log_configs_are_well_formed_xml() -> None:
    server_logs = render_server_logs_xml()
    root = ET.fromstring(server_logs)
    assert root.tag == "Configuration"
    for name in ("debug.log", "http.log", "query.log", "security.log"):
        assert f"${{config:server.directories.logs}}/{name}" in server_logs
        assert f"$${{config:server.directories.logs}}/{name}.%02i" in server_logs
    assert {el.get("name") for el in root.iter("Logger")} == {"QueryLogger", "HttpLogger", "SecurityLogger"}
    user_root = ET.fromstring(render_user_logs_xml())
    assert [el.get("target") for el in user_root.iter("Console")] == ["SYSTEM_OUT"]


# --------------------------------------------------------------------------- the command line


def test_java_command_line(tmp_path: Path) -> None:
    home = (tmp_path / "neo4j").resolve()
    command = java_command(settings_for(tmp_path, neo4j_heap="2g"), java="/opt/jdk/bin/java")
    assert command[0] == "/opt/jdk/bin/java"
    assert command[1:3] == ["-Xms2g", "-Xmx2g"]
    for flag in ("--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
                 "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "-Dio.netty.tryReflectionSetAccessible=true"):
        assert flag in command
    assert "-XX:+AlwaysPreTouch" not in command
    cp = command[command.index("-cp") + 1]
    assert cp == f"{home / 'lib'}/*{os.pathsep}{home / 'plugins'}/*"
    assert command[command.index("-cp") + 2] == MAIN_CLASS
    assert command[-3:] == [f"--home-dir={home}", f"--config-dir={home / 'conf'}", "--console-mode"]


def test_extra_flags_go_before_the_classpath(tmp_path: Path) -> None:
    command = java_command(settings_for(tmp_path), extra_flags=["-XX:SharedArchiveFile=/x.jsa"])
    assert command.index("-XX:SharedArchiveFile=/x.jsa") < command.index("-cp")


def test_java_command_rejects_a_bad_heap(tmp_path: Path) -> None:
    with pytest.raises(Neo4jServerError, match="neo4j_heap"):
        java_command(settings_for(tmp_path, neo4j_heap="one gig"))


def test_class_data_sharing_records_first_then_reuses(tmp_path: Path) -> None:
    archive, partial = tmp_path / "a.jsa", tmp_path / "a.jsa.partial"
    recording = cds_flags(archive, partial)
    assert recording[0] == f"-XX:ArchiveClassesAtExit={partial}"
    archive.write_bytes(b"x")
    assert cds_flags(archive, partial) == [f"-XX:SharedArchiveFile={archive}"]


def test_local_neo4j_without_class_data_sharing_adds_no_flags(tmp_path: Path) -> None:
    assert LocalNeo4j(settings_for(tmp_path), class_data_sharing=False)._cds_flags("java") == []


# --------------------------------------------------------------------------- ports


def test_port_in_use_sees_a_listener(listening_socket: int) -> None:
    assert port_in_use(listening_socket)


def test_port_is_free_after_the_listener_closed() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
    assert not port_in_use(port)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="port owner lookup reads /proc (Linux)")
def test_port_owner_names_the_listening_process(listening_socket: int) -> None:
    owner = port_owner(listening_socket)
    assert owner is not None and owner.startswith(f"pid {os.getpid()} ")


def test_start_refuses_a_taken_bolt_port_and_names_the_holder(tmp_path: Path, listening_socket: int) -> None:
    local = LocalNeo4j(settings_for(tmp_path, neo4j_bolt_port=listening_socket))
    with pytest.raises(Neo4jServerError, match=f"Bolt port 127.0.0.1:{listening_socket} is already in use") as err:
        local.start()
    if Path("/proc/net/tcp").exists():
        assert f"pid {os.getpid()}" in str(err.value)
    assert not (tmp_path / "neo4j" / "lib").exists(), "nothing is installed when the port is taken"


def test_start_refuses_a_taken_http_port(tmp_path: Path, listening_socket: int) -> None:
    local = LocalNeo4j(settings_for(tmp_path, neo4j_http_port=listening_socket))
    with pytest.raises(Neo4jServerError, match="HTTP port"):
        local.start()


# --------------------------------------------------------------------------- status and run files


def test_status_of_a_fresh_home(tmp_path: Path) -> None:
    status = LocalNeo4j(settings_for(tmp_path)).status()
    home = (tmp_path / "neo4j").resolve()
    assert not status.running and status.pid is None and status.started_in_s is None
    assert status.bolt_uri == "bolt://127.0.0.1:17111"
    assert status.http_url == "http://127.0.0.1:17112"
    assert status.home == home
    assert status.log_path == home / "logs" / "console.log"


def test_a_pid_file_naming_another_program_is_not_a_running_server(tmp_path: Path) -> None:
    local = LocalNeo4j(settings_for(tmp_path))
    local.run_dir.mkdir(parents=True)
    local.pid_path.write_text(f"{os.getpid()}\n")  # alive, but pytest, not Neo4j (pid reuse)
    assert not local.status().running
    local.stop()  # a no-op that clears the stale file
    assert not local.pid_path.exists()


def test_stop_when_not_running_is_a_no_op(tmp_path: Path) -> None:
    LocalNeo4j(settings_for(tmp_path)).stop()


def test_tail_reads_only_from_the_offset(tmp_path: Path) -> None:
    log_file = tmp_path / "console.log"
    log_file.write_text("old run\n" + "\n".join(f"line {i}" for i in range(100)) + "\n")
    assert tail(log_file, offset=len("old run\n"), lines=2) == "line 98\nline 99"
    assert "old run" not in tail(log_file, offset=len("old run\n"), lines=500)
    assert tail(tmp_path / "missing.log") == ""


# --------------------------------------------------------------------------- install


def test_install_is_skipped_when_the_marker_matches_the_pom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = LocalNeo4j(settings_for(tmp_path))
    local.lib_dir.mkdir(parents=True)
    (local.lib_dir / INSTALL_MARKER).write_text(json.dumps({"pom_sha256": pom_hash()}))

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("Maven must not run")

    monkeypatch.setattr(server.subprocess, "run", no_subprocess)
    assert local.installed()
    local.install()


def test_a_marker_for_another_pom_means_reinstall(tmp_path: Path) -> None:
    local = LocalNeo4j(settings_for(tmp_path))
    local.lib_dir.mkdir(parents=True)
    (local.lib_dir / INSTALL_MARKER).write_text(json.dumps({"pom_sha256": "0" * 64}))
    assert not local.installed()


def test_install_without_maven_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = server.shutil.which
    monkeypatch.setattr(server.shutil, "which", lambda name: None if name == "mvn" else real_which(name))
    monkeypatch.setattr(server, "java_binary", lambda: "/usr/bin/java")
    with pytest.raises(Neo4jServerError, match="Maven"):
        LocalNeo4j(settings_for(tmp_path)).install()


def test_install_without_java_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(server.shutil, "which", lambda name: None)
    with pytest.raises(Neo4jServerError, match="Java is not installed"):
        LocalNeo4j(settings_for(tmp_path)).install()


def test_a_failing_maven_is_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "mvn"
    fake.write_text("#!/bin/sh\nfor i in $(seq 1 50); do echo \"maven line $i\"; done\n"
                    "echo '[ERROR] Could not resolve org.neo4j:neo4j'\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(server, "java_binary", lambda: "/usr/bin/java")
    local = LocalNeo4j(settings_for(tmp_path / "data"))
    with pytest.raises(Neo4jServerError, match=r"Could not resolve org\.neo4j:neo4j") as err:
        local.install()
    message = str(err.value)
    assert "maven line 50" in message and "maven line 1\n" not in message
    assert "install.log" in message
    assert not local.installed() and not local.lib_dir.exists()


def test_neo4j_version_from_jar_names() -> None:
    assert neo4j_version_of(["neo4j-kernel-5.26.31.jar", "neo4j-5.26.31.jar"]) == "5.26.31"
    assert neo4j_version_of(["neo4j-kernel-5.26.31.jar"]) is None


def test_pom_pins_a_5_26_release_and_its_plugins() -> None:
    root = ET.parse(server.POM_PATH).getroot()
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = root.findtext("m:properties/m:neo4j.version", namespaces=ns)
    assert version is not None and version.startswith("5.26.")
    for plugin in root.iterfind(".//m:plugins/m:plugin", ns):
        if plugin.find("m:version", ns) is None:
            artifact = plugin.findtext("m:artifactId", namespaces=ns)
            managed = [p for p in root.iterfind("m:build/m:pluginManagement/m:plugins/m:plugin", ns)
                       if p.findtext("m:artifactId", namespaces=ns) == artifact]
            assert managed and managed[0].find("m:version", ns) is not None, artifact


# --------------------------------------------------------------------------- passwords and ensure_neo4j


def test_short_passwords_are_refused_before_neo4j_admin_runs(tmp_path: Path) -> None:
    with pytest.raises(Neo4jServerError, match="at least 8"):
        LocalNeo4j(settings_for(tmp_path, neo4j_password="short")).set_initial_password()


def test_the_bundled_server_has_only_user_neo4j(tmp_path: Path) -> None:
    with pytest.raises(Neo4jServerError, match="only the user 'neo4j'"):
        LocalNeo4j(settings_for(tmp_path, neo4j_user="alice")).set_initial_password()


def test_ensure_neo4j_with_an_external_uri_starts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: LocalNeo4j, wait: bool = True) -> None:
        raise AssertionError("must not start the local server")

    monkeypatch.setattr(LocalNeo4j, "start", boom)
    settings = settings_for(tmp_path, neo4j_uri="neo4j+s://example.databases.neo4j.io")
    assert ensure_neo4j(settings) == "neo4j+s://example.databases.neo4j.io"
    assert not (tmp_path / "neo4j").exists()
