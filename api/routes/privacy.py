"""Data-subject requests over HTTP: export everything about a customer, and erase it.

Export: admin or the `privacy` role (privacy officers answer access requests without an admin
key). Erasure: admin only. Both are audited by the authentication layer with the uid and, for
erasure, the counts per store (`request.state.audit`), never the data itself.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.privacy import erase_subject, export_subject

router = APIRouter(prefix="/v1", tags=["privacy"])
MEDIA = {"json": "application/json", "turtle": "text/turtle", "jsonld": "application/ld+json"}
UID = Annotated[str, Path(min_length=1, max_length=200, examples=["CUS-0176"])]


class SubjectExport(BaseModel):
    subject: dict[str, Any] = Field(examples=[{"type": "Customer", "uid": "CUS-0176",
                                               "properties": {"name": "Ashford Logistics plc", "source": "customers.jsonl"}}])
    nodes: list[dict[str, Any]] = Field(description="Orders, cases, products, segments... linked to the customer, "
                                        "with their provenance (source, sourceRecord, ingestedAt).")
    relationships: list[dict[str, Any]] = Field(examples=[[{"type": "PLACED", "from": "CUS-0176", "from_type": "Customer",
                                                            "to": "ORD-00001", "to_type": "Transaction", "properties": {}}]])
    exported_at: str = Field(examples=["2026-12-03T08:00:00+00:00"])


class ErasureOut(BaseModel):
    uid: str = Field(examples=["CUS-0176"])
    dry_run: bool
    graph: dict[str, Any] = Field(description="Deleted, kept pseudonymised and redacted nodes (type and uid) and the "
                                  "number of relationships removed.")
    search: dict[str, Any] = Field(examples=[{"removed": 12, "updated": 30, "generation": 7}])
    files: dict[str, int] = Field(examples=[{"files": 2}], description="Ingest reports and quarantine files cleaned.")
    alerts: dict[str, int] = Field(examples=[{"notifications": 3, "deliveries": 1, "subscriptions": 0,
                                              "warning_state": 1}])
    state: dict[str, int] = Field(default_factory=dict, examples=[{"KcrmIngestJob": 1, "KcrmAuditEntry": 2}],
                                  description="Service records (jobs, audit entries...) whose text quoted the "
                                  "customer, per kind: kept, with those words replaced by '[erased]'.")
    suppressed: int = Field(examples=[43], description="Source keys added to the suppression list.")


@router.get("/customers/{uid}/export", name="subject.export", summary="Everything kcrm knows about one customer",
            dependencies=[Depends(require_roles("privacy"))],
            responses={200: {"model": SubjectExport, "content": {"text/turtle": {}, "application/ld+json": {}}},
                       404: {"model": Problem}, 403: {"model": Problem}, 503: {"model": Problem}})
def subject_export(state: Annotated[ServiceState, Depends(get_state)], uid: UID,
                   fmt: Annotated[Literal["json", "turtle", "jsonld"],
                                  Query(alias="format", description="json, or RDF as turtle or jsonld.")] = "json",
                   ) -> Response:
    result = export_subject(state.graph, uid, fmt)
    if isinstance(result, str):
        return Response(result, media_type=MEDIA[fmt])
    return JSONResponse(result)


@router.post("/customers/{uid}/erase", name="subject.erase", response_model=ErasureOut,
             summary="Erase one customer everywhere (dry_run=true lists what would change)",
             dependencies=[Depends(require_roles("admin"))],
             responses={404: {"model": Problem}, 403: {"model": Problem}, 503: {"model": Problem}})
def subject_erase(request: Request, state: Annotated[ServiceState, Depends(get_state)], uid: UID,
                  dry_run: Annotated[bool, Query(description="Only report what would change.")] = False,
                  ) -> ErasureOut:
    report = erase_subject(state.settings, state.graph, uid, dry_run=dry_run)
    request.state.audit = report.counts()
    return ErasureOut(**report.as_dict())
