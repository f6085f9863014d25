"""Ingest jobs in the service state of the shared Neo4j, claimed under leases.

Any API process may accept a job; whichever process claims it first runs it, renewing a lease
while it works. A process that dies stops renewing, and once the lease has expired another
process claims the job and resumes it from the ingest journal. Each claim counts an attempt;
a job claimed `max_attempts` times without finishing (a crash loop: out of memory, a kill at
every try) is failed with the reason instead of being started again. A process that shuts down
releases its job without counting the attempt, so another process takes it at once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kcrm.foundation.config import Settings
from kcrm.kg.connection import Graph
from kcrm.statedb import JOB, SERVICE_LABEL, state_graph

JSON_FIELDS = ("summary", "rejected", "request")

REGISTER = f"""
MERGE (j:{SERVICE_LABEL}:{JOB} {{job_id: $job_id}})
ON CREATE SET j += $props, j.attempts = 0, j.queue = $queue
"""
GET = f"MATCH (j:{JOB} {{job_id: $job_id}}) RETURN j{{.*}} AS j"
CANDIDATES = f"""
MATCH (j:{JOB}) WHERE j.status IN ['queued', 'running'] AND coalesce(j.lease_until, '') <= $now
  AND j.queue = $queue
RETURN j.job_id AS job_id ORDER BY j.created_at LIMIT 10
"""
CLAIM = f"""
MATCH (j:{JOB} {{job_id: $job_id}})
SET j._lock = true
WITH j, j.status IN ['queued', 'running'] AND coalesce(j.lease_until, '') <= $now AS free,
     coalesce(j.attempts, 0) AS attempts, j.owner AS last_owner
REMOVE j._lock
WITH j, free, attempts, last_owner WHERE free
SET j.status = CASE WHEN attempts >= $max THEN 'failed' ELSE 'running' END,
    j.error = CASE WHEN attempts >= $max
              THEN 'gave up after ' + toString(attempts) + ' attempts: the process running it (' +
                   coalesce(last_owner, 'unknown') + ') stopped before it finished (killed, out of memory?)'
              ELSE j.error END,
    j.stage = CASE WHEN attempts >= $max THEN 'done' ELSE 'claimed' END,
    j.finished_at = CASE WHEN attempts >= $max THEN $now ELSE j.finished_at END,
    j.owner = CASE WHEN attempts >= $max THEN null ELSE $me END,
    j.lease_until = CASE WHEN attempts >= $max THEN null ELSE $until END,
    j.attempts = CASE WHEN attempts >= $max THEN attempts ELSE attempts + 1 END
RETURN j{{.*}} AS j
"""
RENEW = f"""
MATCH (j:{JOB} {{job_id: $job_id, owner: $me}}) WHERE j.status = 'running'
SET j.lease_until = $until, j.stage = $stage, j.rows_read = $rows
RETURN count(j) AS n
"""
FINISH = f"""
MATCH (j:{JOB} {{job_id: $job_id}}) WHERE j.owner = $me OR $me IS NULL
SET j += $props, j.owner = null, j.lease_until = null
RETURN count(j) AS n
"""
RELEASE = f"""
MATCH (j:{JOB} {{job_id: $job_id, owner: $me}}) WHERE j.status = 'running'
SET j.status = 'queued', j.stage = 'released at shutdown', j.owner = null, j.lease_until = null,
    j.attempts = j.attempts - 1
RETURN count(j) AS n
"""


def iso(moment: datetime | None = None) -> str:
    """UTC ISO time with microseconds: strings compare as times."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")


def to_props(fields: dict[str, Any]) -> dict[str, Any]:
    """A job's fields as node properties (nested ones as JSON text)."""
    return {k: (json.dumps(v, ensure_ascii=False) if k in JSON_FIELDS and v is not None else v)
            for k, v in fields.items()}


def from_props(props: dict[str, Any]) -> dict[str, Any]:
    """Node properties back to a job's fields."""
    out = {k: (json.loads(v) if k in JSON_FIELDS and isinstance(v, str) else v) for k, v in props.items()}
    out.pop("_lock", None)
    out.pop("queue", None)
    return out


class JobStore:
    """Register, claim, renew, finish and release ingest jobs for every process at once."""

    def __init__(self, settings: Settings, queue: str | None = None) -> None:
        self.settings = settings
        # Processes claim only their own queue's jobs: a job's uploads sit in the data dir of the
        # process that accepted it, so only processes sharing that data dir may take it over
        self.queue = queue or settings.ingest_queue

    @property
    def graph(self) -> Graph:
        return state_graph(self.settings)

    def register(self, job_id: str, fields: dict[str, Any]) -> None:
        """Make an accepted job visible to every process (idempotent)."""
        self.graph.write(REGISTER, job_id=job_id, props=to_props(fields), queue=self.queue)

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job's stored fields, or None."""
        rows = self.graph.read(GET, job_id=job_id)
        return from_props(rows[0]["j"]) if rows else None

    def claim(self, me: str, lease_s: float, max_attempts: int) -> dict[str, Any] | None:
        """Claim the oldest job that is queued or whose lease expired; failed ones come back failed."""
        now = datetime.now(UTC)
        for row in self.graph.read(CANDIDATES, now=iso(now), queue=self.queue):
            got = self.graph.write(CLAIM, job_id=row["job_id"], now=iso(now), me=me, max=max_attempts,
                                   until=iso(now + timedelta(seconds=lease_s)))
            if got:
                return from_props(got[0]["j"])
        return None

    def renew(self, job_id: str, me: str, lease_s: float, stage: str, rows: int) -> bool:
        """Extend this process's lease (and publish progress); False when it is no longer ours."""
        until = iso(datetime.now(UTC) + timedelta(seconds=lease_s))
        return bool(self.graph.write(RENEW, job_id=job_id, me=me, until=until, stage=stage, rows=rows)[0]["n"])

    def finish(self, job_id: str, me: str | None, fields: dict[str, Any]) -> bool:
        """Store a job's outcome if this process still holds it (`me` None: unconditionally)."""
        return bool(self.graph.write(FINISH, job_id=job_id, me=me, props=to_props(fields))[0]["n"])

    def release(self, job_id: str, me: str) -> bool:
        """Give a job back unfinished (shutdown): queued again at once, the attempt not counted."""
        return bool(self.graph.write(RELEASE, job_id=job_id, me=me)[0]["n"])
