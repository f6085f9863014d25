"""API throughput with 1 and 2 worker processes: search with facets and case assist, 1-8 clients.

Drives `GET /v1/search?k=10&facets=true` and `POST /v1/cases/assist` over loopback with 1, 2, 4
and 8 closed-loop clients against `kcrm serve --workers 1` and then `--workers 2`, in one run, on
the data dir's published index (default: the test stack's, var/test, the sample) and its Neo4j.
Prints queries/s, p50/p99 and errors per row, the 2-worker/1-worker ratio per client count, the
server's own search time (`took_ms`) beside the client's latency (the difference is per-request
overhead: HTTP, authentication, audit queueing, serialisation), and the audit check: the audit
entries added during each server's run, counted in Neo4j after it has shut down (its queue is
flushed on shutdown), against the requests that run sent.

Note the clients run on the same machine as the server: on 2 cores they compete for the CPU.

    .venv/bin/python benchmarks/api_throughput.py [--data-dir var/test] [--bolt-uri bolt://127.0.0.1:17687]
        [--seconds 15] [--clients 1,2,4,8] [--workers 1,2] [--json var/bench/api_throughput.json]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from pathlib import Path

from http_harness import closed_loop, mint_key, serve

from kcrm.foundation.config import Settings
from kcrm.security.audit import AuditLog

QUERIES = ["refund policy", "退款", "printer driver fails after update", "打印机驱动更新后无法打印",
           "router keeps dropping wifi", "invoice is wrong", "发票开错了", "cannot log in two-factor",
           "laptop battery drains fast", "order delayed shipping", "license activation failed", "保修 屏幕 损坏"]
CASES = ["My printer stopped printing after the driver update, it shows error 0x3 on every page.",
         "路由器每天晚上都会断网，重启以后也没有用。", "The refund for my returned laptop has not arrived after two weeks.",
         "We cannot activate the license on the new server; the key is rejected."]


def search(client, i: int):
    return client.get("/v1/search", params={"q": QUERIES[i % len(QUERIES)], "k": 10, "facets": "true"})


def assist(client, i: int):
    return client.post("/v1/cases/assist", json={"text": CASES[i % len(CASES)]})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_workers(settings: Settings, args: argparse.Namespace, workers: int, key: str, scratch: Path) -> dict:
    """One server with `workers` processes: every (endpoint, clients) row, then the audit count."""
    audit = AuditLog(settings)
    port = free_port()
    env = {"KCRM_DATA_DIR": str(args.data_dir), "NEO4J_URI": settings.bolt_uri,
           "NEO4J_PASSWORD": settings.neo4j_password, "KCRM_LOG_LEVEL": "WARNING"}
    proc = serve(env, port, key, scratch / f"serve-{workers}.log", workers=workers)
    url = f"http://127.0.0.1:{port}"
    counted = mint_key(settings, f"bench-{workers}w-{time.strftime('%H%M%S')}")  # only the measured requests
    rows, sent = [], 0
    try:
        for call in (search, assist):  # warm up: each worker loads its cached graph facts on first use
            closed_loop(url, key, 2 * workers, 3, call)
        for name, call in (("search_facets", search), ("case_assist", assist)):
            for clients in args.clients:
                row = {"workers": workers, "endpoint": name,
                       **closed_loop(url, counted, clients, args.seconds, call)}
                sent += row["requests"]
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    written = audit.count(key_id=counted.split("_")[1])
    return {"rows": rows, "audit": {"requests_sent": sent, "entries_written": written, "lost": sent - written}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("var/test"))
    parser.add_argument("--bolt-uri", default="bolt://127.0.0.1:17687")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4, 8])
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    settings = Settings(data_dir=args.data_dir, neo4j_uri=args.bolt_uri)
    if not (args.data_dir / "index" / "manifest.json").is_file():
        sys.exit(f"no published index under {args.data_dir}/index: run `kcrm reindex` (or the e2e tests) first")
    key = mint_key(settings, f"bench-{time.strftime('%H%M%S')}")
    scratch = Path(tempfile.mkdtemp(prefix="kcrm-throughput-"))
    results = {str(w): run_workers(settings, args, w, key, scratch) for w in args.workers}
    ratios = {}
    if "1" in results and "2" in results:
        one = {(r["endpoint"], r["clients"]): r for r in results["1"]["rows"]}
        for row in results["2"]["rows"]:
            base = one.get((row["endpoint"], row["clients"]))
            if base and base["qps"]:
                ratios[f"{row['endpoint']}_{row['clients']}_clients"] = round(row["qps"] / base["qps"], 2)
    figures = {"seconds_per_row": args.seconds, "results": results, "qps_ratio_2_vs_1_workers": ratios}
    print("audit", {w: r["audit"] for w, r in results.items()})
    print("ratio 2 workers / 1 worker (queries/s)", ratios)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
