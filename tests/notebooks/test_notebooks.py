"""Every notebook in notebooks/ runs top to bottom against the test stack, as a user would run it.

Each notebook gets a fresh kernel whose environment points kcrm at the session's test Neo4j and
data dir (the sample company already loaded and indexed by the `loaded` fixture), so the
notebooks reuse that instance instead of starting their own. A cell that raises fails the test
with the cell's source and traceback; a cell that runs longer than CELL_TIMEOUT_S is stopped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kcrm.foundation.config import Settings

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 240

pytestmark = pytest.mark.e2e


def kernel_env(settings: Settings, neo4j_uri: str) -> dict[str, str]:
    """The kernel's environment: the test stack's Neo4j, data dir and models, quiet logs.

    The kernel runs in notebooks/, so a relative models dir would fetch a second copy of the
    embedding model there; the resolved one keeps every file under the checkout's own var/.
    """
    return dict(os.environ, KCRM_DATA_DIR=str(settings.data_dir.resolve()), NEO4J_URI=neo4j_uri,
                KCRM_MODELS_DIR=str(settings.models_dir.resolve()),
                NEO4J_USER=settings.neo4j_user, NEO4J_PASSWORD=settings.neo4j_password,
                KCRM_LOG_LEVEL="WARNING", MPLBACKEND="Agg", PYDEVD_DISABLE_FILE_VALIDATION="1")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, e2e_settings: Settings, neo4j_uri: str, loaded) -> None:
    notebook = nbformat.read(path, as_version=4)
    if "SHARED_DATA /" in path.read_text(encoding="utf-8") and not SHARED_DATA.is_dir():
        pytest.skip(f"{path.name} reads the evaluation data in {SHARED_DATA}, which is not beside this checkout")
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=kernel_env(e2e_settings, neo4j_uri))
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors
    assert all(cell.get("execution_count") for cell in notebook.cells if cell.cell_type == "code")
