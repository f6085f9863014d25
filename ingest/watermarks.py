"""How far each incremental database ingest got: the highest watermark value a successful run read.

One small JSON file (DATA_DIR/ingest/watermarks.json), keyed by the provenance name, the URL
without its password, the table or query, and the column. A value is saved only after a run that
wrote its batches (not a dry run, not a run that failed), so a killed or refused run reads the same
rows again next time. Dates and times keep their type through the file, so the next run compares
a timestamp column with a timestamp, not with text.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def watermark_key(source: str, url: str, what: str, column: str) -> str:
    """One incremental read: provenance name, password-free URL, table or query, watermark column."""
    digest = hashlib.sha256(what.encode("utf-8")).hexdigest()[:12] if " " in what else what
    return f"{source}|{url}|{digest}|{column}"


def encode(value: Any) -> dict[str, Any]:
    """A watermark value with its type, as the file stores it."""
    if isinstance(value, datetime):
        return {"type": "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {"type": "date", "value": value.isoformat()}
    if isinstance(value, Decimal):
        return {"type": "decimal", "value": str(value)}
    return {"type": "plain", "value": value}


def decode(stored: dict[str, Any]) -> Any:
    """The value `encode` stored, with its type back."""
    kind, value = stored.get("type"), stored.get("value")
    if kind == "datetime":
        return datetime.fromisoformat(str(value))
    if kind == "date":
        return date.fromisoformat(str(value))
    if kind == "decimal":
        return Decimal(str(value))
    return value


class Watermarks:
    """The watermark file of a data dir."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Watermarks:
        return cls(data_dir / "ingest" / "watermarks.json")

    def _all(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def get(self, key: str) -> Any:
        """The last value reached for `key`, or None (read everything)."""
        stored = self._all().get(key)
        return decode(stored) if stored else None

    def set(self, key: str, value: Any) -> None:
        """Remember `value` for `key` (written atomically)."""
        data = self._all()
        data[key] = encode(value)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, self.path)


__all__ = ["Watermarks", "decode", "encode", "watermark_key"]
