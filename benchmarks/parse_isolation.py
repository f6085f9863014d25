"""What parsing in a limited child process costs (issue 13): in-process reader vs `read_isolated`.

Each file of tests/fixtures/ingest (CSV, TSV, JSON, XML, RDF, mail, PDF, DOCX, HTML, Markdown) and
the Northwind CSVs from ../shared/data/northwind are read `--repeat` times both ways in the same
run; the script prints per-file medians and the ratio isolated / in-process. The child's cost is
mostly a fresh interpreter and the reader's imports, so it is a fixed cost per file group, paid
once per format in a job, not per row.

    .venv/bin/python benchmarks/parse_isolation.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from kcrm.ingest.isolation import ParseLimits, read_isolated
from kcrm.ingest.readers import format_for, get_reader
from kcrm.ingest.readers.base import ReadLimits

REPO = Path(__file__).resolve().parents[1]
NORTHWIND = REPO.parent / "shared" / "data" / "northwind"


def _files() -> list[Path]:
    found = sorted(p for p in (REPO / "tests" / "fixtures" / "ingest").rglob("*") if p.is_file()
                   and p.suffix not in (".py", ".yaml"))
    if NORTHWIND.is_dir():
        found += sorted(NORTHWIND.glob("*.csv"))[:3]
    return found


def _median_s(work, repeat: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = sum(1 for _ in work())
        times.append(time.perf_counter() - started)
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    limits, parse = ReadLimits(), ParseLimits()
    total_in = total_iso = 0.0
    print(f"{'file':34} {'items':>6} {'in-process ms':>14} {'isolated ms':>12} {'ratio':>7}")
    for path in _files():
        fmt = format_for(path)
        if fmt is None:
            continue
        reader = get_reader(fmt)
        inline, items = _median_s(lambda: reader.read(path, path.name, limits, {}), args.repeat)
        isolated, items_iso = _median_s(lambda: read_isolated(fmt, [(path, path.name)], limits, {}, parse), args.repeat)
        assert items == items_iso, (path, items, items_iso)
        total_in, total_iso = total_in + inline, total_iso + isolated
        print(f"{path.name[:34]:34} {items:>6} {inline * 1000:>14.1f} {isolated * 1000:>12.1f} {isolated / inline:>7.1f}")
    print(f"{'all files':34} {'':>6} {total_in * 1000:>14.1f} {total_iso * 1000:>12.1f} {total_iso / total_in:>7.1f}")


if __name__ == "__main__":
    main()
