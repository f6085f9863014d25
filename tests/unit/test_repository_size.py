"""The repository carries source, not binaries: model files and data are fetched or generated.

Model weights once slipped into git (59 MB under notebooks/var/) because only the root var/ was
ignored; this keeps the tracked tree small so a clone stays fast.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIMIT_BYTES = 10 * 1024 * 1024
LARGEST_FILE_BYTES = 1024 * 1024


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    return [REPO / name for name in listing.stdout.decode().split("\0") if name]


def test_tracked_tree_is_under_ten_megabytes() -> None:
    total = sum(path.stat().st_size for path in tracked_files() if path.is_file())
    assert total < LIMIT_BYTES, f"tracked files add up to {total / 1e6:.1f} MB"


def test_no_tracked_file_is_a_large_binary() -> None:
    large = [str(path.relative_to(REPO)) for path in tracked_files()
             if path.is_file() and path.stat().st_size > LARGEST_FILE_BYTES]
    assert large == []


def test_var_is_ignored_at_any_depth() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", "notebooks/var/models/x.onnx"], cwd=REPO, check=False)
    assert ignored.returncode == 0
