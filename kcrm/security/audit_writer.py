"""Audit entries written in batches off the request path, with none lost.

One Neo4j write per request would put a round trip and a transaction on every answer and make
the audit log the API's bottleneck under load. The API hands each entry to `AuditWriter.submit`
(a bounded in-memory queue, no I/O) and a single thread appends whatever is queued in one
transaction, as often as every `flush_s`. A full queue makes the request wait for room rather
than drop an entry; a failed write is retried with the same rows (Neo4j down: they wait in the
queue until it returns); `close()` flushes what is left before the process exits. The counters
(`submitted`, `written`, `dropped`) let the benchmark prove nothing was lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from kcrm.security.audit import AuditLog

log = logging.getLogger(__name__)


@dataclass
class AuditCounters:
    """What the writer has seen: submitted = written + queued + dropped at every moment."""

    submitted: int = 0
    written: int = 0
    dropped: int = 0
    batches: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class AuditWriter:
    """A bounded queue of audit rows and the thread that appends them in batches."""

    def __init__(self, log_: AuditLog, max_queue: int = 10_000, batch: int = 500, flush_s: float = 0.05,
                 submit_wait_s: float = 5.0) -> None:
        self.log = log_
        self.batch = batch
        self.flush_s = flush_s
        self.submit_wait_s = submit_wait_s
        self.counters = AuditCounters()
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_queue)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kcrm-audit", daemon=True)
        self._thread.start()

    def submit(self, row: dict[str, Any]) -> None:
        """Queue one entry (`kcrm.security.audit.entry_row`); waits for room when the queue is full."""
        with self.counters.lock:
            self.counters.submitted += 1
        try:
            self._queue.put(row, timeout=self.submit_wait_s)
        except queue.Full:
            with self.counters.lock:
                self.counters.dropped += 1
            log.error("audit queue full for %.1f s (Neo4j unreachable?): entry %s %s dropped", self.submit_wait_s,
                      row.get("action"), row.get("target"))

    def _take(self, wait_s: float) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        try:
            rows.append(self._queue.get(timeout=wait_s))
        except queue.Empty:
            return rows
        while len(rows) < self.batch:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return rows

    def _write(self, rows: list[dict[str, Any]]) -> bool:
        try:
            self.log.append(rows)
        except Exception as exc:  # noqa: BLE001 - any failure: keep the rows and retry
            with self.counters.lock:
                self.counters.failures += 1
            log.warning("audit batch of %d not written yet (%s); retrying", len(rows), exc)
            return False
        with self.counters.lock:
            self.counters.written += len(rows)
            self.counters.batches += 1
        return True

    def _loop(self) -> None:
        pending: list[dict[str, Any]] = []
        pause = self.flush_s
        while True:
            if not pending:
                pending = self._take(self.flush_s)
                if not pending and self._stop.is_set() and self._queue.empty():
                    return
            if pending:
                if self._write(pending):
                    pending, pause = [], self.flush_s
                elif self._stop.is_set():
                    with self.counters.lock:
                        self.counters.dropped += len(pending) + self._queue.qsize()
                    log.error("audit: %d entries could not be written before shutdown", len(pending))
                    return
                else:
                    time.sleep(pause)
                    pause = min(pause * 2, 2.0)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything submitted so far is written (tests, and the benchmark's count)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self.counters.lock:
                done = self.counters.written + self.counters.dropped >= self.counters.submitted
            if done:
                return True
            time.sleep(0.01)
        return False

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop after writing what is queued (one last try if Neo4j fails); log what was lost, if anything."""
        self._stop.set()
        self._thread.join(timeout_s)
        c = self.counters
        log.info("audit writer closed: %d submitted, %d written in %d batches, %d dropped", c.submitted, c.written,
                 c.batches, c.dropped)
