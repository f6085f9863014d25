"""Validate records against the ontology's shapes before anything is written.

This is the fast path used on every load; it reads the same SHACL shapes that pySHACL checks
(`kcrm.ingest.shacl`), so the two agree on what valid data is. It also converts values to the
form stored in Neo4j (decimals as floats, ISO dates kept as normalised strings).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from kcrm.foundation.errors import OntologyError
from kcrm.kg.records import Link, Problem, Record, RelRef
from kcrm.ontology.model import Ontology, PropertySpec

MAX_UID_LENGTH = 200
# Control, format (bidi overrides, zero-width) and line/paragraph separators: a uid carrying one
# displays as another uid ("CUS-\u202e1") or breaks logs and URLs (issue 13, Unicode tricks).
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def uid_problem(uid: str) -> str | None:
    """Why a uid cannot be stored (None when it can)."""
    if len(uid) > MAX_UID_LENGTH:
        return f"longer than {MAX_UID_LENGTH} characters"
    hidden = next((c for c in uid if unicodedata.category(c) in HIDDEN_CATEGORIES), None)
    if hidden is not None:
        return f"holds the invisible or control character U+{ord(hidden):04X} ({unicodedata.name(hidden, 'unnamed')})"
    return None
MAX_TEXT_LENGTH = 1_000_000


def _check_scalar(spec: PropertySpec, value: Any) -> tuple[Any, str | None]:
    """Return (stored value, None) or (None, reason)."""
    kind = spec.datatype
    if kind in ("decimal", "double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"expected a number, got {type(value).__name__}"
        if spec.min_inclusive is not None and value < spec.min_inclusive:
            return None, f"must be >= {spec.min_inclusive:g}"
        return float(value), None
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"expected an integer, got {type(value).__name__}"
        return value, None
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (None, "expected true or false")
    if not isinstance(value, str):
        return None, f"expected a string, got {type(value).__name__}"
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, f"not an ISO 8601 date: {value[:40]!r}"
    if kind == "dateTime":
        try:
            return datetime.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, f"not an ISO 8601 date-time: {value[:40]!r}"
    return _check_string(spec, value)


def _check_string(spec: PropertySpec, value: str) -> tuple[Any, str | None]:
    if len(value) > MAX_TEXT_LENGTH:
        return None, f"longer than {MAX_TEXT_LENGTH} characters"
    if spec.min_length is not None and len(value.strip()) < spec.min_length:
        return None, "must not be empty"
    if spec.max_length is not None and len(value) > spec.max_length:
        return None, f"longer than {spec.max_length} characters"
    if spec.allowed is not None and value not in spec.allowed:
        return None, f"{value[:40]!r} is not one of {', '.join(spec.allowed)}"
    if spec.pattern is not None and not re.search(spec.pattern, value):
        return None, f"{value[:40]!r} does not match {spec.pattern}"
    return value, None


def check_properties(
    specs: dict[str, PropertySpec], props: dict[str, Any], where: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate and convert a property map; return (clean props, [(field, reason)])."""
    clean: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for name, value in props.items():
        spec = specs.get(name)
        if spec is None:
            errors.append((name, f"not a property of {where} in the ontology"))
            continue
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, list):
            if not spec.many:
                errors.append((name, "takes a single value, got a list"))
                continue
            checked = [_check_scalar(spec, item) for item in value]
            reasons = [reason for _, reason in checked if reason]
            if reasons:
                errors.append((name, reasons[0]))
            else:
                clean[name] = [stored for stored, _ in checked]
            continue
        stored, reason = _check_scalar(spec, value)
        if reason:
            errors.append((name, reason))
        else:
            clean[name] = [stored] if spec.many and name != "uid" else stored
    for name, spec in specs.items():
        if spec.required and name != "uid" and name not in clean and not any(f == name for f, _ in errors):
            errors.append((name, "is required"))
    return clean, errors


def _check_rel(ontology: Ontology, record: Record, rel: RelRef) -> tuple[RelRef | None, list[tuple[str, str]]]:
    where = f"rels.{rel.type}"
    try:
        spec = ontology.relationship(rel.type)
        ontology.class_spec(rel.other_type)
    except OntologyError as exc:
        return None, [(where, str(exc))]
    start, end = (record.type, rel.other_type) if rel.outgoing else (rel.other_type, record.type)
    if start not in spec.domain or end not in spec.range:
        return None, [(where, f"{start} -[{rel.type}]-> {end} is not allowed by the ontology")]
    props, errors = check_properties(spec.edge_properties, rel.props, f"relationship {rel.type}")
    if errors:
        return None, [(f"{where}.{name}", reason) for name, reason in errors]
    return RelRef(rel.type, rel.other_uid, rel.other_type, rel.outgoing, props), []


def validate_record(ontology: Ontology, record: Record) -> tuple[Record | None, list[Problem]]:
    """Return the cleaned record, or None and every problem found in it."""

    def problem(field: str, reason: str) -> Problem:
        return Problem(record.source, record.line, record.uid, field, reason)

    try:
        cls = ontology.class_spec(record.type)
    except OntologyError as exc:
        return None, [problem("type", str(exc))]
    if (bad_uid := uid_problem(record.uid)) is not None:
        return None, [problem("uid", bad_uid)]
    props, errors = check_properties(cls.properties, {k: v for k, v in record.props.items() if k != "uid"}, record.type)
    problems = [problem(f"props.{name}", reason) for name, reason in errors]
    if "uid" in record.props:
        problems.append(problem("props.uid", "uid belongs at the top level of the record"))
    rels = []
    for rel in record.rels:
        clean_rel, rel_errors = _check_rel(ontology, record, rel)
        problems.extend(problem(name, reason) for name, reason in rel_errors)
        if clean_rel is not None:
            rels.append(clean_rel)
    if problems:
        return None, problems
    return Record(record.type, record.uid, props, tuple(rels), record.source, record.line, record.rank), []


def validate_link(ontology: Ontology, link: Link) -> tuple[Link | None, list[Problem]]:
    """Check a stand-alone relationship against the ontology; return it with converted properties."""
    uid = f"{link.start_uid}->{link.end_uid}"
    where = f"rels.{link.type}"
    start = Record(link.start_type, link.start_uid, {}, (), link.source, link.line)
    rel = RelRef(link.type, link.end_uid, link.end_type, outgoing=True, props=link.props)
    try:
        ontology.class_spec(link.start_type)
    except OntologyError as exc:
        return None, [Problem(link.source, link.line, uid, "from.class", str(exc))]
    if max(len(link.start_uid), len(link.end_uid)) > MAX_UID_LENGTH:
        return None, [Problem(link.source, link.line, uid, where, f"a uid is longer than {MAX_UID_LENGTH} characters")]
    clean, errors = _check_rel(ontology, start, rel)
    if clean is None:
        return None, [Problem(link.source, link.line, uid, name, reason) for name, reason in errors]
    return Link(link.type, link.start_uid, link.start_type, link.end_uid, link.end_type, clean.props,
                link.source, link.line), []
