"""Ingest straight from SQL databases: SQLite, and a real PostgreSQL these tests start themselves.

The ticket table holds the same flat rows as the flat-export test (ticket, customer and product on
every row); it is read through the three-source mapping, streamed in small batches, and read
again incrementally from a timestamp watermark after more rows arrive.
"""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kcrm import workflows
from kcrm.ingest.readers.sql import SqlSource
from tests.conftest import free_port
from tests.e2e.test_flat_export import COLUMNS, MAPPING, generate

pytestmark = pytest.mark.e2e

CLEANUP = "MATCH (n) WHERE n.uid STARTS WITH 'SQLT-' CALL (n) { DETACH DELETE n } RETURN count(*) AS n"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server binaries (package `postgresql`), if installed."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()), None)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL on 127.0.0.1 (a free port), run as an unprivileged user; stopped afterwards."""
    binaries = postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not found: install Debian's `postgresql` (`make install` does, as root)")
    user = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = next((u for u in ("postgres", "nobody") if _has_user(u)), None)
        if user is None:
            pytest.skip("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")
    base = Path(tempfile.mkdtemp(prefix="kcrm-pg-"))
    data, log = base / "data", base / "server.log"
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    run_as = {"user": user, "group": pwd.getpwnam(user).pw_gid} if user else {}
    env = dict(os.environ, HOME=str(base), LC_ALL="C")
    port = free_port()
    subprocess.run([str(binaries / "initdb"), "-D", str(data), "-U", "kcrm", "--auth=trust", "--no-locale",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True, env=env, cwd=base, timeout=180,
                   **run_as)
    subprocess.run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120", "-o",
                    f"-h 127.0.0.1 -p {port} -k {base} -F", "start"], check=True, capture_output=True, env=env,
                   cwd=base, timeout=180, **run_as)
    try:
        yield f"postgresql+psycopg://kcrm@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True,
                       env=env, cwd=base, timeout=120, **run_as)
        shutil.rmtree(base, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def fill(url: str, rows: list[dict], first: int, create: bool) -> None:
    """Write ticket rows into table `tickets`, with an `updated_at` timestamp per row."""
    from sqlalchemy import Column, DateTime, MetaData, Table, Text, create_engine

    engine = create_engine(url)
    meta = MetaData()
    table = Table("tickets", meta, *(Column(c, Text) for c in COLUMNS), Column("updated_at", DateTime(timezone=True)))
    with engine.begin() as conn:
        if create:
            meta.drop_all(conn)
            meta.create_all(conn)
        conn.execute(table.insert(), [{**row, "updated_at": START + timedelta(minutes=first + n)}
                                      for n, row in enumerate(rows)])
    engine.dispose()


def mapping_for_table(tmp_path: Path) -> Path:
    path = tmp_path / "tickets-sql.yaml"
    path.write_text(MAPPING.read_text(encoding="utf-8").replace('"tickets*.csv"', "tickets")
                    .replace("FLAT-", "SQLT-").replace("name: tickets", "name: tickets-sql"), encoding="utf-8")
    return path


def counts(graph) -> dict[str, int]:
    return {r["label"]: r["n"] for r in graph.read(
        "MATCH (n) WHERE n.uid STARTS WITH 'SQLT-' RETURN labels(n)[0] AS label, count(*) AS n")}


def expected(rows: list[dict]) -> dict[str, int]:
    return {"Customer": len({r["Customer Email"].strip().lower() for r in rows}),
            "Product": len({" ".join(r["Product Purchased"].split()).lower() for r in rows}),
            "SupportCase": len(rows)}


@pytest.fixture
def sql_clean(graph, loaded, e2e_settings):
    graph.write(CLEANUP)
    yield graph
    graph.write(CLEANUP)
    workflows.update_index_after_ingest(e2e_settings, graph)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crm.db'}"
    return request.getfixturevalue("postgres_url")


def test_a_table_streams_in_and_reruns_incrementally(database: str, sql_clean, e2e_settings, tmp_path: Path) -> None:
    export = tmp_path / "tickets.csv"
    generate(export, rows=50)
    with export.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fill(database, rows[:35], 0, create=True)
    mapping = mapping_for_table(tmp_path)
    source = f"sqltest-{database.split(':')[0]}-{time.monotonic_ns()}"  # a fresh watermark every run

    first = SqlSource(database, table="tickets", watermark="updated_at", batch_size=7)
    result = workflows.ingest(e2e_settings, sql_clean, Path(first.safe_url()), mapping=str(mapping), source=source,
                              sql=first)
    assert result.ok, [p.as_dict() for p in result.rejected[:5]]
    assert first.seen["rows"] == 35 and result.files[0].sources == [1, 2, 3]
    assert counts(sql_clean) == expected(rows[:35])
    assert sql_clean.read("MATCH (t:SupportCase) WHERE t.uid STARTS WITH 'SQLT-' AND NOT "
                          "((:Customer)-[:RAISED]->(t) AND (t)-[:ABOUT_PRODUCT]->(:Product)) RETURN count(*) AS n"
                          ) == [{"n": 0}]

    fill(database, rows[35:], 35, create=False)
    second = SqlSource(database, table="tickets", watermark="updated_at", batch_size=7)
    again = workflows.ingest(e2e_settings, sql_clean, Path(second.safe_url()), mapping=str(mapping), source=source,
                             sql=second)
    assert again.ok
    assert second.seen["rows"] == 1 + 15  # the row at the last watermark again, and the new ones
    assert counts(sql_clean) == expected(rows)
    assert again.load is not None and again.load.created["SupportCase"] == 15
    assert again.load.unchanged["SupportCase"] == 1  # the row read again changed nothing


def test_a_query_and_its_problems(e2e_settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    export = tmp_path / "tickets.csv"
    generate(export, rows=12)
    with export.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fill(url, rows, 0, create=True)
    mapping = tmp_path / "q.yaml"
    mapping.write_text(mapping_for_table(tmp_path).read_text(encoding="utf-8").replace("file: tickets",
                                                                                       "file: recent"))
    query = SqlSource(url, query='SELECT * FROM tickets WHERE "Ticket ID" > \'9006\'', name="recent")
    result = workflows.ingest(e2e_settings, None, Path("q"), mapping=str(mapping), source="sqltest-q",
                              dry_run=True, sql=query)
    assert result.ok and query.seen["rows"] == 6

    failed = workflows.ingest(e2e_settings, None, Path("q"), mapping=str(mapping), source="sqltest-q",
                              dry_run=True, sql=SqlSource(url, table="no_such_table", name="recent"))
    assert not failed.ok and "no such table" in failed.rejected[0].reason


def test_the_cli_reads_a_database_url(tmp_path: Path, cli_env: dict[str, str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    export = tmp_path / "tickets.csv"
    generate(export, rows=9)
    with export.open(encoding="utf-8", newline="") as handle:
        fill(url, list(csv.DictReader(handle)), 0, create=True)
    # a dry run writes nothing, but checks references against the graph: the session's Neo4j
    env = dict(cli_env, KCRM_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "kcrm.cli", "ingest", url, "--table", "tickets", "--mapping",
                           str(mapping_for_table(tmp_path)), "--dry-run"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"records": ' in done.stdout and '"source": "tickets"' in done.stdout
    bad = subprocess.run([sys.executable, "-m", "kcrm.cli", "ingest", url, "--mapping",
                          str(mapping_for_table(tmp_path)), "--dry-run"], env=env, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and "exactly one of --table or --query" in bad.stderr
