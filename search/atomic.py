"""Publish a directory of files atomically: the discipline every derived index shares.

Files go into a temporary sibling directory, are fsynced, and the directory is swapped in with
one rename (an atomic exchange on Linux). A reader sees the old version or the new one, never a
mixture; a manifest with checksums lets it detect the rare read that straddled a swap.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from kcrm.foundation.errors import IndexIncompatible, IndexNotReady

log = logging.getLogger(__name__)

T = TypeVar("T")

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def sha256(data: bytes) -> str:
    """Hex digest recorded in manifests and checked on load."""
    return hashlib.sha256(data).hexdigest()


def write_durably(path: Path, data: bytes) -> None:
    """Write and fsync one file, so a crash after the swap cannot leave it empty."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_files_and_manifest(directory: Path, files: dict[str, bytes], *, fmt: str, version: int,
                             watermark: str, details: dict[str, Any],
                             manifest_file: str = "manifest.json") -> dict[str, Any]:
    """Write each file durably, then the manifest naming the format, watermark and checksums.

    `details` adds what is specific to one kind of index (its builder, counts); the manifest is
    written last, so a directory with a manifest has every file it lists.
    """
    for name, data in files.items():
        write_durably(Path(directory) / name, data)
    manifest = {
        "format": fmt, "format_version": version, "build_id": uuid.uuid4().hex,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "watermark": watermark,
        **details,
        "files": {name: sha256(data) for name, data in files.items()},
    }
    write_durably(Path(directory) / manifest_file, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    return manifest


def fsync_dir(path: Path) -> None:
    """Persist a directory's entries (new files, renames); a no-op where the OS cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    errno = ctypes.get_errno()
    log.debug("renameat2 exchange unavailable (errno %d); falling back to two renames", errno)
    return False


def swap_into_place(staging: Path, target: Path) -> None:
    """Make `staging` the new `target`; afterwards `staging` holds the old version, if any."""
    if not target.exists():
        os.rename(staging, target)
    elif not _exchange(staging, target):
        # Two renames leave a moment with no index at all, never a mixed one; undo on failure.
        parked = target.parent / f".{target.name}.old-{uuid.uuid4().hex}"
        os.rename(target, parked)
        try:
            os.rename(staging, target)
        except OSError:
            os.rename(parked, target)
            raise
        os.rename(parked, staging)
    fsync_dir(target.parent)


def remove_stale_siblings(target: Path, older_than_s: float = 3600.0) -> None:
    """Clear staging directories left by a crashed save (old enough not to be in progress)."""
    cutoff = time.time() - older_than_s
    for pattern in (f".{target.name}.tmp-*", f".{target.name}.old-*"):
        for path in target.parent.glob(pattern):
            try:
                if path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                continue


def publish_directory(target: Path, write_files: Callable[[Path], T]) -> T:
    """Run `write_files(staging)` in a fresh sibling of `target`, fsync it, swap it in.

    Returns what `write_files` returned (typically the manifest it wrote).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_siblings(target)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        result = write_files(staging)
        fsync_dir(staging)
        swap_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


class TornRead(Exception):
    """Files on disk disagree with the manifest (a swap happened mid-read, or corruption)."""


def read_manifest(directory: Path, fmt: str, version: int, manifest_file: str = "manifest.json") -> dict[str, Any]:
    """The manifest of a published index of format `fmt`; domain errors say to reindex."""
    path = Path(directory) / manifest_file
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexNotReady(f"no search index at {directory}: run `kcrm reindex`") from None
    except (OSError, ValueError) as exc:
        raise IndexNotReady(f"unreadable manifest {path}: {exc}") from exc
    if manifest.get("format") != fmt or manifest.get("format_version") != version:
        raise IndexIncompatible(
            f"the search index at {directory} has format {manifest.get('format')!r} version "
            f"{manifest.get('format_version')!r}; this kcrm reads {fmt!r} version {version}: run `kcrm reindex`"
        )
    return manifest


def read_checked(directory: Path, manifest: dict[str, Any], names: list[str]) -> dict[str, bytes]:
    """Read the named files and check each against the manifest's checksum (`TornRead` if not)."""
    out: dict[str, bytes] = {}
    for name in names:
        try:
            data = (Path(directory) / name).read_bytes()
        except FileNotFoundError as exc:
            raise TornRead(f"missing {exc.filename}") from exc
        if sha256(data) != manifest.get("files", {}).get(name):
            raise TornRead(f"checksum mismatch in {name}")
        out[name] = data
    return out


def load_consistent(load_once: Callable[[], T], directory: Path, attempts: int = 3) -> T:
    """Call `load_once` until it reads a consistent version (a swap may race a read)."""
    for attempt in range(1, attempts + 1):
        try:
            return load_once()
        except TornRead as exc:
            log.warning("index at %s changed or is damaged (%s); attempt %d of %d", directory, exc,
                        attempt, attempts)
            time.sleep(0.05 * attempt)
    raise IndexNotReady(f"the search index at {directory} is damaged: run `kcrm reindex`")
