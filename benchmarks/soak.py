"""Soak: mixed search, graph reads and ingest against a real `kcrm serve` for a bounded time.

Starts `kcrm serve` on loopback over an existing data dir (a loaded graph and a built index, e.g.
the test stack's `var/test` or the demo's `var`) with a fresh admin key, then drives it from
worker threads: 70% searches (English and Chinese, all modes, some with facets), 10% customer
360s, 10% entity views, 10% small ingest uploads (record-form JSON Lines, their own uids). It
reports errors by status, latency percentiles per kind, and the server's resident memory over
time. The baseline is the run's own first window: p99 and RSS of the first quarter against the
last quarter, in the same process, so drift (a leak, a growing cache, slower ingests) shows as a
ratio. Soak nodes are removed at the end.

    .venv/bin/python benchmarks/soak.py --data-dir var/test --bolt-uri bolt://127.0.0.1:17710 --duration 90
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph, connect
from kcrm.security.keys import KeyStore

QUERIES = ["refund policy", "printer driver fails after update", "退款", "发票", "router keeps disconnecting",
           "GDPR data export", "无法登录", "warranty replacement", "打印机 驱动", "invoice wrong amount"]
MODES = ["hybrid", "lexical", "dense"]
SOURCE = "soak"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Soak:
    """Worker threads sending a weighted mix of requests; every answer noted with its time and kind."""

    def __init__(self, client_args: dict, customers: list[str], cases: list[str], run: str) -> None:
        self.client_args = client_args
        self.customers, self.cases, self.run = customers, cases, run
        self.samples: list[tuple[float, str, int, float]] = []  # (t, kind, status, seconds)
        self.jobs: list[str] = []
        self.lock = threading.Lock()
        self.uploads = 0

    def request(self, client: httpx.Client, rng: random.Random) -> tuple[str, httpx.Response]:
        roll = rng.random()
        if roll < 0.7:
            params = {"q": rng.choice(QUERIES), "mode": rng.choice(MODES), "k": rng.choice([5, 10, 20])}
            if rng.random() < 0.3:
                params["facets"] = "true"
            return "search", client.get("/v1/search", params=params)
        if roll < 0.8:
            return "customer360", client.get(f"/v1/customers/{rng.choice(self.customers)}/360")
        if roll < 0.9:
            return "entity", client.get(f"/v1/entities/{rng.choice(self.cases)}", params={"limit": 10})
        with self.lock:
            self.uploads += 1
            n = self.uploads
        rows = [{"type": "Customer", "uid": f"SOAK-{self.run}-{n:05d}-{i:02d}",
                 "props": {"name": f"Soak Customer {n}-{i}", "country": "Norway", "language": "en"}}
                for i in range(20)]
        body = "".join(json.dumps(r) + "\n" for r in rows).encode()
        response = client.post("/v1/ingest", files=[("files", (f"soak_{n}.jsonl", body, "application/json"))],
                               data={"source": f"{SOURCE}-{self.run}"})
        if response.status_code == 202:
            with self.lock:
                self.jobs.append(response.json()["job_id"])
        return "ingest", response

    def worker(self, seed: int, until: float, started: float) -> None:
        rng = random.Random(seed)
        with httpx.Client(**self.client_args) as client:
            while time.monotonic() < until:
                t0 = time.perf_counter()
                try:
                    kind, response = self.request(client, rng)
                    status = response.status_code
                except httpx.HTTPError:
                    kind, status = "transport", 0
                with self.lock:
                    self.samples.append((time.monotonic() - started, kind, status, time.perf_counter() - t0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("var"), help="A data dir with a built index.")
    parser.add_argument("--bolt-uri", default="bolt://127.0.0.1:7687", help="The Neo4j holding that data.")
    parser.add_argument("--duration", type=float, default=90.0, help="Seconds of load.")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="API port (default: a free one).")
    args = parser.parse_args()

    settings = Settings(data_dir=args.data_dir, neo4j_uri=args.bolt_uri)
    graph = Graph(connect(settings), settings)
    customers = [r["uid"] for r in graph.read("MATCH (c:Customer) WHERE NOT c.uid STARTS WITH 'SOAK-' "
                                               "RETURN c.uid AS uid LIMIT 200")]
    cases = [r["uid"] for r in graph.read("MATCH (c:SupportCase) RETURN c.uid AS uid LIMIT 200")]
    if not customers or not cases:
        sys.exit(f"no customers or cases in the graph at {args.bolt_uri}: load the sample first")

    run = time.strftime("%H%M%S")
    key, _ = KeyStore(settings).create("soak", ["admin"], all_groups=True)
    port = args.port or free_port()
    env = dict(os.environ, KCRM_DATA_DIR=str(args.data_dir), NEO4J_URI=args.bolt_uri,
               NEO4J_PASSWORD=settings.neo4j_password, KCRM_LOG_LEVEL="WARNING")
    server = subprocess.Popen([sys.executable, "-m", "kcrm.cli", "serve", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            sys.exit("kcrm serve did not get ready in 180 s")
        client_args = {"base_url": url, "headers": {"Authorization": f"Bearer {key}"}, "timeout": 60}
        soak = Soak(client_args, customers, cases, run)
        with httpx.Client(**client_args) as warm:  # load the embedder and caches before measuring
            for q in QUERIES:
                warm.get("/v1/search", params={"q": q})
        started = time.monotonic()
        until = started + args.duration
        memory: list[tuple[float, float]] = []
        threads = [threading.Thread(target=soak.worker, args=(i, until, started)) for i in range(args.workers)]
        for thread in threads:
            thread.start()
        while time.monotonic() < until:
            memory.append((time.monotonic() - started, rss_mib(server.pid)))
            time.sleep(1.0)
        for thread in threads:
            thread.join()
        memory.append((time.monotonic() - started, rss_mib(server.pid)))

        with httpx.Client(**client_args) as client:
            outcomes: Counter[str] = Counter()
            job_deadline = time.monotonic() + 300
            for job_id in soak.jobs:
                while (status := client.get(f"/v1/ingest/{job_id}").json()["status"]) not in ("succeeded", "failed"):
                    if time.monotonic() > job_deadline:
                        break
                    time.sleep(0.5)
                outcomes[status] += 1
        report(soak, memory, outcomes, args)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        removed = 0
        while n := graph.write("MATCH (n) WHERE n.source STARTS WITH $source WITH n LIMIT 5000 "
                               "DETACH DELETE n RETURN count(*) AS n", source=f"{SOURCE}-{run}")[0]["n"]:
            removed += n
        graph.close()
        print(f"removed {removed} soak nodes")


def report(soak: Soak, memory: list[tuple[float, float]], outcomes: Counter, args: argparse.Namespace) -> None:
    duration = args.duration
    by_kind: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[tuple[str, int]] = Counter()
    for _, kind, status, seconds in soak.samples:
        by_kind[kind].append(seconds)
        statuses[(kind, status)] += 1
    errors = {f"{k} {s}": n for (k, s), n in sorted(statuses.items()) if s == 0 or s >= 400}
    total = len(soak.samples)
    print(f"soak: {duration:.0f} s, {args.workers} workers, {total} requests ({total / duration:.1f}/s), "
          f"errors {sum(errors.values())} {errors or ''}")
    print(f"{'kind':<12} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, values in sorted(by_kind.items()):
        print(f"{kind:<12} {len(values):>6} {percentile(values, 50) * 1000:>8.1f} "
              f"{percentile(values, 99) * 1000:>8.1f} {max(values) * 1000:>8.1f}")
    every = [s[3] for s in soak.samples]
    first = [s[3] for s in soak.samples if s[0] < duration / 4]
    last = [s[3] for s in soak.samples if s[0] >= duration * 3 / 4]
    print(f"all: p50 {percentile(every, 50) * 1000:.1f} ms, p99 {percentile(every, 99) * 1000:.1f} ms; "
          f"p99 first quarter {percentile(first, 99) * 1000:.1f} ms -> last quarter "
          f"{percentile(last, 99) * 1000:.1f} ms (x{percentile(last, 99) / percentile(first, 99):.2f})")
    rss = [m for _, m in memory]
    start = [m for t, m in memory if t < duration / 4]
    end = [m for t, m in memory if t >= duration * 3 / 4]
    print(f"server RSS: start {rss[0]:.0f} MiB, max {max(rss):.0f} MiB, end {rss[-1]:.0f} MiB "
          f"(growth {rss[-1] - rss[0]:+.0f} MiB, {100 * (rss[-1] / rss[0] - 1):+.1f}%); mean first quarter "
          f"{sum(start) / len(start):.0f} MiB -> last quarter {sum(end) / len(end):.0f} MiB")
    print(f"ingest jobs: {len(soak.jobs)} accepted, {dict(outcomes)}")


if __name__ == "__main__":
    main()
