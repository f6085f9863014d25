"""Every Python package folder is declared in pyproject.toml, so a non-editable install ships it.

An editable install finds undeclared subpackages through the source tree, so a missing entry
only shows at a user's desk after `pip install kcrm`; this catches it in the suite.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def declared() -> tuple[set[str], dict[str, str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return set(config["packages"]), config["package-dir"]


def test_every_package_folder_is_declared() -> None:
    packages, roots = declared()
    found = set()
    for name, folder in roots.items():
        for init in (REPO / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / folder)
            if any(part.startswith(".") or part in {"var", "build"} for part in relative.parts):
                continue
            found.add(".".join([name, *relative.parts]) if relative.parts else name)
    missing = {pkg for pkg in found if pkg not in packages and not any(pkg == r for r in roots)}
    assert missing == set()
