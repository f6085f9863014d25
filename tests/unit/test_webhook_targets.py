"""Issue 13 findings 5 and 10: webhook targets are checked, and one attempt has an overall deadline.

Real sockets on 127.0.0.1 (a receiver that answers, one that drips); no mocks.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time

import pytest

from kcrm.alerts.targets import AllowList, WebhookTargetRefused, check_url, refusal, webhook_client


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

    def __init__(self, drip_s: float | None = None, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_server((host, 0))
        self.url = f"http://{host}:{self.sock.getsockname()[1]}/hook"
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


def test_client_ignores_proxy_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with webhook_client(AllowList()) as client:
        assert client._mounts == {}
