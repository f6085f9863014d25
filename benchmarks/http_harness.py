"""What the HTTP benchmarks share: a key for the server, a `kcrm serve` that is ready, closed-loop clients.

Every API request needs a key (issue 17: the old readiness probe called /v1/search without one,
got 401 and waited out its limit). Keys live in the Neo4j the server uses, so the benchmark mints
one there with the same store as `kcrm keys create`, probes /healthz, then one keyed request.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from kcrm.foundation.config import Settings
from kcrm.security.keys import KeyStore


def mint_key(settings: Settings, name: str = "benchmark") -> str:
    """An admin key (all groups) in the Neo4j `settings` reach."""
    plain, _ = KeyStore(settings).create(name, ["admin"], all_groups=True, created_by="benchmark")
    return plain


def serve(env: dict[str, str], port: int, key: str, log_path: Path, workers: int = 1,
          timeout_s: float = 600) -> subprocess.Popen:
    """Start `kcrm serve --workers N` on 127.0.0.1:`port`; return once a keyed search answers 200."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "kcrm.cli", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--workers", str(workers)], env=dict(os.environ, **env), stdout=log,
                                stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + timeout_s
    headers = {"Authorization": f"Bearer {key}"}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kcrm serve exited; see {log_path}")
        try:
            if httpx.get(f"{url}/v1/search", params={"q": "refund"}, headers=headers, timeout=10).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc.kill()
    raise RuntimeError(f"kcrm serve did not answer within {timeout_s:.0f} s; see {log_path}")


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p99 and mean in ms (zeros when nothing succeeded)."""
    if not values:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0}
    array = np.array(values)
    return {"p50_ms": round(float(np.percentile(array, 50)), 2), "p99_ms": round(float(np.percentile(array, 99)), 2),
            "mean_ms": round(float(array.mean()), 2)}


def closed_loop(url: str, key: str, clients: int, seconds: float,
                call: Callable[[httpx.Client, int], httpx.Response]) -> dict[str, float]:
    """`clients` threads each sending `call(client, i)` back to back for `seconds`: rate, latency, errors."""
    stop = time.perf_counter() + seconds
    times: list[float] = []
    server_ms: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as client:
            i = offset
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    response = call(client, i)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if ok:
                        times.append(elapsed)
                        if i % 5 == 0:  # the server's own time, sampled (parsing costs the client CPU)
                            took = response.json().get("took_ms")
                            if isinstance(took, (int, float)):
                                server_ms.append(float(took))
                    else:
                        errors[0] += 1
                i += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c * 7,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    row = {"clients": clients, "qps": round(len(times) / wall, 1), "requests": len(times) + errors[0],
           "errors": errors[0], **percentiles(times)}
    if server_ms:
        row["server_p50_ms"] = percentiles(server_ms)["p50_ms"]
    return row
