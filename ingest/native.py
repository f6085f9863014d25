"""Sources already in kcrm's own form need no mapping: record-form JSON and kcrm-typed RDF.

Record-form rows are `{"type", "uid", "props", "rels"}` objects (what `kcrm sample` writes and
`kcrm.ingest.records` defines). kcrm-typed RDF is what `kcrm.ingest.shacl.records_to_rdf`
writes: subjects typed with ontology classes, `kcrm:uid`, datatype and object properties in the
ontology's namespace. Both become the same `Record`s a mapping would produce.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from kcrm.ingest.readers.base import RawRow
from kcrm.ingest.readers.rdf import local_name
from kcrm.ingest.records import Problem, Record, RelRef, record_from_json
from kcrm.ingest.shacl import DATA
from kcrm.ontology.model import KCRM, Ontology

RECORD_KEYS = frozenset({"type", "uid", "props", "rels"})


def is_record_form(row: RawRow) -> bool:
    """A JSON row that already is a kcrm record (has type and uid, nothing else but props/rels)."""
    return "type" in row.data and "uid" in row.data and set(row.data) <= RECORD_KEYS


def is_kcrm_rdf(row: RawRow) -> bool:
    """An RDF row typed with a class of kcrm's ontology namespace."""
    return any(str(t).startswith(str(KCRM)) for t in row.data.get("@type", []))


def record_from_row(row: RawRow) -> Record | Problem:
    """A record-form row as a Record, or the reason it is malformed."""
    try:
        return record_from_json(row.data, row.source, row.record)
    except ValueError as exc:
        return Problem(row.source, row.record, str(row.data.get("uid", ""))[:200], "", str(exc), row.locator)


def _uid_of(iri: str) -> str:
    return unquote(iri[len(str(DATA)):]) if iri.startswith(str(DATA)) else iri


def record_from_rdf(row: RawRow, ontology: Ontology, types_by_iri: dict[str, str]) -> Record | Problem:
    """A kcrm-typed RDF subject as a Record; object properties become relationships."""

    def problem(field: str, reason: str, uid: str = "") -> Problem:
        return Problem(row.source, row.record, uid, field, reason, row.locator)

    types = [local_name(t) for t in row.data.get("@type", []) if str(t).startswith(str(KCRM))]
    if len(types) != 1:
        return problem("@type", f"needs exactly one kcrm class, has {', '.join(types) or 'none'}")
    uid = row.data.get("uid") or _uid_of(row.data["@id"])
    if not isinstance(uid, str):
        return problem("uid", "kcrm:uid must be a single string")
    props: dict[str, Any] = {}
    rels: list[RelRef] = []
    for key, value in row.data.items():
        if key.startswith("@") or key == "uid":
            continue
        if key in ontology.relationships:
            for item in value if isinstance(value, list) else [value]:
                other = item.get("@id") if isinstance(item, dict) else None
                if not other:
                    return problem(f"rels.{key}", "must point at a node (an IRI)", uid)
                other_type = types_by_iri.get(other) or _single_range(ontology, key)
                if other_type is None:
                    return problem(f"rels.{key}", f"the class of {other} is not stated in this file", uid)
                rels.append(RelRef(key, _uid_of(other), other_type, outgoing=True))
        else:
            props[key] = value
    return Record(types[0], uid, props, tuple(rels), row.source, row.record)


def _single_range(ontology: Ontology, rel_type: str) -> str | None:
    ranges = ontology.relationships[rel_type].range
    return next(iter(ranges)) if len(ranges) == 1 else None
