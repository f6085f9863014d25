"""The backend factory: one setting picks the backend; an unknown or missing one names the setting."""

from __future__ import annotations

import pytest

from kcrm.foundation.config import Settings
from kcrm.foundation.errors import BadQuery, SearchBackendError
from kcrm.search.backends import backend_name, make_backend
from kcrm.search.contract import SearchRequest
from kcrm.search.filters import make_filter


def test_unknown_backend_names_the_setting_and_the_choices() -> None:
    with pytest.raises(SearchBackendError, match=r"KCRM_SEARCH_BACKEND 'elastic'.*local, opensearch"):
        make_backend(Settings(search_backend="elastic"))


def test_backend_names_are_case_and_space_insensitive() -> None:
    assert backend_name(Settings(search_backend=" Local ")) == "local"


def test_request_is_validated_once_with_the_parameter_named() -> None:
    request = SearchRequest.parse("router status:open", k=5, types=["SupportCase"], groups=["g1"])
    assert request.text == "router" and request.groups == frozenset({"g1"})
    assert request.filters.fields["status"] == frozenset({"open"})
    assert request.filters.fields["type"] == frozenset({"supportcase"})
    assert SearchRequest.parse("status:open").browsing
    for bad, match in (({"mode": "fuzzy"}, "mode"), ({"sort": "size"}, "sort"), ({"k": 0}, "k must")):
        with pytest.raises(BadQuery, match=match):
            SearchRequest.parse("router", **bad)
    with pytest.raises(BadQuery, match="empty"):
        SearchRequest.parse("   ")
    assert SearchRequest.parse("", filters=make_filter({"status": ["open"]})).browsing


def test_a_backend_missing_from_the_build_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from kcrm.search import backends
    monkeypatch.setitem(backends.BACKENDS, "opensearch", ("kcrm.search.no_such_backend", "open"))
    with pytest.raises(SearchBackendError, match="KCRM_SEARCH_BACKEND=opensearch.*not installed in this build"):
        make_backend(Settings(search_backend="opensearch"))
