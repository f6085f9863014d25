"""Rows straight from a SQL database: a SQLAlchemy URL and a table or a query, streamed in batches.

Ticket and order systems keep their records in databases; this reader takes them from there
instead of from an export. Rows are fetched `batch_size` at a time (a server-side cursor where the
driver has one, as psycopg does), so the reader never holds the table; each row becomes a raw
row keyed by column name, with values made JSON-able (dates as ISO text, decimals as text so no
digit is lost). With a `watermark` column the rows come in its order, only those at or above the
value the last successful run reached (`since`: rows sharing that value are read again, which
changes nothing, rather than missing one written in the same second), and the highest value read
is left in `SqlSource.seen` for the next run (see `kcrm.ingest.watermarks`). Any URL SQLAlchemy knows works once its driver
is installed: SQLite (built in), PostgreSQL (psycopg, a dependency), MySQL (install PyMySQL).

A mapping source's `file` glob is matched against the table name, or against `name` for a query.
"""

from __future__ import annotations

import base64
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from kcrm.foundation.errors import IngestError
from kcrm.ingest.readers.base import BadRow, RawRow, ReadItem, ReadLimits, file_problem, oversized_field
from kcrm.kg.records import Problem

log = logging.getLogger(__name__)

DEFAULT_BATCH = 1000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass
class SqlSource:
    """What to read: `url` and exactly one of `table` or `query`; `since` is the last watermark reached."""

    url: str
    table: str | None = None
    query: str | None = None
    name: str | None = None
    watermark: str | None = None
    since: Any = None
    batch_size: int = DEFAULT_BATCH
    seen: dict[str, Any] = field(default_factory=dict)  # filled while reading: rows, max watermark

    def __post_init__(self) -> None:
        if (self.table is None) == (self.query is None):
            raise IngestError("give exactly one of --table or --query for a database URL")
        for name in filter(None, [*(self.table or "").split("."), self.watermark]):
            if not _NAME.match(name):
                raise IngestError(f"{name!r} is not a plain SQL identifier (letters, digits, _ and $; "
                                  "schema.table for a schema)")
        if self.batch_size < 1:
            raise IngestError("the batch size must be at least 1")

    @property
    def relative(self) -> str:
        """The name mapping sources match against: the table, or `name` (default 'query') for a query."""
        return self.name or self.table or "query"

    def safe_url(self) -> str:
        """The URL without its password, for reports and logs."""
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001  an unparsable URL is reported by the reader; never echo a secret
            return re.sub(r"//[^@/]*@", "//***@", self.url)


def json_value(value: Any) -> Any:
    """A database value as JSON can hold it, losing nothing the mapping could use."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def build_statement(spec: SqlSource, quote: Any) -> tuple[str, dict[str, Any]]:
    """The SELECT to run and its parameters; identifiers quoted by the dialect, values always bound."""
    if spec.table is not None:
        base = "SELECT * FROM " + ".".join(quote(part) for part in spec.table.split("."))
        alias = ""
    else:
        base = f"SELECT * FROM ({spec.query.rstrip().rstrip(';')}) AS kcrm_source"  # type: ignore[union-attr]
        alias = "kcrm_source."
    if spec.watermark is None:
        return base, {}
    column = alias + quote(spec.watermark)
    where = f" WHERE {column} >= :since" if spec.since is not None else ""
    return f"{base}{where} ORDER BY {column}", ({"since": spec.since} if spec.since is not None else {})


class SqlReader:
    """A table or query of a SQL database (`kcrm ingest URL --table T` or `--query Q`)."""

    format: ClassVar[str] = "sql"
    extensions: ClassVar[tuple[str, ...]] = ()
    default_mapping: ClassVar[str | None] = None

    def read(self, path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        spec = options.get("sql")
        if not isinstance(spec, SqlSource):
            yield file_problem(source, "the sql reader reads a database URL given with --table or --query, "
                                       "not a file")
            return
        try:
            yield from self._rows(spec, source, limits)
        except Exception as exc:  # noqa: BLE001  driver errors differ per database; all end the read the same way
            from sqlalchemy.exc import SQLAlchemyError

            if not isinstance(exc, SQLAlchemyError):
                raise
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            yield file_problem(source, f"cannot read {spec.safe_url()} ({spec.relative}): {reason}; "
                                       f"{spec.seen.get('rows', 0)} rows were read before")

    def _rows(self, spec: SqlSource, source: str, limits: ReadLimits) -> Iterator[ReadItem]:
        from sqlalchemy import create_engine, text

        engine = create_engine(spec.url)
        try:
            sql, params = build_statement(spec, engine.dialect.identifier_preparer.quote)
            spec.seen.setdefault("rows", 0)
            with engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=spec.batch_size).execute(
                    text(sql), params)
                for batch in result.mappings().partitions(spec.batch_size):
                    for row in batch:
                        spec.seen["rows"] += 1
                        yield self._item(spec, source, limits, spec.seen["rows"], dict(row))
        finally:
            engine.dispose()

    @staticmethod
    def _item(spec: SqlSource, source: str, limits: ReadLimits, number: int, row: Mapping[str, Any]) -> ReadItem:
        data = {str(k): json_value(v) for k, v in row.items()}
        locator = f"row {number}"
        if spec.watermark is not None:
            mark = row.get(spec.watermark)
            if mark is not None and (spec.seen.get("max") is None or mark > spec.seen["max"]):
                spec.seen["max"] = mark
            locator += f" ({spec.watermark}={data.get(spec.watermark)})"
        too_big = oversized_field(data, limits)
        if too_big:
            where, reason = too_big
            return BadRow(Problem(source, number, "", where, reason, locator), data)
        return RawRow(source, number, data, locator)


__all__ = ["DEFAULT_BATCH", "SqlReader", "SqlSource", "build_statement", "json_value"]
