"""Where a webhook may point, checked when it is registered and again on every connection.

Why (issue 13): any key could register `http://127.0.0.1:7474/` or `http://169.254.169.254/` and
read the delivery log's status codes and connection errors: a port scanner of the server's own
network. A target must resolve only to public addresses; loopback, private, link-local (the
cloud metadata service), shared, multicast and reserved ones are refused unless
KCRM_ALERTS_WEBHOOK_ALLOW_HOSTS names the host, the address or a network holding it.

The check runs again inside the connection (`GuardedBackend.connect_tcp`) on the address that is
actually dialled, so a name that resolved to a public address at registration and to 127.0.0.1
later (DNS rebinding) is still refused. The same backend cuts every read and write at the
attempt's overall deadline, so an endpoint that drips one byte every few seconds cannot hold
the single dispatcher thread.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from kcrm.foundation.errors import KcrmError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("kcrm_webhook_deadline", default=None)


class WebhookTargetRefused(KcrmError):
    """A webhook URL that points at an address the server must not reach."""

    status = 422
    title = "Webhook target refused"


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks that webhooks may reach although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """From KCRM_ALERTS_WEBHOOK_ALLOW_HOSTS: 'hooks.internal, 127.0.0.1, 10.1.0.0/16'."""
        hosts, networks = set(), []
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IPAddress) -> bool:
        return host.lower().rstrip(".") in self.hosts or any(address in net for net in self.networks)


def refusal(address: IPAddress) -> str | None:
    """Why an address is not a public one (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    for test, what in ((address.is_unspecified, "unspecified"), (address.is_loopback, "loopback"),
                       (address.is_link_local, "link-local (cloud metadata)"), (address.is_multicast, "multicast"),
                       (address.is_private, "private"), (address.is_reserved, "reserved")):
        if test:
            return what
    return None if address.is_global else "not globally routable"


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookTargetRefused(f"webhook host {host[:100]!r} does not resolve ({exc})") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def checked_addresses(host: str, port: int, allow: AllowList) -> list[IPAddress]:
    """The addresses of `host`, refused as a whole when any of them is not public and not allowed."""
    if host.lower().rstrip(".") in METADATA_HOSTS and host.lower().rstrip(".") not in allow.hosts:
        raise WebhookTargetRefused(f"webhook host {host!r} is a cloud metadata service")
    addresses = resolve(host, port)
    for address in addresses:
        why = refusal(address)
        if why and not allow.allows(host, address):
            raise WebhookTargetRefused(
                f"webhook host {host[:100]!r} resolves to {address}, a {why} address; name it in "
                "KCRM_ALERTS_WEBHOOK_ALLOW_HOSTS to allow it")
    return addresses


def check_url(url: str, allow: AllowList) -> None:
    """Refuse a webhook URL whose scheme, credentials or host the server must not use."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebhookTargetRefused("webhook_url must be http or https")
    if parts.username or parts.password:
        raise WebhookTargetRefused("webhook_url must not carry a user name or password")
    if not parts.hostname:
        raise WebhookTargetRefused("webhook_url has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookTargetRefused(f"webhook_url has a bad port: {exc}") from None
    checked_addresses(parts.hostname, port, allow)


def _remaining(timeout: float | None) -> float | None:
    """The smaller of `timeout` and the time left before this attempt's deadline; raises when none is left."""
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the webhook attempt passed its overall deadline (KCRM_ALERTS_WEBHOOK_DEADLINE_S)")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read and write ends by the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, _remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """Dial only checked addresses, and only until the attempt's deadline."""

    def __init__(self, allow: AllowList) -> None:
        self.allow = allow

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port, self.allow)
        except WebhookTargetRefused as exc:
            raise httpcore.ConnectError(str(exc)) from None
        last: Exception | None = None
        for address in addresses:
            try:
                return _DeadlineStream(super().connect_tcp(str(address), port, _remaining(timeout), local_address,
                                                           socket_options))
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"cannot connect to {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks never use unix sockets")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, with its connection pool dialling through `GuardedBackend`."""

    def __init__(self, allow: AllowList) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=GuardedBackend(allow))


def webhook_client(allow: AllowList) -> httpx.Client:
    """The client every webhook goes through: guarded, no redirects, no proxies from the environment."""
    return httpx.Client(transport=GuardedTransport(allow), follow_redirects=False, trust_env=False)
