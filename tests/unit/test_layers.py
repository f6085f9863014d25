"""The import rules of docs/architecture.md, read from the code with `ast`, so the layout cannot drift.

Every import counts, the ones inside functions too: a lazy import is still a dependency. Each
rule names what a package MAY import of kcrm (besides itself); anything else fails with the
importing file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# folder -> the package it installs as (pyproject's package-dir)
FOLDERS = {"kcrm": "kcrm", "kg": "kcrm.kg", "ingest": "kcrm.ingest", "search": "kcrm.search", "api": "kcrm.api",
           "ontology": "kcrm.ontology", "nlp": "kcrm.nlp", "sample": "kcrm.sample"}

FOUNDATION = ("kcrm.foundation",)
ACCESS = ("kcrm.security.access",)  # the principal model: who is asking, their roles and groups
# what each package may import of kcrm, besides itself (longest matching prefix wins)
ALLOWED: dict[str, tuple[str, ...]] = {
    "kcrm.foundation": (),
    "kcrm.security.access": FOUNDATION,
    "kcrm.ontology": FOUNDATION,
    "kcrm.kg": (*FOUNDATION, *ACCESS, "kcrm.ontology", "kcrm.nlp"),
    "kcrm.nlp": (*FOUNDATION, "kcrm.ontology", "kcrm.kg"),
    "kcrm.search": (*FOUNDATION, *ACCESS, "kcrm.ontology", "kcrm.kg"),
    "kcrm.sample": (*FOUNDATION, "kcrm.ontology", "kcrm.kg"),
    "kcrm.ingest": (*FOUNDATION, *ACCESS, "kcrm.ontology", "kcrm.kg", "kcrm.nlp", "kcrm.statedb"),
    "kcrm.security": (*FOUNDATION, "kcrm.kg", "kcrm.statedb"),
    "kcrm.statedb": (*FOUNDATION, "kcrm.kg"),
    "kcrm.jsonlines": FOUNDATION,
    "kcrm.evaluation": (*FOUNDATION, *ACCESS, "kcrm.ontology", "kcrm.kg", "kcrm.nlp", "kcrm.search", "kcrm.jsonlines"),
}
# Imports that break a rule on purpose, each with its reason; the list only shrinks.
EXCEPTIONS = {
    ("ingest/jobs.py", "kcrm.workflows"): "the API's background ingest jobs run the same workflow the CLI does",
}


def module_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = [FOLDERS[rel.parts[0]], *rel.parts[1:-1]]
    if rel.stem != "__init__":
        parts.append(rel.stem)
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every kcrm import in the file, `from kcrm import x` as kcrm.x."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "kcrm":
                found += [(node.lineno, f"kcrm.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.startswith("kcrm.") and name != "kcrm.__version__"]


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def rule_for(module: str) -> str | None:
    matches = [prefix for prefix in ALLOWED if within(module, prefix)]
    return max(matches, key=len) if matches else None


def sources() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def violations(package: str) -> list[str]:
    bad = []
    for path in sources():
        module = module_of(path)
        if rule_for(module) != package:
            continue
        allowed = (package, *ALLOWED[package])
        for line, name in imports(path):
            rel = str(path.relative_to(ROOT))
            if not any(within(name, a) for a in allowed) and (rel, name) not in EXCEPTIONS:
                bad.append(f"{rel}:{line} imports {name}")
    return bad


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    assert violations(package) == []


def test_kg_imports_nothing_from_ingest() -> None:
    """Spelled out because it was the rule most often broken: the graph is below ingest."""
    offenders = [f"{p.relative_to(ROOT)}:{line}" for p in (ROOT / "kg").rglob("*.py")
                 for line, name in imports(p) if within(name, "kcrm.ingest")]
    assert offenders == []


def test_nothing_below_the_application_imports_it() -> None:
    """api, the CLI and workflows sit on top: no domain package may import them."""
    top = ("kcrm.api", "kcrm.cli", "kcrm.workflows")
    bad = []
    for path in sources():
        module, rel = module_of(path), str(path.relative_to(ROOT))
        if rule_for(module) is None:
            continue  # the application itself (api, cli*, workflows, alerts, duplicates, backup, privacy)
        bad += [f"{rel}:{line} imports {name}" for line, name in imports(path)
                if any(within(name, t) for t in top) and (rel, name) not in EXCEPTIONS]
    assert bad == []


def test_every_exception_is_still_needed() -> None:
    """An exception whose import is gone must leave the list."""
    for rel, name in EXCEPTIONS:
        assert name in {n for _, n in imports(ROOT / rel)}, f"{rel} no longer imports {name}: drop the exception"


def test_the_rules_see_the_code() -> None:
    """A guard against a rule that matches nothing (a renamed package would pass every rule vacuously)."""
    ruled = {rule_for(module_of(p)) for p in sources()}
    assert set(ALLOWED) <= ruled
