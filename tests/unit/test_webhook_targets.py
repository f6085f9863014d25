"""Issue 13 findings 5 and 10: webhook targets are checked, and one attempt has an overall deadline.

Real sockets on 127.0.0.1 (a receiver that answers, one that drips); no mocks.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kcrm.alerts.store import AlertStore, Notification, Subscription
from kcrm.alerts.targets import AllowList, WebhookTargetRefused, check_url, refusal, webhook_client
from kcrm.alerts.webhook import RetryPolicy, deliver_due

import ipaddress


@pytest.mark.parametrize("url, why", [
    ("http://127.0.0.1:7474/", "loopback"), ("http://[::1]/", "loopback"), ("http://10.1.2.3/", "private"),
    ("http://192.168.0.10/", "private"), ("http://172.16.5.4/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"), ("http://0.0.0.0/", "unspecified"),
    ("http://[::ffff:127.0.0.1]/", "loopback"), ("http://[fd00:ec2::254]/", "private"),
    ("http://224.0.0.1/", "multicast"), ("http://metadata.google.internal/", "metadata"),
    ("http://localhost:8000/", "loopback"), ("ftp://8.8.8.8/", "http or https"),
    ("http://user:pw@8.8.8.8/", "user name"),
])
def test_internal_targets_are_refused(url: str, why: str) -> None:
    with pytest.raises(WebhookTargetRefused, match=why):
        check_url(url, AllowList())


def test_public_addresses_pass_and_the_allow_list_opens_named_ones() -> None:
    check_url("https://8.8.8.8/hook", AllowList())
    check_url("http://127.0.0.1:9/hook", AllowList.parse("127.0.0.1"))
    check_url("http://10.1.2.3/hook", AllowList.parse("10.0.0.0/8"))
    with pytest.raises(WebhookTargetRefused):
        check_url("http://10.1.2.3/hook", AllowList.parse("10.2.0.0/16"))
    assert refusal(ipaddress.ip_address("93.184.216.34")) is None


class Receiver:
    """A loopback HTTP endpoint: answers 200 at once, or drips its status line one byte per `drip_s`."""

    def __init__(self, drip_s: float | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.drip_s, self.hits, self.closing = drip_s, 0, False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        self.hits += 1
        try:
            conn.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            if self.drip_s is None:
                conn.sendall(answer)
            else:
                for byte in answer * 1000:
                    if self.closing:
                        break
                    conn.sendall(bytes([byte]))
                    time.sleep(self.drip_s)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.closing = True
        self.sock.close()


def _queued(tmp_path: Path, url: str) -> AlertStore:
    store = AlertStore(tmp_path / "alerts.sqlite3")
    sub = store.add_subscription(Subscription("", "k1", "one", None, "warnings", webhook_url=url))
    store.notify([Notification(sub.id, "k1", "churn_warning", "CUS-1", "Customer", "t", "s", [])], {sub.id: url})
    return store


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_connect_time_check_refuses_a_stored_loopback_target(tmp_path: Path, receiver: Receiver) -> None:
    """A target that slipped past registration (or re-resolves to loopback) is refused when dialled."""
    store = _queued(tmp_path, receiver.url)
    assert deliver_due(store, RetryPolicy(attempts=1)) == 0
    assert receiver.hits == 0
    log = store.delivery_log(store.subscriptions()[0].id, "k1")[0]
    assert "loopback" in log["last_error"] and log["attempt_log"][0]["status_code"] is None


def test_allowed_target_is_delivered(tmp_path: Path, receiver: Receiver) -> None:
    store = _queued(tmp_path, receiver.url)
    assert deliver_due(store, RetryPolicy(attempts=1, allow=AllowList.parse("127.0.0.1"))) == 1
    assert receiver.hits == 1


def test_a_dripping_endpoint_is_cut_at_the_attempt_deadline(tmp_path: Path) -> None:
    drip = Receiver(drip_s=0.2)  # each byte well within the read timeout, the whole answer far past the deadline
    try:
        store = _queued(tmp_path, drip.url)
        policy = RetryPolicy(attempts=1, timeout_s=5.0, deadline_s=1.0, allow=AllowList.parse("127.0.0.1"))
        started = time.monotonic()
        assert deliver_due(store, policy) == 0
        took = time.monotonic() - started
        log = store.delivery_log(store.subscriptions()[0].id, "k1")[0]
        assert "deadline" in log["last_error"] or "Timeout" in log["last_error"]
        assert took < 30  # a stuck dispatcher would never return; this only catches that
    finally:
        drip.close()


def test_client_ignores_proxy_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with webhook_client(AllowList()) as client:
        assert client._mounts == {}
