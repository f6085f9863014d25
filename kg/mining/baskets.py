"""Reading market baskets from CSV: one basket per line, items separated by commas.

The format of the public groceries data and of most basket exports: ragged rows, no header,
items possibly quoted. A BOM, blank lines, surrounding spaces and repeated items in a basket are
tolerated; anything unreadable is a `MiningInputError` naming the file and the line.
"""

from __future__ import annotations

import codecs
import csv
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from kcrm.foundation.errors import MiningInputError

log = logging.getLogger(__name__)


def parse_baskets(lines: Iterable[str], where: str = "<input>") -> list[list[str]]:
    """Baskets from an iterable of CSV lines; blank lines are skipped, items trimmed and de-duplicated."""
    baskets: list[list[str]] = []
    reader = csv.reader(lines, skipinitialspace=True, strict=True)
    try:
        for row in reader:
            items = list(dict.fromkeys(item.strip() for item in row if item.strip()))
            if items:
                baskets.append(items)
    except csv.Error as exc:
        raise MiningInputError(f"{where}: line {reader.line_num}: not valid CSV: {exc}") from exc
    return baskets


def _decoded_lines(handle: BinaryIO, where: str) -> Iterator[str]:
    """Lines decoded one at a time, so that bad bytes are reported with their line number."""
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MiningInputError(f"{where}: line {number}: not UTF-8 text ({exc.reason} at byte {exc.start} "
                                   "of the line)") from exc


def read_baskets(path: Path) -> list[list[str]]:
    """All baskets of a CSV file (UTF-8, with or without BOM); an empty or unreadable file is an error."""
    if not path.exists():
        raise MiningInputError(f"basket file {path} does not exist")
    if not path.is_file():
        raise MiningInputError(f"basket file {path} is not a regular file")
    try:
        with path.open("rb") as handle:
            baskets = parse_baskets(_decoded_lines(handle, str(path)), str(path))
    except OSError as exc:
        raise MiningInputError(f"basket file {path} cannot be read: {exc.strerror or exc}") from exc
    if not baskets:
        raise MiningInputError(f"basket file {path} holds no baskets (every line is blank)")
    log.info("read %d baskets from %s", len(baskets), path)
    return baskets
