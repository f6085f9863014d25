"""The README's copy-paste examples and the ones `kcrm demo` prints run as printed, with curl.

A newcomer's first command once answered `400 Invalid HTTP request` because curl sent `退款`
raw; running the README's own lines through bash against the test server keeps them honest.
The sample is mined first, as `kcrm demo` does, so `/insights` has figures to show.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kcrm.cli import demo_examples
from kcrm.kg.mining.pipeline import MiningConfig, run_mining
from kcrm.kg.mining.writeback import remove_stale
from kcrm.ontology.model import load_ontology

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DEMO_BASE = "http://127.0.0.1:8000"


def readme_try_block() -> list[str]:
    """The shell lines of the README's first "Try:" block, continuation lines joined."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Try:\n\n```bash\n(.*?)```", text, re.S)
    assert block, "the README lost its Try: block"
    lines = [line for line in block.group(1).replace("\\\n", " ").splitlines() if line.strip()]
    return [line for line in lines if not line.startswith("export KEY=")]


@pytest.fixture(scope="module")
def mined_sample(loaded, graph):
    run_mining(graph, load_ontology(), MiningConfig())
    yield
    remove_stale(graph, load_ontology())


def run_as_printed(command: str, api_url: str, api_key: str) -> str:
    """Run one printed command in bash, pointed at the test server instead of the demo's port."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    command = command.replace(DEMO_BASE, api_url)
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"],
                            env=dict(os.environ, KEY=api_key), capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result.stdout


def test_the_readme_examples_answer_json(mined_sample, api_url: str, api_key: str) -> None:
    commands = readme_try_block()
    assert len(commands) >= 4
    for command in commands:
        body = json.loads(run_as_printed(command, api_url, api_key))
        assert "type" not in body or body.get("status", 200) < 400, body
        if "/v1/search" in command:
            assert body["hits"], command
        if "/insights" in command:
            assert body["value"]["valueTier"] and body["churn"]["level"], body


def test_the_examples_kcrm_demo_prints_work(mined_sample, api_url: str, api_key: str) -> None:
    for command in demo_examples(DEMO_BASE):
        body = json.loads(run_as_printed(command, api_url, api_key))
        assert body, command
