"""Which files an ingest reads, and with which reader and mapping each one.

`discover` lists the files under a path (hidden ones skipped); `FilePlanner` decides per file its
format (option, mapping, or extension), its mapping (the one given, or the reader's default), the
mapping's sources that apply to it (every one whose glob matches), and why a file is skipped, so a run knows before reading anything what it will do with each file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kcrm.foundation.errors import IngestError
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
    source_maps: list[SourceMap]
    mapping: MappingFile | None
    outcome: FileOutcome

    @property
    def source_map(self) -> SourceMap | None:
        """The first source that applies (its reader options and format are the file's)."""
        return self.source_maps[0] if self.source_maps else None


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
        source_maps = self.mapping.sources_for(relative) if self.mapping else []
        mapping = self.mapping
        outcome = FileOutcome(source=relative, format=None, mapping=mapping.name if mapping else None)
        fmt = self.fmt or next((s.format for s in source_maps if s.format), None) or format_for(path)
        outcome.format = fmt
        if self.mapping is not None and not source_maps:
            outcome.skipped = f"no source of mapping {self.mapping.name!r} matches this file"
        elif fmt is None:
            outcome.skipped = "no reader for this file extension (give --format)"
        elif self.mapping is None:
            default = getattr(type(get_reader(fmt)), "default_mapping", None)
            if default:
                if default not in self._defaults:
                    self._defaults[default] = load_mapping(default, self.ontology)
                mapping = self._defaults[default]
                source_maps = mapping.sources_for(relative) or mapping.sources[:1]
                outcome.mapping = mapping.name
        if outcome.skipped and single:
            raise IngestError(f"cannot ingest {relative}: {outcome.skipped}")
        if len(source_maps) > 1:
            chosen = {id(s) for s in source_maps}
            outcome.sources = [n for n, s in enumerate(mapping.sources, start=1) if id(s) in chosen] if mapping else None
        return FilePlan(path, relative, fmt, source_maps, mapping, outcome)


def unmatched_sources(mapping: MappingFile | None, plans: list[FilePlan]) -> list[str]:
    """The mapping's sources that no file of the run matched, as `#N file-glob` (N counts from 1)."""
    if mapping is None:
        return []
    used = {id(s) for plan in plans for s in plan.source_maps if plan.mapping is mapping}
    return [f"#{n} {s.file}" for n, s in enumerate(mapping.sources, start=1) if id(s) not in used]


__all__ = ["FilePlan", "FilePlanner", "discover", "unmatched_sources"]
