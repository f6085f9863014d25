"""The SQL reader's pure parts: the statement it runs, the values it yields, the watermark file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from kcrm.foundation.errors import IngestError
from kcrm.ingest.readers.base import BadRow, RawRow, ReadLimits
from kcrm.ingest.readers.sql import SqlReader, SqlSource, build_statement, json_value
from kcrm.ingest.watermarks import Watermarks, watermark_key


def quote(name: str) -> str:
    return f'"{name}"'


def test_a_table_and_a_watermark_make_a_bound_ordered_select() -> None:
    assert build_statement(SqlSource("sqlite://", table="sales.tickets"), quote) == (
        'SELECT * FROM "sales"."tickets"', {})
    since = datetime(2025, 3, 1, tzinfo=UTC)
    sql, params = build_statement(SqlSource("sqlite://", table="tickets", watermark="updated_at", since=since), quote)
    assert sql == 'SELECT * FROM "tickets" WHERE "updated_at" >= :since ORDER BY "updated_at"'
    assert params == {"since": since}
    sql, _ = build_statement(SqlSource("sqlite://", query="SELECT a FROM t;", watermark="a"), quote)
    assert sql == 'SELECT * FROM (SELECT a FROM t) AS kcrm_source ORDER BY kcrm_source."a"'


@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one of --table or --query"),
    ({"table": "t", "query": "SELECT 1"}, "exactly one of --table or --query"),
    ({"table": "t; DROP TABLE x"}, "not a plain SQL identifier"),
    ({"table": "t", "watermark": "a b"}, "not a plain SQL identifier"),
])
def test_bad_sources_are_refused_before_any_connection(kwargs: dict, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        SqlSource("sqlite://", **kwargs)


def test_values_become_json_without_losing_digits_and_passwords_never_show() -> None:
    assert json_value(Decimal("12.50")) == "12.50"
    assert json_value(date(2025, 1, 2)) == "2025-01-02"
    assert json_value(b"\x00\x01") == "AAE="
    assert SqlSource("postgresql+psycopg://kcrm:s3cret@db/crm", table="t").safe_url() == \
        "postgresql+psycopg://kcrm:***@db/crm"


def test_rows_stream_from_sqlite_with_the_highest_watermark_noted(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER, note TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(3, "c"), (1, "a"), (2, "x" * 50)])
    spec = SqlSource(f"sqlite:///{db}", table="t", watermark="id", batch_size=1)
    items = list(SqlReader().read(Path("t"), "t", ReadLimits(max_field_chars=10), {"sql": spec}))
    assert [type(i) for i in items] == [RawRow, BadRow, RawRow]  # in watermark order; the long field refused
    assert items[0].data == {"id": 1, "note": "a"} and items[0].locator == "row 1 (id=1)"
    assert spec.seen == {"rows": 3, "max": 3}
    missing = list(SqlReader().read(Path("t"), "t", ReadLimits(), {"sql": SqlSource(f"sqlite:///{db}", table="nope")}))
    assert len(missing) == 1 and "no such table" in missing[0].reason


def test_watermarks_keep_their_type(tmp_path: Path) -> None:
    marks = Watermarks.for_data_dir(tmp_path)
    key = watermark_key("crm", "sqlite:///x.db", "tickets", "updated_at")
    assert marks.get(key) is None
    when = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    marks.set(key, when)
    marks.set("other", Decimal("1.5"))
    assert marks.get(key) == when and isinstance(marks.get(key), datetime)
    assert marks.get("other") == Decimal("1.5")
