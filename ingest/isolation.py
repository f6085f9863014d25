"""Parse untrusted files in a child process with memory, CPU-time and wall-clock limits.

Why: a reader runs third-party parsers (python-docx, pypdf, json, rdflib, defusedxml) over files
anyone with an `app` key may upload. In the API process one hostile file could hold the GIL for
minutes or grow a multi-GB tree (a 1 MB DOCX declaring 370 MB of `document.xml`), and an
out-of-memory kill of the server was followed by the same job resuming: a crash loop (issue 13).

The child (a fresh interpreter, `python -m kcrm.ingest.isolation`: forking a threaded server is
unsafe, and multiprocessing would re-run the server's main module in every child) sets
RLIMIT_AS to its own size plus KCRM_INGEST_PARSE_MAX_MB and RLIMIT_CPU to KCRM_INGEST_PARSE_CPU_S,
runs the reader and writes each item it yields to a spool file; the parent waits at most
KCRM_INGEST_PARSE_WALL_S, then replays the spool. A file that breaks a limit yields one file
problem naming the limit, and none of its rows: it is rejected whole, the job ends normally with
that rejection in its report, and a resumed job meets the same refusal instead of a crash.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import Any

from kcrm.ingest.readers.base import ReadItem, ReadLimits, file_problem
from kcrm.kg.records import Problem

log = logging.getLogger(__name__)

EXIT_MEMORY = 71
EXIT_ERROR = 72


@dataclass(frozen=True)
class ParseLimits:
    """What one child may spend on one group of files (from the KCRM_INGEST_PARSE_* settings)."""

    memory_mb: int = 1024
    cpu_s: int = 300
    wall_s: float = 600.0


def _address_space() -> int:
    """This process's virtual size in bytes (VmSize), the base the memory limit is added to."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _name_memory(item: ReadItem, memory_bytes: int) -> ReadItem:
    """A file problem raised near the memory limit says so: C parsers (lxml) report a failed malloc
    as their own error ("unknown error"), which would otherwise hide the limit that caused it."""
    if not isinstance(item, Problem) or item.line != 0:
        return item
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if peak < memory_bytes * 0.6:
        return item
    return replace(item, reason=f"{item.reason}; the parser reached {peak // 2**20} MiB, near the memory limit of "
                                f"{memory_bytes // 2**20} MiB (KCRM_INGEST_PARSE_MAX_MB)")


def _child(request_path: str) -> None:
    """Run in the child: limit ourselves, read, spool every item; the exit code says how it ended."""
    from kcrm.ingest.readers import get_reader

    with open(request_path, "rb") as request:
        fmt, files, limits, options, spool, errors, memory_bytes, cpu_s = pickle.load(request)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + memory_bytes,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    code = 0
    try:
        reader = get_reader(fmt)
        paths = [(Path(p), source) for p, source in files]
        if hasattr(reader, "read_many") and len(paths) > 1:
            items: Iterator[ReadItem] = reader.read_many(paths, limits, options)
        else:
            items = chain.from_iterable(reader.read(p, source, limits, options) for p, source in paths)
        with open(spool, "wb") as out:
            for item in items:
                pickle.dump(_name_memory(item, memory_bytes), out, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        code = EXIT_MEMORY
    except RecursionError:
        Path(errors).write_text("nested too deeply to parse (RecursionError)", encoding="utf-8")
        code = EXIT_ERROR
    except BaseException as exc:  # the parent turns every way a parser fails into a rejection
        Path(errors).write_text(f"{type(exc).__name__}: {str(exc)[:500]}", encoding="utf-8")
        code = EXIT_ERROR
    os._exit(code)


def _reason(exitcode: int | None, errors: Path, limits: ParseLimits, timed_out: bool) -> str:
    """Why the child ended without a full result, naming the limit it broke."""
    if timed_out:
        return (f"parsing took longer than the wall-clock limit of {limits.wall_s:g} s (KCRM_INGEST_PARSE_WALL_S); "
                "the file was rejected")
    if exitcode == -signal.SIGXCPU:
        return (f"parsing used more than the CPU-time limit of {limits.cpu_s} s (KCRM_INGEST_PARSE_CPU_S); "
                "the file was rejected")
    if exitcode == EXIT_MEMORY:
        return (f"parsing needed more than the memory limit of {limits.memory_mb} MiB (KCRM_INGEST_PARSE_MAX_MB); "
                "the file was rejected")
    if exitcode == EXIT_ERROR:
        detail = errors.read_text(encoding="utf-8") if errors.is_file() else "unknown error"
        return f"the reader failed: {detail}"
    name = signal.Signals(-exitcode).name if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
    return (f"the parser was killed ({name}), most likely at the memory limit of {limits.memory_mb} MiB "
            "(KCRM_INGEST_PARSE_MAX_MB); the file was rejected")


def read_isolated(fmt: str, files: list[tuple[Path, str]], limits: ReadLimits, options: Mapping[str, Any],
                  parse: ParseLimits) -> Iterator[ReadItem]:
    """What the reader yields for `files` ((path, source name) pairs), read in a limited child process.

    Items are replayed only once the child finished within every limit; otherwise each file of the
    group gets one problem naming the limit, and the caller carries on with the next group.
    """
    with tempfile.TemporaryDirectory(prefix="kcrm-parse-") as tmp:
        spool, errors = Path(tmp) / "items.pickle", Path(tmp) / "error.txt"
        request = Path(tmp) / "request.pickle"
        request.write_bytes(pickle.dumps((fmt, [(str(p), s) for p, s in files], limits, dict(options), str(spool),
                                          str(errors), parse.memory_mb * 1024 * 1024, parse.cpu_s)))
        stderr_path = Path(tmp) / "stderr.txt"
        with stderr_path.open("wb") as stderr_file:
            process = subprocess.Popen([sys.executable, "-m", "kcrm.ingest.isolation", str(request)],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr_file)
            timed_out = False
            try:
                process.wait(timeout=parse.wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                process.kill()
                process.wait()
        stderr = stderr_path.read_bytes()[-2000:]
        if process.returncode != 0 or timed_out:
            reason = _reason(process.returncode, errors, parse, timed_out)
            log.warning("ingest: %s rejected: %s", ", ".join(s for _, s in files), reason)
            if stderr and not timed_out and process.returncode not in (EXIT_MEMORY, EXIT_ERROR):
                log.warning("the parser's last words: %s", stderr.decode("utf-8", "replace"))
            for _, source in files:
                yield file_problem(source, reason)
            return
        with spool.open("rb") as replay:  # written by our own child, never by the caller
            while True:
                try:
                    yield pickle.load(replay)
                except EOFError:
                    return


if __name__ == "__main__":
    _child(sys.argv[1])
