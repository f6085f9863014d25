"""Every setting is documented in docs/configuration.md, so the reference cannot drift."""

from __future__ import annotations

from pathlib import Path

from kcrm.foundation.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        names = field.validation_alias.choices if field.validation_alias else [f"KCRM_{name.upper()}"]
        assert all(f"`{env}`" in text for env in names), name
        assert field.description, name


def test_neo4j_uri_switches_off_the_local_server() -> None:
    assert Settings(neo4j_uri=None).local_neo4j
    remote = Settings(neo4j_uri="neo4j+s://example.databases.neo4j.io")
    assert not remote.local_neo4j and remote.bolt_uri == "neo4j+s://example.databases.neo4j.io"
