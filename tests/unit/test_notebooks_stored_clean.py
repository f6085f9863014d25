"""Notebooks are stored without outputs, so diffs show changes to the tutorial, not to its last run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_the_five_tutorials_exist() -> None:
    names = {path.stem.split("_", 1)[1] for path in NOTEBOOKS}
    assert {"quickstart", "bring_your_own_data", "search_and_evaluation", "expert_finding",
            "customer_intelligence"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    for number, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, f"cell {number} has output"
