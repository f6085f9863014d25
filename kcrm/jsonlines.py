"""Reading JSON Lines data sets (evaluation folders) with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kcrm.foundation.errors import KcrmError


def json_objects(path: Path, error: type[KcrmError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-blank line as (line number, object); `error` is raised with `path:line` and why."""
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise error(f"{path}:{line_no}: not JSON ({exc})") from None
            if not isinstance(row, dict):
                raise error(f"{path}:{line_no}: not a JSON object")
            yield line_no, row
