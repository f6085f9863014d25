"""Ingest as a background job: what `POST /v1/ingest` starts and `GET /v1/ingest/{id}` reports.

Jobs run one at a time on a worker thread (ingests write the same graph; running them in
parallel would only make them contend). A job's uploads and its report live under
DATA_DIR/ingest/<job id>/, so a finished job can still be reported after a restart.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from kcrm.ingest.pipeline import new_run_id
from kcrm.ingest.report import problem_dict
from kcrm.kg.connection import Graph

from kcrm.config import Settings
from kcrm.errors import GraphUnavailable, IngestError, IngestJobNotFound, KcrmError, UploadTooLarge

log = logging.getLogger(__name__)

SAFE_NAME = re.compile(r"^[\w\u4e00-\u9fff][\w\u4e00-\u9fff .()+-]{0,200}$")
JOB_ID = re.compile(r"^\d{8}T\d{12}Z$")
MAX_PROBLEMS_SHOWN = 200
NAME_MAX_BYTES = 255  # the file system's NAME_MAX: a longer name fails at open() with ENAMETOOLONG


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class IngestJob:
    """A job's state as the status endpoint shows it."""

    job_id: str
    status: str = "queued"
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    stage: str = "queued"
    rows_read: int = 0
    summary: dict[str, Any] | None = None
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    request: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def safe_upload_name(name: str) -> str:
    """The uploaded file's own name, refused when it could escape the job's folder."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not SAFE_NAME.match(base) or base in (".", ".."):
        raise IngestError(f"refused upload name {name[:80]!r}: use letters, digits, spaces and . _ - ( ) +")
    if len(base.encode("utf-8")) > NAME_MAX_BYTES:
        raise IngestError(f"refused upload name {name[:40]!r}...: {len(base.encode('utf-8'))} bytes in UTF-8, "
                          f"over the file name limit of {NAME_MAX_BYTES}")
    return base


class IngestJobs:
    """Queue, run and report ingest jobs for one service."""

    def __init__(self, settings: Settings, graph: Graph) -> None:
        self.settings = settings
        self.graph = graph
        self.jobs: dict[str, IngestJob] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kcrm-ingest")
        self._closing = threading.Event()

    @property
    def root(self) -> Path:
        return self.settings.data_dir / "ingest"

    def new_job(self) -> tuple[IngestJob, Path]:
        """A queued job and the empty folder its uploads go to."""
        job = IngestJob(job_id=new_run_id())
        upload_dir = self.root / job.job_id / "uploads"
        upload_dir.mkdir(parents=True, exist_ok=False)
        with self._lock:
            self.jobs[job.job_id] = job
        return job, upload_dir

    def save_upload(self, upload_dir: Path, name: str, stream: BinaryIO) -> Path:
        """Copy an upload to the job's folder, stopping at the size limit."""
        target = upload_dir / safe_upload_name(name)
        if target.exists():
            raise IngestError(f"two uploads are named {target.name!r}")
        limit = self.settings.ingest_max_file_mb * 1024 * 1024
        written = 0
        with target.open("wb") as out:
            while chunk := stream.read(1024 * 1024):
                written += len(chunk)
                if written > limit:
                    out.close()
                    target.unlink()
                    raise UploadTooLarge(f"{target.name} is over the limit of {limit:,} bytes (KCRM_INGEST_MAX_FILE_MB)")
                out.write(chunk)
        return target

    def submit(self, job: IngestJob, upload_dir: Path, fmt: str | None, mapping: str | Path | None,
               source: str | None, dry_run: bool, owner: str | None = None,
               groups: list[str] | None = None) -> None:
        """Queue the job; it runs when the jobs before it are done.

        `owner` (a key id) alone may read its report (and admins); the job writes with `groups`,
        the owner's visible groups (None: everything), after a restart too.

        The job is written to its folder first, so a server killed before the job finishes runs
        it again at the next start (`resume_unfinished`), resuming from the ingest journal.
        """
        job.request = {"fmt": fmt, "mapping": str(mapping) if mapping is not None else None, "source": source,
                       "dry_run": dry_run, "owner": owner, "groups": groups}
        self._persist(job)
        self._pool.submit(self._run, job, upload_dir, fmt, mapping, source, dry_run, groups)

    def resume_unfinished(self) -> list[str]:
        """Queue again every accepted job a previous server process did not finish; their ids."""
        resumed = []
        for path in sorted(self.root.glob("*/job.json")) if self.root.is_dir() else []:
            try:
                job = IngestJob(**json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, TypeError) as exc:
                log.warning("unreadable ingest job file %s: %s", path, exc)
                continue
            if job.status not in ("queued", "running") or job.request is None or job.job_id in self.jobs:
                continue
            job.status, job.stage = "queued", "queued again after a restart"
            with self._lock:
                self.jobs[job.job_id] = job
            request = job.request
            self._pool.submit(self._run, job, path.parent / "uploads", request["fmt"], request["mapping"],
                              request["source"], bool(request["dry_run"]), request.get("groups"))
            resumed.append(job.job_id)
        if resumed:
            log.warning("resuming %d ingest jobs left unfinished by the last server process: %s", len(resumed),
                        ", ".join(resumed))
        return resumed

    def _run(self, job: IngestJob, upload_dir: Path, fmt: str | None, mapping: str | Path | None,
             source: str | None, dry_run: bool, groups: list[str] | None = None) -> None:
        from kcrm import workflows

        def progress(stage: str, rows: int) -> None:
            job.stage, job.rows_read = stage, rows

        job.status, job.stage, job.started_at = "running", "read", _now()
        self._persist(job)
        try:
            deadline = time.monotonic() + self.settings.ingest_wait_for_graph_s
            while True:
                try:
                    result = workflows.ingest(self.settings, None if dry_run else self.graph, upload_dir, fmt=fmt,
                                              mapping=mapping, source=source or f"upload-{job.job_id}",
                                              dry_run=dry_run, run_id=job.job_id, on_progress=progress,
                                              groups=groups)
                    break
                except GraphUnavailable as exc:
                    if time.monotonic() >= deadline:
                        raise
                    job.stage, job.error = "waiting for Neo4j", str(exc)
                    log.warning("ingest job %s: %s; resuming from its journal when Neo4j answers", job.job_id, exc)
                    self._wait_for_graph(deadline)
            job.error = None
            job.summary = result.summary()
            job.rejected = [problem_dict(p) for p in result.rejected[:MAX_PROBLEMS_SHOWN]]
            job.status = "succeeded"
        except KcrmError as exc:
            job.status, job.error = "failed", str(exc)
        except Exception as exc:  # a job must always finish with a status, whatever went wrong
            log.exception("ingest job %s failed", job.job_id)
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        job.stage, job.finished_at = "done", _now()
        self._persist(job)

    def _wait_for_graph(self, deadline: float) -> None:
        """Sleep until Neo4j answers again or the deadline passes (the caller then retries or fails)."""
        pause = 0.5
        while time.monotonic() < deadline and not self._closing.is_set():
            if self.graph.ping():
                return
            self._closing.wait(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 5.0)

    def fail(self, job: IngestJob, reason: str) -> None:
        """Mark a job that could not even start (a refused upload) as failed."""
        job.status, job.error, job.stage, job.finished_at = "failed", reason, "done", _now()
        self._persist(job)

    def _persist(self, job: IngestJob) -> None:
        path = self.root / job.job_id / "job.json"
        path.write_text(json.dumps(job.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")

    def get(self, job_id: str) -> IngestJob:
        """The job's state, from memory or (after a restart) from its folder."""
        with self._lock:
            job = self.jobs.get(job_id)
        if job is not None:
            return job
        path = self.root / job_id / "job.json"
        if JOB_ID.match(job_id) and path.is_file():
            return IngestJob(**json.loads(path.read_text(encoding="utf-8")))
        raise IngestJobNotFound(f"no ingest job {job_id[:80]!r}")

    def shutdown(self) -> None:
        """Let the running job finish; drop the queued ones."""
        self._closing.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
