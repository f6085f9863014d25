"""POST /v1/ingest (an asynchronous job over uploaded files) and GET /v1/ingest/{job_id}."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kcrm.api.auth import require_roles
from kcrm.api.deps import get_principal, get_state
from kcrm.api.problems import Problem
from kcrm.api.state import ServiceState
from kcrm.foundation.errors import IngestError, IngestJobNotFound
from kcrm.ingest.jobs import IngestJobs, safe_upload_name
from kcrm.ingest.mapping import MAPPINGS_DIR, load_mapping, parse_mapping, shipped_mappings
from kcrm.ontology.model import load_ontology
from kcrm.security.access import Principal

router = APIRouter(prefix="/v1", tags=["ingest"],
                   dependencies=[Depends(require_roles("app"))])


class IngestAccepted(BaseModel):
    job_id: str = Field(examples=["20250301T101500123456Z"])
    status: Literal["queued"] = "queued"
    status_url: str = Field(examples=["/v1/ingest/20250301T101500123456Z"])
    files: list[str] = Field(examples=[["customers.csv", "orders.csv"]])


class IngestStatus(BaseModel):
    job_id: str = Field(examples=["20250301T101500123456Z"])
    status: Literal["queued", "running", "succeeded", "failed"] = Field(
        examples=["succeeded"], description="'succeeded' means the job ran; summary.rejected says what was refused.")
    stage: str = Field(examples=["done"])
    rows_read: int = Field(examples=[3000])
    attempts: int = Field(0, examples=[1], description="Times a process started the job (another process takes "
                          "over one whose process died; it fails after KCRM_INGEST_MAX_ATTEMPTS).")
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    summary: dict[str, Any] | None = Field(None, examples=[{
        "accepted": {"records": 1015, "links": 2155}, "rejected": {"records": 1, "problems": 1},
        "graph": {"created": {"Customer": 91}}, "report": "var/ingest/20250301T101500123456Z/report.json"}])
    rejected: list[dict[str, Any]] = Field(default_factory=list, examples=[[{
        "source": "customers.csv", "record": 17, "locator": "line 18", "uid": "NW-CUS-XYZ",
        "field": "props.email", "reason": "'not-an-address' is not an e-mail address"}]])
    error: str | None = Field(None, description="Why a failed job could not run.")


def get_jobs(request: Request, state: Annotated[ServiceState, Depends(get_state)]) -> IngestJobs:
    """The service's job runner, created on first use."""
    return start_jobs(request.app.state, state)


def start_jobs(app_state: Any, state: ServiceState) -> IngestJobs:
    """The job runner (created once), which queues again the jobs a killed server left unfinished."""
    jobs = getattr(app_state, "ingest_jobs", None)
    if jobs is None:
        jobs = app_state.ingest_jobs = IngestJobs(state.settings, state.graph)
        jobs.resume_unfinished()
    return jobs


@router.post(
    "/ingest", status_code=202, response_model=IngestAccepted, summary="Ingest uploaded files as a background job",
    responses={413: {"model": Problem}, 422: {"model": Problem}},
)
def start_ingest(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    jobs: Annotated[IngestJobs, Depends(get_jobs)],
    files: Annotated[list[UploadFile], File(description="The files to ingest (any registered format).")],
    format: Annotated[str | None, Form(description="Reader to use for every file (default: by extension).")] = None,
    mapping: Annotated[str | None, Form(max_length=100, description="Name of a shipped mapping, e.g. 'northwind'.")] = None,
    mapping_file: Annotated[UploadFile | None, File(description="A mapping YAML file.")] = None,
    source: Annotated[str | None, Form(max_length=200, description="Provenance name for the nodes.")] = None,
    dry_run: Annotated[bool, Form(description="Validate only; write nothing to the graph.")] = False,
) -> JSONResponse:
    if mapping and mapping_file is not None:
        raise IngestError("give either 'mapping' (a shipped name) or 'mapping_file', not both")
    ontology = load_ontology()
    mapping_text: str | None = None
    names = [safe_upload_name(upload.filename or "") for upload in files]  # before any job or folder exists
    mapping_ref: str | None = None
    if mapping:
        # Only shipped names, never a path: resolving against the working directory was an existence oracle.
        if mapping not in shipped_mappings():
            raise IngestError(f"no mapping file {mapping[:100]!r}: 'mapping' names a shipped mapping "
                              f"({', '.join(shipped_mappings())}); upload your own as 'mapping_file'")
        mapping_ref = str(MAPPINGS_DIR / f"{mapping}.yaml")
        load_mapping(mapping_ref, ontology)
    if mapping_file is not None:
        mapping_text = mapping_file.file.read(1024 * 1024).decode("utf-8", errors="replace")
        parse_mapping(mapping_text, mapping_file.filename or "mapping.yaml", ontology)
    if len(set(names)) < len(names):
        raise IngestError("two uploads have the same name")
    job, upload_dir = jobs.new_job()
    if mapping_text is not None:
        path = upload_dir.parent / "mapping.yaml"
        path.write_text(mapping_text, encoding="utf-8")
        mapping_ref = str(path)
    try:
        names = [jobs.save_upload(upload_dir, upload.filename or "", upload.file).name for upload in files]
    except (IngestError, OSError) as exc:  # never leave a job "queued" that will not run
        jobs.fail(job, str(exc))
        if isinstance(exc, OSError):
            raise IngestError(f"could not store the upload: {exc.strerror or exc}") from exc
        raise
    jobs.submit(job, upload_dir, format, mapping_ref, source, dry_run, owner=principal.key_id,
                groups=principal.visible_groups())
    request.state.audit = {"files": names, "mapping": mapping or (mapping_file and mapping_file.filename),
                           "source": source, "dry_run": dry_run}
    url = f"/v1/ingest/{job.job_id}"
    body = IngestAccepted(job_id=job.job_id, status_url=url, files=names)
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": url})


@router.get("/ingest/{job_id}", response_model=IngestStatus, summary="Status and outcome of an ingest job",
            responses={404: {"model": Problem}})
def ingest_status(job_id: str, jobs: Annotated[IngestJobs, Depends(get_jobs)],
                  principal: Annotated[Principal, Depends(get_principal)]) -> IngestStatus:
    """A job's status and report, for the key that started it (or an admin): another key gets 404, as if
    there were no such job, since a report names the records, uids and values it refused."""
    job = jobs.get(job_id)
    if "admin" not in principal.roles and (job.request or {}).get("owner") != principal.key_id:
        raise IngestJobNotFound(f"no ingest job {job_id[:80]!r}")
    return IngestStatus(**job.as_dict())
