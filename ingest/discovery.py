"""Which files an ingest reads, and with which reader and mapping each one.

`discover` lists the files under a path (hidden ones skipped); `FilePlanner` decides per file its
format (option, mapping, or extension), its mapping (the one given, or the reader's default) and
why a file is skipped, so a run knows before reading anything what it will do with each file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kcrm.errors import IngestError
from kcrm.ingest.mapping import MappingFile, SourceMap, load_mapping
from kcrm.ingest.readers import format_for, get_reader
from kcrm.ingest.report import FileOutcome
from kcrm.ontology.model import Ontology


@dataclass
class FilePlan:
    """One file of a run: where it is, its format, its mapping, and its line in the report."""

    path: Path
    relative: str
    fmt: str | None
    source_map: SourceMap | None
    mapping: MappingFile | None
    outcome: FileOutcome


def discover(path: Path) -> list[tuple[Path, str]]:
    """The files to ingest under `path` (itself if a file), with names relative to it; hidden ones skipped."""
    if not path.exists():
        raise IngestError(f"nothing to ingest at {path}: no such file or directory")
    if path.is_file():
        return [(path, path.name)]
    found = []
    for item in sorted(path.rglob("*")):
        relative = item.relative_to(path)
        if item.is_file() and not any(part.startswith(".") for part in relative.parts):
            found.append((item, relative.as_posix()))
    if not found:
        raise IngestError(f"nothing to ingest: {path} has no files")
    return found


class FilePlanner:
    """Plans files against an optional mapping; readers' default mappings are loaded once each."""

    def __init__(self, ontology: Ontology, mapping: MappingFile | None, fmt: str | None) -> None:
        self.ontology, self.mapping, self.fmt = ontology, mapping, fmt
        self._defaults: dict[str, MappingFile] = {}

    def plan(self, path: Path, relative: str, single: bool) -> FilePlan:
        """The plan for one file; a lone file that would be skipped is an error instead."""
        source_map = self.mapping.source_for(relative) if self.mapping else None
        mapping = self.mapping
        outcome = FileOutcome(source=relative, format=None, mapping=mapping.name if mapping else None)
        fmt = self.fmt or (source_map.format if source_map else None) or format_for(path)
        outcome.format = fmt
        if self.mapping is not None and source_map is None:
            outcome.skipped = f"no source of mapping {self.mapping.name!r} matches this file"
        elif fmt is None:
            outcome.skipped = "no reader for this file extension (give --format)"
        elif self.mapping is None:
            default = getattr(type(get_reader(fmt)), "default_mapping", None)
            if default:
                if default not in self._defaults:
                    self._defaults[default] = load_mapping(default, self.ontology)
                mapping = self._defaults[default]
                source_map = mapping.source_for(relative) or mapping.sources[0]
                outcome.mapping = mapping.name
        if outcome.skipped and single:
            raise IngestError(f"cannot ingest {relative}: {outcome.skipped}")
        return FilePlan(path, relative, fmt, source_map, mapping, outcome)


__all__ = ["FilePlan", "FilePlanner", "discover"]
