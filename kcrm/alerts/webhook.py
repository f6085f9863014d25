"""Webhook delivery: POST each notification as JSON, retrying with exponential backoff, logging every try.

A delivery is claimed from the store before it is sent; a 2xx answer delivers it, anything else
(another status, a refused connection, a timeout) schedules the next attempt `backoff * 2**(n-1)`
seconds later, until `attempts` tries have failed. Each try is logged with its status code or
error and duration (`GET /v1/subscriptions/{id}/deliveries`). The API runs a `Dispatcher` thread;
the CLI drains what it queued before it exits (`drain`).

Every connection goes through `kcrm.alerts.targets` (public addresses only, unless allowed), each
attempt has an overall deadline, and at most `max_response_bytes` of an answer are read: one
slow or chatty endpoint cannot hold the single dispatcher thread (issue 13).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from kcrm import __version__
from kcrm.alerts.store import AlertStore
from kcrm.alerts.targets import DEADLINE, AllowList, webhook_client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a webhook is tried."""

    attempts: int = 5
    backoff_s: float = 1.0
    timeout_s: float = 5.0
    deadline_s: float = 15.0
    max_response_bytes: int = 64 * 1024
    allow: AllowList = AllowList()

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): backoff, 2x, 4x..."""
        return self.backoff_s * (2 ** (attempt - 1))


def payload(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON body a webhook receives for one notification."""
    return {"event": "kcrm.notification", "subscription_id": row["subscription_id"],
            "notification": {"id": row["notification_id"], "kind": row["kind"], "item_uid": row["item_uid"],
                             "item_type": row["item_type"], "title": row["title"], "summary": row["summary"],
                             "created_at": row["notified_at"]},
            "attempt": int(row["attempts"]) + 1}


def send_once(client: httpx.Client, store: AlertStore, row: dict[str, Any], policy: RetryPolicy) -> bool:
    """One attempt at one claimed delivery; records the outcome; True when delivered."""
    attempt = int(row["attempts"]) + 1
    started = time.perf_counter()
    code: int | None = None
    error: str | None = None
    token = DEADLINE.set(time.monotonic() + policy.deadline_s)
    try:
        with client.stream("POST", row["url"],
                           content=json.dumps(payload(row), ensure_ascii=False).encode("utf-8"),
                           headers={"Content-Type": "application/json", "User-Agent": f"kcrm/{__version__}",
                                    "X-Kcrm-Delivery": str(row["id"]), "X-Kcrm-Attempt": str(attempt)},
                           timeout=min(policy.timeout_s, policy.deadline_s)) as response:
            code = response.status_code
            read = 0
            for chunk in response.iter_raw():  # the answer is not used: read a little, then hang up
                read += len(chunk)
                if read >= policy.max_response_bytes:
                    break
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        DEADLINE.reset(token)
    took = round((time.perf_counter() - started) * 1000, 2)
    delivered = error is None
    retry_at = None
    if not delivered and attempt < policy.attempts:
        retry_at = datetime.now(UTC) + timedelta(seconds=policy.delay(attempt))
    store.record_attempt(int(row["id"]), attempt, code, error, took, delivered, retry_at)
    if not delivered:
        log.warning("webhook %s attempt %d failed (%s)%s", row["url"], attempt, error,
                    "; giving up" if retry_at is None else f"; retrying at {retry_at.isoformat()}")
    return delivered


def deliver_due(store: AlertStore, policy: RetryPolicy, client: httpx.Client | None = None) -> int:
    """Try every delivery that is due now, once; returns how many were delivered.

    Deliveries are claimed one at a time, each under a lease longer than one try's deadline, so
    another process never sends a delivery this one holds, and takes it over if this one dies.
    """
    own = client is None
    client = client or webhook_client(policy.allow)
    delivered = 0
    try:
        for _ in range(20):
            rows = store.claim_due(lease_s=policy.deadline_s * 2 + 1, limit=1)
            if not rows:
                break
            delivered += sum(send_once(client, store, row, policy) for row in rows)
        return delivered
    finally:
        if own:
            client.close()


def drain(store: AlertStore, policy: RetryPolicy, deadline_s: float) -> int:
    """Deliver until nothing is pending or `deadline_s` has passed (what a CLI run does before exiting)."""
    end = time.monotonic() + deadline_s
    delivered = 0
    with webhook_client(policy.allow) as client:
        while store.pending_count() and time.monotonic() < end:
            delivered += deliver_due(store, policy, client)
            time.sleep(min(0.2, max(0.0, end - time.monotonic())))
    return delivered


class Dispatcher:
    """A daemon thread that delivers due webhooks every `poll_s` seconds until stopped."""

    def __init__(self, store: AlertStore, policy: RetryPolicy, poll_s: float = 0.5) -> None:
        self.store, self.policy, self.poll_s = store, policy, poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kcrm-webhooks", daemon=True)

    def start(self) -> Dispatcher:
        self._thread.start()
        return self

    def _loop(self) -> None:
        with webhook_client(self.policy.allow) as client:
            while not self._stop.is_set():
                try:
                    deliver_due(self.store, self.policy, client)
                except Exception:  # keep delivering whatever one bad row did
                    log.exception("webhook dispatcher round failed")
                self._stop.wait(self.poll_s)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
