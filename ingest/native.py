"""Sources already in kcrm's own form need no mapping: record-form JSON and kcrm-typed RDF.

Record-form rows are `{"type", "uid", "props", "rels"}` objects (what `kcrm sample` writes and
`kcrm.kg.records` defines). kcrm-typed RDF is what `kcrm.ingest.shacl.records_to_rdf`
writes: subjects typed with ontology classes, `kcrm:uid`, datatype and object properties in the
ontology's namespace. Both become the same `Record`s a mapping would produce.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from rdflib.namespace import RDF

from kcrm.ingest.readers.base import RawRow
from kcrm.ingest.readers.rdf import local_name
from kcrm.ingest.shacl import DATA
from kcrm.kg.records import Problem, Record, RelRef, record_from_json
from kcrm.ontology.model import KCRM, Ontology
from kcrm.ontology.rdf import PROVENANCE

RECORD_KEYS = frozenset({"type", "uid", "props", "rels"})


def is_record_form(row: RawRow) -> bool:
    """A JSON row that already is a kcrm record (has type and uid, nothing else but props/rels)."""
    return "type" in row.data and "uid" in row.data and set(row.data) <= RECORD_KEYS


def is_kcrm_rdf(row: RawRow) -> bool:
    """An RDF row typed with a class of kcrm's ontology namespace."""
    return any(str(t).startswith(str(KCRM)) for t in row.data.get("@type", []))


def is_reified_edge(row: RawRow) -> bool:
    """An RDF row that states the properties of one relationship (an `rdf:Statement`)."""
    return str(RDF.Statement) in row.data.get("@type", [])


def edge_key(row: RawRow) -> tuple[str, str, str] | None:
    """(start IRI, relationship type, end IRI) of a reified statement, or None when one is missing."""
    ends = [row.data.get(name) for name in ("subject", "predicate", "object")]
    if not all(isinstance(end, dict) and end.get("@id") for end in ends):
        return None
    return ends[0]["@id"], local_name(ends[1]["@id"]), ends[2]["@id"]


def edge_properties(row: RawRow) -> dict[str, Any]:
    """The relationship properties a reified statement carries (its kcrm predicates)."""
    return {key: value for key, value in row.data.items()
            if not key.startswith("@") and key not in ("subject", "predicate", "object")}


def record_from_row(row: RawRow) -> Record | Problem:
    """A record-form row as a Record, or the reason it is malformed."""
    try:
        return record_from_json(row.data, row.source, row.record)
    except ValueError as exc:
        return Problem(row.source, row.record, str(row.data.get("uid", ""))[:200], "", str(exc), row.locator)


def _uid_of(iri: str) -> str:
    return unquote(iri[len(str(DATA)):]) if iri.startswith(str(DATA)) else iri


def record_from_rdf(row: RawRow, ontology: Ontology, types_by_iri: dict[str, str],
                    edges: dict[tuple[str, str, str], dict[str, Any]] | None = None) -> Record | Problem:
    """A kcrm-typed RDF subject as a Record; object properties become relationships.

    `edges` holds the properties of reified relationships, keyed (start IRI, type, end IRI).
    """

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
        if key.startswith("@") or key == "uid" or key in PROVENANCE:
            continue  # provenance of an export: this import stamps its own
        if key in ontology.relationships:
            for item in value if isinstance(value, list) else [value]:
                other = item.get("@id") if isinstance(item, dict) else None
                if not other:
                    return problem(f"rels.{key}", "must point at a node (an IRI)", uid)
                other_type = types_by_iri.get(other) or _single_range(ontology, key)
                if other_type is None:
                    return problem(f"rels.{key}", f"the class of {other} is not stated in this file", uid)
                props_of_edge = (edges or {}).get((row.data["@id"], key, other), {})
                rels.append(RelRef(key, _uid_of(other), other_type, outgoing=True, props=props_of_edge))
        else:
            props[key] = value
    return Record(types[0], uid, props, tuple(rels), row.source, row.record)


def _single_range(ontology: Ontology, rel_type: str) -> str | None:
    ranges = ontology.relationships[rel_type].range
    return next(iter(ranges)) if len(ranges) == 1 else None
