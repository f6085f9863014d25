"""Every script in benchmarks/ has a smoke run in tests/e2e/test_benchmarks_smoke.py (issue 17).

A new benchmark without one would rot unseen; this fails as soon as it is added. Modules that
other scripts import and that run nothing themselves are listed in LIBRARIES.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIBRARIES = {"http_harness.py"}  # imported by api_throughput.py, smoke-run through it


def test_every_benchmark_script_has_a_smoke_run() -> None:
    smoke = (REPO / "tests" / "e2e" / "test_benchmarks_smoke.py").read_text(encoding="utf-8")
    run = set(re.findall(r'run_bench\("([a-z0-9_]+\.py)"', smoke))
    scripts = {p.name for p in (REPO / "benchmarks").glob("*.py")} - LIBRARIES
    assert scripts - run == set(), "benchmarks without a smoke run in tests/e2e/test_benchmarks_smoke.py"
    assert run - scripts == set(), "smoke runs of scripts that no longer exist"


def test_libraries_are_not_scripts() -> None:
    for name in LIBRARIES:
        assert "__main__" not in (REPO / "benchmarks" / name).read_text(encoding="utf-8"), name
