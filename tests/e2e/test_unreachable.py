"""A Neo4j that cannot be reached gives a clear error naming the URI, not a stack trace."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import GraphUnavailable
from kcrm.kg.connection import connect
from tests.conftest import free_port

pytestmark = pytest.mark.e2e


def test_connect_names_the_uri() -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    with pytest.raises(GraphUnavailable, match=uri.replace(".", r"\.")):
        connect(Settings(neo4j_uri=uri))


def test_cli_load_reports_the_uri_without_a_traceback(tmp_path) -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    env = dict(os.environ, NEO4J_URI=uri, KCRM_DATA_DIR=str(tmp_path))
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "x.jsonl").write_text("", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "kcrm.cli", "load", str(tmp_path / "records")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert f"Neo4j is not reachable at {uri}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
