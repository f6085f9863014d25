"""The README's copy-paste examples and the ones `kcrm demo` prints run as printed, with curl.

A newcomer's first command once answered `400 Invalid HTTP request` because curl sent `退款`
raw; running the README's own lines through bash against the test server keeps them honest.
The sample is mined first, as `kcrm demo` does, so `/insights` has figures to show.

Beyond the first block, every line of every README shell block that `tests/readme_commands.RULES`
classes as `run` is executed here, in README order, with the variables earlier lines set; the
others are checked without running by `tests/unit/test_readme_commands.py`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kcrm.cli import demo_examples
from kcrm.kg.mining.pipeline import MiningConfig, run_mining
from kcrm.kg.mining.writeback import remove_stale
from kcrm.ontology.model import load_ontology
from tests.readme_commands import classify, prepared, readme_lines

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


README_KEY_NAMES = ("key-team", "helpdesk", "ops")  # the keys the README's lines make


def test_every_runnable_readme_line_succeeds_against_the_test_stack(mined_sample, api_url: str, api_key: str,
                                                                     cli_env: dict[str, str],
                                                                     tmp_path: Path) -> None:
    """Each `run` line through bash, in order: exit status 0 (curl fails on an HTTP error), JSON where curl
    answers; variables (`KEY=`, `H=`) and ids (SUB_ID, KEY_ID) carried from earlier lines as a reader would."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    env = dict(cli_env, KEY=api_key, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    values: dict[str, str] = {}
    ran = 0
    before = {row["key_id"] for row in listed_keys(cli_env)}
    try:
        for line in readme_lines():
            if classify(line).kind != "run":
                continue
            command = prepared(line.text, api_url, values)
            script = f"set -o pipefail\n{command}"
            if line.assigns:
                script += f'\nprintf %s "${line.assigns}"'
            started = time.monotonic()
            result = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                                    timeout=300, check=False)
            print(f"README line {line.number}: {time.monotonic() - started:.1f} s")  # shown with -s or on failure
            where = f"README line {line.number}: {command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            assert result.returncode == 0, where
            ran += 1
            if line.assigns:
                assert result.stdout, where
                env[line.assigns] = result.stdout
                continue
            if line.command.startswith("curl") and result.stdout.strip():
                body = json.loads(result.stdout)
                if "/v1/subscriptions" in command and "-X POST" in command:
                    values.setdefault("SUB_ID", body["id"])
            created = re.search(r"^key id (\S+),", result.stderr, re.M)  # `kcrm keys create` says it on stderr
            if created:
                values["KEY_ID"] = created.group(1)
        assert ran >= 20, ran
    finally:
        for row in listed_keys(cli_env):  # revoke what the README's lines made (and so their subscriptions)
            if row["key_id"] not in before and row["name"] in README_KEY_NAMES and not row["revoked_at"]:
                subprocess.run([*KCRM, "keys", "revoke", row["key_id"]], env=cli_env, capture_output=True,
                               timeout=120, check=True)


KCRM = [sys.executable, "-m", "kcrm.cli"]


def listed_keys(cli_env: dict[str, str]) -> list[dict]:
    listed = subprocess.run([*KCRM, "keys", "list", "--json"], env=cli_env, capture_output=True, text=True,
                            timeout=120, check=True)
    return [json.loads(row) for row in listed.stdout.splitlines()]
