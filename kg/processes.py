"""Process and port helpers for the bundled Neo4j: who listens where, is a pid alive, log tails.

Linux-first (reads /proc); each helper degrades to a plain answer where /proc is absent.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import time
from pathlib import Path

from kcrm.kg.neo4j_conf import HOST


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
    inodes = listening_inodes(port)
    if not inodes:
        return None
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return f"pid {proc.name} ({short_cmdline(cmdline_of(int(proc.name)))})"
    return None


def listening_inodes(port: int) -> set[str]:
    """Socket inodes in LISTEN state (0A) on the port, from /proc/net/tcp{,6}."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def short_cmdline(cmdline: str, limit: int = 160) -> str:
    """A long java command line cut in the middle: the program and the main class both stay visible."""
    if len(cmdline) <= limit:
        return cmdline
    program = cmdline.split(" ", 1)[0]
    return f"{program} ... {cmdline[-(limit - len(program) - 5):]}"


def cmdline_of(pid: int) -> str:
    """A process's command line as one string ("" when it is gone or unreadable)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


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


def send_signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def wait_exit(pid: int, timeout_s: float) -> bool:
    """Wait for the process to be gone; True when it is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.2)
    return not process_alive(pid)
