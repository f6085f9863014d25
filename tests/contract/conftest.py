"""The search contract suite's backends: each test runs once per backend named in BACKENDS.

A backend joins by adding its name to BACKENDS and a branch to `build_backend` that indexes the
given items into a fresh collection (and returns a `SearchBackend` over it). The corpus is small
and fixed (`corpus.py`); tests that change the collection ask for `fresh_backend`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from kcrm.search.contract import SearchBackend
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.types import IndexItem
from tests.contract.corpus import ITEMS

BACKENDS = ["local"]
EMBEDDER = HashingEmbedder(dim=128)


def build_backend(name: str, items: Sequence[IndexItem]) -> SearchBackend:
    """A backend of kind `name` holding exactly `items`."""
    if name == "local":
        from kcrm.search.local_backend import LocalBackend
        return LocalBackend.build(items, EMBEDDER)
    raise ValueError(f"no contract fixture for backend {name!r}")


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    """A read-only backend over the contract corpus (shared by a module's tests)."""
    built = build_backend(request.param, ITEMS)
    yield built
    built.close()


@pytest.fixture(params=BACKENDS)
def fresh_backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    """A backend over the contract corpus that the test may change."""
    built = build_backend(request.param, ITEMS)
    yield built
    built.close()
