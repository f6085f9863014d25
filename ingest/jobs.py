"""Ingest as a background job: what `POST /v1/ingest` starts and `GET /v1/ingest/{id}` reports.

A job's uploads live under DATA_DIR/ingest/<job id>/ (the data dir every API process of a node
shares); its state lives in the shared Neo4j (`kcrm.ingest.job_store`), so any process can
report it and exactly one runs it: each process has one worker thread that claims jobs under a
renewed lease, one at a time (ingests write the same graph; running them in parallel would only
make them contend). `job.json` beside the uploads is written atomically when a job is accepted:
it is the outbox that registers the job once Neo4j answers, if it was down at that moment.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import GraphUnavailable, IngestError, IngestJobNotFound, KcrmError, UploadTooLarge
from kcrm.ingest.job_store import JobStore
from kcrm.ingest.pipeline import new_run_id
from kcrm.ingest.report import problem_dict
from kcrm.kg.connection import Graph
from kcrm.statedb import process_id

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
    attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> IngestJob:
        """A job from stored fields (unknown ones, such as the lease, are left out)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in fields.items() if k in names and v is not None or k == "job_id"})


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
    """Accept, claim, run and report ingest jobs for one process of the service."""

    def __init__(self, settings: Settings, graph: Graph) -> None:
        self.settings = settings
        self.graph = graph
        self.store = JobStore(settings)
        self.jobs: dict[str, IngestJob] = {}  # the job this process runs, and those it accepted
        self.me = process_id()
        self.poll_s = 1.0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._running: IngestJob | None = None
        self._unregistered: list[str] = []
        self._worker = threading.Thread(target=self._loop, name="kcrm-ingest", daemon=True)

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
        """Accept the job: some process's worker claims and runs it when the jobs before it are done.

        `owner` (a key id) alone may read its report (and admins); the job writes with `groups`,
        the owner's visible groups (None: everything), whichever process runs it.
        The job is written to its folder first (atomically), then registered in the shared store;
        if Neo4j is down, this process registers it when Neo4j answers again.
        """
        job.request = {"fmt": fmt, "mapping": str(mapping) if mapping is not None else None, "source": source,
                       "dry_run": dry_run, "owner": owner, "groups": groups}
        self._persist(job)
        self._register(job)
        self.start()
        self._wake.set()

    def start(self) -> IngestJobs:
        """Start this process's worker (once)."""
        with self._lock:
            if not self._worker.is_alive() and not self._closing.is_set():
                self._worker.start()
        return self

    def resume_unfinished(self) -> list[str]:
        """Start the worker; it claims jobs left queued, or held by a process whose lease expired.

        Jobs accepted while Neo4j was down (only in their folder) are registered now; their ids.
        """
        found = []
        for path in sorted(self.root.glob("*/job.json")) if self.root.is_dir() else []:
            try:
                fields = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, OSError) as exc:
                log.warning("unreadable ingest job file %s: %s", path, exc)
                continue
            if fields.get("status") == "queued" and fields.get("registered") is False:
                found.append(fields["job_id"])
        with self._lock:
            self._unregistered.extend(j for j in found if j not in self._unregistered)
        self.start()
        return found

    def _register(self, job: IngestJob) -> bool:
        try:
            self.store.register(job.job_id, job.as_dict())
        except GraphUnavailable as exc:
            log.warning("ingest job %s accepted while Neo4j is down (%s): registered when it answers", job.job_id, exc)
            with self._lock:
                if job.job_id not in self._unregistered:
                    self._unregistered.append(job.job_id)
            self._persist(job, registered=False)
            return False
        self._persist(job, registered=True)
        return True

    def _register_outbox(self) -> None:
        with self._lock:
            waiting = list(self._unregistered)
        for job_id in waiting:
            path = self.root / job_id / "job.json"
            try:
                job = IngestJob.from_fields(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as exc:  # its folder was removed: nothing to run
                log.error("ingest job %s cannot be registered: %s", job_id, exc)
                with self._lock:
                    self._unregistered.remove(job_id)
                continue
            if not self._register(job):
                return
            with self._lock:
                self._unregistered.remove(job_id)

    def _loop(self) -> None:
        while not self._closing.is_set():
            try:
                self._register_outbox()
                fields = self.store.claim(self.me, self.settings.state_lease_s, self.settings.ingest_max_attempts)
            except Exception as exc:  # Neo4j down or a bad row: keep the worker alive, try again
                log.warning("ingest worker could not claim a job: %s", exc)
                fields = None
            if fields is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            job = IngestJob.from_fields(fields)
            if job.status == "failed":
                log.error("ingest job %s failed: %s", job.job_id, job.error)
                continue
            with self._lock:
                self.jobs[job.job_id] = job
                self._running = job
            try:
                self._run_claimed(job)
            finally:
                with self._lock:
                    self._running = None

    def _run_claimed(self, job: IngestJob) -> None:
        request = job.request or {}
        if job.attempts > 1:
            log.warning("ingest job %s: attempt %d, resuming from its journal", job.job_id, job.attempts)
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(job, stop), name="kcrm-ingest-lease", daemon=True)
        renewer.start()
        try:
            self._run(job, self.root / job.job_id / "uploads", request.get("fmt"), request.get("mapping"),
                      request.get("source"), bool(request.get("dry_run")), request.get("groups"))
        finally:
            stop.set()
            renewer.join()

    def _renew(self, job: IngestJob, stop: threading.Event) -> None:
        every = self.settings.state_lease_s / 3
        while not stop.wait(every):
            try:
                if not self.store.renew(job.job_id, self.me, self.settings.state_lease_s, job.stage, job.rows_read):
                    log.error("ingest job %s: this process lost its lease (another may have taken it over)",
                              job.job_id)
                    return
            except Exception as exc:  # Neo4j away: keep trying, the lease may still hold when it returns
                log.warning("ingest job %s: lease not renewed: %s", job.job_id, exc)

    def _run(self, job: IngestJob, upload_dir: Path, fmt: str | None, mapping: str | Path | None,
             source: str | None, dry_run: bool, groups: list[str] | None = None) -> None:
        from kcrm import workflows

        def progress(stage: str, rows: int) -> None:
            job.stage, job.rows_read = stage, rows

        job.status, job.stage, job.started_at = "running", "read", _now()
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
        self._finish(job, self.me)

    def _finish(self, job: IngestJob, owner: str | None) -> None:
        """Store the outcome in the shared store (retried while Neo4j is away) and in the job's folder."""
        self._persist(job)
        deadline = time.monotonic() + self.settings.ingest_wait_for_graph_s
        while True:
            try:
                if not self.store.finish(job.job_id, owner, job.as_dict()):
                    log.error("ingest job %s finished here after another process took it over", job.job_id)
                return
            except GraphUnavailable as exc:
                if time.monotonic() >= deadline:
                    log.error("ingest job %s: outcome not stored: %s", job.job_id, exc)
                    return
                time.sleep(1.0)

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
        try:
            self.store.register(job.job_id, job.as_dict())
        except GraphUnavailable:
            log.warning("refused ingest job %s not registered: Neo4j is down", job.job_id)

    def _persist(self, job: IngestJob, registered: bool | None = None) -> None:
        """Write job.json atomically (a temporary file renamed over it): a kill mid-write loses nothing."""
        path = self.root / job.job_id / "job.json"
        fields = job.as_dict()
        if registered is not None:
            fields["registered"] = registered
        temporary = path.with_name(f".job.json.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(fields, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(temporary, path)

    def get(self, job_id: str) -> IngestJob:
        """The job's state: live if this process runs it, else from the shared store (or its folder)."""
        with self._lock:
            job = self.jobs.get(job_id)
        if job is not None and (job is self._running or job.job_id in self._unregistered):
            return job
        if not JOB_ID.match(job_id):
            raise IngestJobNotFound(f"no ingest job {job_id[:80]!r}")
        try:
            fields = self.store.get(job_id)
        except GraphUnavailable:
            fields = None
            if job is not None:
                return job
        if fields is not None:
            return IngestJob.from_fields(fields)
        path = self.root / job_id / "job.json"
        if path.is_file():
            return IngestJob.from_fields(json.loads(path.read_text(encoding="utf-8")))
        raise IngestJobNotFound(f"no ingest job {job_id[:80]!r}")

    def shutdown(self, grace_s: float | None = None) -> None:
        """Stop claiming; let the running job finish within `grace_s`, else release it to another process."""
        self._closing.set()
        self._wake.set()
        grace = self.settings.shutdown_grace_s if grace_s is None else grace_s
        if self._worker.is_alive():
            self._worker.join(grace)
        with self._lock:
            running = self._running
        if running is not None:
            try:
                released = self.store.release(running.job_id, self.me)
            except GraphUnavailable as exc:
                released = False
                log.warning("ingest job %s not released (%s): another process takes it when the lease expires",
                            running.job_id, exc)
            log.warning("shutdown: ingest job %s still running after %.0f s; %s", running.job_id, grace,
                        "released to another process" if released else "left to its lease")
