"""How many processes `kcrm serve` runs.

CPython runs Python code on one core per process, so one process leaves the other cores of the
machine idle while it answers (issue 17: 47.6 queries/s at 4 clients on 2 cores). Processes share
nothing but the Neo4j (keys, audit, alerts, jobs: kcrm/statedb.py) and the published index on disk.
"""

from __future__ import annotations

import os


def cores() -> int:
    """The CPU cores this process may run on (its affinity mask, so a container's limit counts)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def worker_count(requested: int) -> int:
    """`requested` processes, or one per core when it is 0."""
    return requested if requested > 0 else cores()
