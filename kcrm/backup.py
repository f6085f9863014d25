"""`kcrm backup DEST` and `kcrm restore SRC`: the graph, the published index and the service state.

A backup directory holds:
- `graph/neo4j.dump`: Neo4j's own dump of the bundled server's database (`neo4j-admin database
  dump`). Community dumps only an offline database, so the server is stopped for the dump and
  started again (seconds on the sample; see docs/operations.md). With an external Neo4j
  (NEO4J_URI) the graph is not copied: dump it with that server's tools (the docs give the
  commands) and keep the file beside this backup.
- `index/`: the published search generation, copied under the index writers' lock.
- `state/`: keys, audit, alerts and ingest jobs are service-state nodes in Neo4j, so the graph's
  dump carries them; any SQLite file left in the data dir is copied with SQLite's online backup
  (a running process never tears it), plus the trained topic model.
- `manifest.json`: kcrm's version, when, what, and the SHA-256 and size of every file.

Restore checks every checksum before it touches anything, refuses a data dir that already holds
a graph, loads the dump into the bundled server (stopped for the load), and puts the index and
the state files back where they were. Files are copied generically so that service state moved
elsewhere (into Neo4j, say) is carried by the graph dump and nothing here needs to change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kcrm import __version__
from kcrm.foundation.config import Settings
from kcrm.foundation.errors import KcrmError

log = logging.getLogger(__name__)

FORMAT = "kcrm-backup"
VERSION = 1
MANIFEST = "manifest.json"
DUMP = Path("graph") / "neo4j.dump"
DATABASE = "neo4j"
STATE_FILE_GLOBS = ("*.sqlite3",)
STATE_DIRS = ("models",)


class BackupError(KcrmError):
    """A backup could not be taken or restored; the message says which file or step, and why."""

    title = "Backup failed"
    status = 500


@dataclass(frozen=True)
class BackupResult:
    """Where, how many files and bytes, how long, and whether the graph is in it."""

    path: Path
    files: int
    bytes: int
    seconds: float
    graph: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "files": self.files, "bytes": self.bytes, "seconds": self.seconds,
                "graph": self.graph}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _admin(settings: Settings, args: list[str]) -> None:
    from kcrm.kg.neo4j_conf import admin_command
    from kcrm.kg.server import _server_env, java_binary

    home = settings.neo4j_home.resolve()
    result = subprocess.run(admin_command(settings, args, java_binary()), env=_server_env(home, home / "conf"),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=home, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        raise BackupError(f"neo4j-admin {' '.join(args[:2])} failed (exit {result.returncode}):\n{tail}")


def _state_files(settings: Settings) -> dict[str, Path]:
    """Service-state files by their name in the backup: SQLite databases and the model folder."""
    data_dir = settings.data_dir.resolve()
    found: dict[str, Path] = {}
    for pattern in STATE_FILE_GLOBS:
        for path in sorted(data_dir.rglob(pattern)):
            if data_dir / "neo4j" not in path.parents and data_dir / "index" not in path.parents:
                found[str(path.relative_to(data_dir))] = path
    for name in STATE_DIRS:
        for path in sorted((data_dir / name).rglob("*")) if (data_dir / name).is_dir() else []:
            if path.is_file():
                found[str(path.relative_to(data_dir))] = path
    return found


def _copy_state(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix == ".sqlite3":
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        sqlite3.connect(target).close()
    else:
        shutil.copy2(source, target)


def backup(settings: Settings, dest: Path) -> BackupResult:
    """Write a backup to `dest` (a new or empty directory); see the module docstring."""
    from kcrm.kg.server import LocalNeo4j
    from kcrm.search.incremental import index_lock

    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: a backup goes into a new directory")
    started = time.perf_counter()
    dest.mkdir(parents=True, exist_ok=True)
    graph = "external: not copied (dump it with the server's own tools, docs/operations.md)"
    if settings.local_neo4j:
        server = LocalNeo4j(settings)
        running = server.status().running
        (dest / DUMP.parent).mkdir(parents=True)
        if running:
            server.stop()
        try:
            _admin(settings, ["database", "dump", DATABASE, f"--to-path={(dest / DUMP.parent).resolve()}",
                              "--overwrite-destination=true"])
        finally:
            if running:
                server.start()
        graph = "bundled: neo4j-admin database dump"
    with index_lock(settings):
        if settings.index_dir.is_dir():
            shutil.copytree(settings.index_dir, dest / "index")
    for name, path in _state_files(settings).items():
        _copy_state(path, dest / "state" / name)
    files: dict[str, dict[str, Any]] = {str(p.relative_to(dest)): {"sha256": _sha256(p), "bytes": p.stat().st_size}
             for p in sorted(dest.rglob("*")) if p.is_file()}
    manifest = {"format": FORMAT, "version": VERSION, "kcrm": __version__, "created_at": datetime.now(UTC).isoformat(),
                "graph": graph, "files": files}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    result = BackupResult(dest, len(files), sum(f["bytes"] for f in files.values()),
                          round(time.perf_counter() - started, 2), graph)
    log.info("backup written: %s", result.as_dict())
    return result


def verify(src: Path) -> dict[str, Any]:
    """The backup's manifest after checking every file's size and checksum; BackupError names the first bad one."""
    try:
        manifest = json.loads((Path(src) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} has no readable {MANIFEST}: {exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{src}/{MANIFEST} is not a {FORMAT} v{VERSION} manifest")
    for name, expected in manifest["files"].items():
        path = Path(src) / name
        if not path.is_file():
            raise BackupError(f"{name} is listed in the manifest but missing from {src}")
        if path.stat().st_size != expected["bytes"] or _sha256(path) != expected["sha256"]:
            raise BackupError(f"{name} does not match its checksum in the manifest: the backup is damaged")
    return manifest


def restore(settings: Settings, src: Path) -> BackupResult:
    """Restore a verified backup into this data dir (which must not hold a graph yet)."""
    from kcrm.kg.server import LocalNeo4j

    src = Path(src)
    started = time.perf_counter()
    manifest = verify(src)
    data_dir = settings.data_dir.resolve()
    graph = "not in the backup"
    if (src / DUMP).is_file():
        if not settings.local_neo4j:
            raise BackupError("the backup holds a dump of the bundled Neo4j but NEO4J_URI points at an external "
                              f"server: load {src / DUMP} with that server's neo4j-admin (docs/operations.md)")
        server = LocalNeo4j(settings)
        if (settings.neo4j_home / "data" / "databases" / DATABASE).exists():
            raise BackupError(f"{settings.neo4j_home / 'data'} already holds a database: restore into an empty "
                              "data dir (or move that one away first)")
        server.start()  # installs, sets the password and creates the system database on first use
        server.stop()
        _admin(settings, ["database", "load", DATABASE, f"--from-path={(src / DUMP.parent).resolve()}",
                          "--overwrite-destination=true"])
        server.start()
        graph = "bundled: neo4j-admin database load"
    if (src / "index").is_dir():
        if settings.index_dir.exists():
            shutil.rmtree(settings.index_dir)
        shutil.copytree(src / "index", settings.index_dir)
    for name in manifest["files"]:
        if name.startswith("state/"):
            relative = name[len("state/"):]
            target = data_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / name, target)
    result = BackupResult(src, len(manifest["files"]), sum(f["bytes"] for f in manifest["files"].values()),
                          round(time.perf_counter() - started, 2), graph)
    log.info("backup restored: %s", result.as_dict())
    return result
