"""The domain's exception hierarchy; `kcrm.api` maps each to an RFC 9457 problem type."""

from __future__ import annotations


class KcrmError(Exception):
    """Base of every error kcrm raises on purpose."""

    title = "kcrm error"
    status = 500


class GraphUnavailable(KcrmError):
    """Neo4j cannot be reached; the message names the URI."""

    title = "Knowledge graph unavailable"
    status = 503


class Neo4jServerError(KcrmError):
    """The bundled local Neo4j could not be installed, started or stopped."""

    title = "Local Neo4j server error"


class OntologyError(KcrmError):
    """Data or a request refers to a class, property or relationship the ontology lacks."""

    title = "Not in the ontology"
    status = 422


class ValidationFailed(KcrmError):
    """Records failed validation; `problems` says which record, which field and why."""

    title = "Validation failed"
    status = 422

    def __init__(self, message: str, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class IndexNotReady(KcrmError):
    """The search index has not been built or could not be loaded."""

    title = "Search index not ready"
    status = 503


class IndexIncompatible(IndexNotReady):
    """The index on disk was built by another embedder or format version: it must be rebuilt."""

    title = "Search index incompatible"


class EmbedderUnavailable(KcrmError):
    """The configured embedding backend cannot be loaded (package missing, bad model directory)."""

    title = "Embedding model unavailable"
    status = 503


class BadQuery(KcrmError):
    """A search or traversal request is malformed or over a limit."""

    title = "Bad query"
    status = 400


class MappingError(KcrmError):
    """A mapping file is malformed or names a class, property or relationship the ontology lacks."""

    title = "Invalid mapping"
    status = 422


class IngestError(KcrmError):
    """An ingest request cannot run at all (no such path, no reader for the format, too large)."""

    title = "Ingest refused"
    status = 422


class IngestJobNotFound(KcrmError):
    """No ingest job has the id asked for."""

    title = "Ingest job not found"
    status = 404


class EntityNotFound(KcrmError):
    """No node in the graph has the uid asked for (the message names the uid and what it should be)."""

    title = "Entity not found"
    status = 404


class MiningInputError(KcrmError):
    """Data given to mining is unusable (unreadable basket file, no transactions, bad thresholds)."""

    title = "Mining input unusable"
    status = 422


class DatasetInvalid(KcrmError):
    """An evaluation data set lacks a file or has a malformed line; the message says which and why."""

    title = "Invalid data set"
    status = 422


class UploadTooLarge(IngestError):
    """An uploaded file is over the ingest size limit."""

    title = "Upload too large"
    status = 413


class KeyRequestError(KcrmError):
    """An API key cannot be created or revoked as asked (unknown role, bad group name, no such key)."""

    title = "API key request refused"
    status = 422


class Unauthenticated(KcrmError):
    """No API key, or one that is unknown, malformed or revoked."""

    title = "Unauthenticated"
    status = 401


class Forbidden(KcrmError):
    """The caller's key is valid but lacks a role the endpoint requires."""

    title = "Forbidden"
    status = 403


class GraphTimeout(GraphUnavailable):
    """A Neo4j transaction ran past KCRM_NEO4J_QUERY_TIMEOUT_S and was cancelled."""

    title = "Knowledge graph timeout"


class AlertsDisabled(KcrmError):
    """Subscriptions or the alerts feed were asked for while alerts are switched off."""

    title = "Alerts disabled"
    status = 503


class LimitReached(KcrmError):
    """A per-caller quota is full (e.g. KCRM_ALERTS_MAX_SUBSCRIPTIONS); remove something first."""

    status = 409
    title = "Limit reached"


class SearchBackendError(KcrmError):
    """The configured search backend is unknown or not installed in this build (names the setting)."""

    title = "Search backend unavailable"
    status = 503


class OpenSearchServerError(KcrmError):
    """The bundled local OpenSearch cluster could not be installed, started or stopped."""

    title = "Local OpenSearch server error"


class SearchBackendUnavailable(KcrmError):
    """The search engine (an OpenSearch cluster) cannot be reached; the message names the URL."""

    title = "Search engine unreachable"
    status = 503
