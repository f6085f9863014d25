"""The search contract suite's backends: each test runs once per backend named in BACKENDS.

A backend joins by adding its name to BACKENDS and a branch to `build_backend` that indexes the
given items into a fresh collection (and returns a `SearchBackend` over it). The corpus is small
and fixed (`corpus.py`); tests that change the collection ask for `fresh_backend`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

import pytest

from kcrm.foundation.config import Settings
from kcrm.search.contract import SearchBackend
from kcrm.search.embedder import HashingEmbedder
from kcrm.search.types import IndexItem
from tests.contract.corpus import ITEMS

BACKENDS = ["local", "opensearch"]
EMBEDDER = HashingEmbedder(dim=128)
_CLUSTER: dict[str, Settings] = {}  # the session's OpenSearch settings, once a fixture asked for them


def build_backend(name: str, items: Sequence[IndexItem]) -> SearchBackend:
    """A backend of kind `name` holding exactly `items`."""
    if name == "local":
        from kcrm.search.local_backend import LocalBackend
        return LocalBackend.build(items, EMBEDDER)
    if name == "opensearch":
        from kcrm.search.opensearch_backend import OpenSearchBackend
        settings = _CLUSTER["settings"].model_copy(update={"opensearch_index": f"kcrm-contract-{uuid.uuid4().hex[:10]}"})
        built = OpenSearchBackend(settings, EMBEDDER, ephemeral=True)
        built.rebuild(items)
        return built
    raise ValueError(f"no contract fixture for backend {name!r}")


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    """A read-only backend over the contract corpus (shared by a module's tests)."""
    _cluster_for(request)
    built = build_backend(request.param, ITEMS)
    yield built
    built.close()


@pytest.fixture(params=BACKENDS)
def fresh_backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    """A backend over the contract corpus that the test may change."""
    _cluster_for(request)
    built = build_backend(request.param, ITEMS)
    yield built
    built.close()


def _cluster_for(request: pytest.FixtureRequest) -> None:
    """The opensearch backend needs the session's cluster (tests/conftest.py: opensearch_settings)."""
    if request.param == "opensearch" and "settings" not in _CLUSTER:
        _CLUSTER["settings"] = request.getfixturevalue("opensearch_settings")
