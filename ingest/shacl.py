"""Validate records with pySHACL against `ontology/shapes.ttl`: the reference check.

Loading uses the faster `kcrm.ingest.validate`, which reads the same shapes; this module turns
records into RDF and lets a real SHACL engine judge them, for `kcrm validate` and for tests
that keep the two validators in agreement.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyshacl
from rdflib import Graph, Literal
from rdflib.namespace import RDF, SH

from kcrm.kg.records import Problem, Record
from kcrm.ontology.model import KCRM, SHAPES_FILE, Ontology
from kcrm.ontology.rdf import DATA, node_iri  # noqa: F401 - DATA re-exported: kcrm.ingest.native reads it here
from kcrm.ontology.rdf import literal as _literal


def records_to_rdf(ontology: Ontology, records: Iterable[Record]) -> Graph:
    """Express records as RDF triples typed by the ontology's property ranges."""
    graph = Graph()
    for record in records:
        subject = node_iri(record.uid)
        graph.add((subject, RDF.type, KCRM[record.type]))
        graph.add((subject, KCRM.uid, Literal(record.uid)))
        for name, value in record.props.items():
            spec = ontology.datatype_properties.get(name)
            datatype = spec.datatype if spec else "string"
            for item in value if isinstance(value, list) else [value]:
                graph.add((subject, KCRM[name], _literal(item, datatype)))
        for rel in record.rels:
            other = node_iri(rel.other_uid)
            start, end = (subject, other) if rel.outgoing else (other, subject)
            graph.add((start, KCRM[rel.type], end))
    return graph


def shacl_validate(ontology: Ontology, records: list[Record]) -> list[Problem]:
    """Run pySHACL over the records; one Problem per violation, tied back to its record."""
    by_iri = {node_iri(r.uid): r for r in records}
    data = records_to_rdf(ontology, records)
    shapes = Graph().parse(SHAPES_FILE, format="turtle")
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    if conforms:
        return []
    problems = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        record = by_iri.get(focus)
        field = "props." + str(path).rsplit("#", 1)[-1] if path is not None else ""
        problems.append(Problem(
            source=record.source if record else "", line=record.line if record else 0,
            uid=record.uid if record else str(focus), field=field, reason=str(message),
        ))
    return sorted(problems, key=lambda p: (p.source, p.line, p.field))
