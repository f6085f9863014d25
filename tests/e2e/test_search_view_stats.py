"""Issue 13, finding 8, over HTTP with agent keys: spelling suggestions, their frequencies and
explain's BM25 term weights come only from the items the caller may see.

The truths are computed here from the graph: the items each caller may see (their access groups
against the key's), a spelling corrector and a BM25 index built over exactly those, with the
same code the service uses, so an answer that counted restricted text differs from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from kcrm.search.from_graph import searchable_items
from kcrm.search.local_backend import build_lexical_index
from kcrm.search.spelling import SpellingCorrector
from kcrm.search.trimming import item_groups, visible_to

pytestmark = pytest.mark.e2e
GROUP = "key-accounts"


def client(api_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


@pytest.fixture(scope="module")
def outsider(api_url: str, make_key) -> Iterator[httpx.Client]:
    with client(api_url, make_key(roles=("agent",), groups=(), name="stats-outsider")) as c:
        yield c


@pytest.fixture(scope="module")
def insider(api_url: str, make_key) -> Iterator[httpx.Client]:
    with client(api_url, make_key(roles=("agent",), groups=(GROUP,), name="stats-insider")) as c:
        yield c


@pytest.fixture(scope="module")
def views(graph, loaded) -> dict[str, list]:
    items = list(searchable_items(graph))
    return {name: [i for i in items if visible_to(item_groups(i.meta), groups)]
            for name, groups in (("outsider", ["public"]), ("insider", [GROUP, "public"]))}


def texts(items: list) -> list[str]:
    return [f"{i.title}\n{i.text}" for i in items]


def get(api: httpx.Client, **params) -> dict:
    response = api.get("/v1/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def typo(word: str) -> str:
    """Swap two middle letters: one transposition, which the corrector undoes."""
    middle = len(word) // 2
    return word[:middle - 1] + word[middle] + word[middle - 1] + word[middle + 1:]


def test_spelling_frequencies_count_only_visible_text(outsider, insider, views) -> None:
    seen = SpellingCorrector(texts(views["outsider"])).counts
    allowed = SpellingCorrector(texts(views["insider"])).counts
    restricted_words = [w for w, n in allowed.most_common() if len(w) >= 6 and n > seen.get(w, 0) >= 3]
    assert restricted_words, "the sample must have words that restricted items repeat"
    checked = 0
    for word in restricted_words[:40]:
        wrong = typo(word)
        if wrong in allowed or wrong == word:
            continue
        out, ins = get(outsider, q=wrong, mode="lexical", k=3), get(insider, q=wrong, mode="lexical", k=3)
        fixes_out = {c["correction"]: c["frequency"] for c in out["corrections"]}
        fixes_in = {c["correction"]: c["frequency"] for c in ins["corrections"]}
        if word not in fixes_out or word not in fixes_in:
            continue
        assert fixes_out[word] == seen[word] and fixes_in[word] == allowed[word], word
        assert fixes_out[word] < fixes_in[word]
        checked += 1
        if checked == 3:
            break
    assert checked, "no restricted-heavy word was corrected for both callers"


def test_explain_term_weights_use_the_callers_own_statistics(outsider, insider, views) -> None:
    truths = {name: build_lexical_index(items) for name, items in views.items()}
    rows = {name: {r.uid: n for n, r in enumerate(index.records())} for name, index in truths.items()}
    restricted = {i.uid for i in views["insider"]} - {i.uid for i in views["outsider"]}
    def shared(word: str) -> bool:  # a word restricted items have that the outsider's items have too
        terms = truths["outsider"].analyzer.terms(word)
        return len(word) >= 6 and len(terms) == 1 and truths["outsider"].document_frequency(terms[0]) > 0

    restricted_text = texts([i for i in views["insider"] if i.uid in restricted])
    word = next(w for w, _ in SpellingCorrector(restricted_text).counts.most_common() if shared(w))
    differ = False
    for name, api in (("outsider", outsider), ("insider", insider)):
        body = get(api, q=word, mode="lexical", k=5, explain="true", expand="false", spellcheck="false")
        assert body["hits"], word
        index = truths[name]
        term = index.analyzer.terms(word)[0]
        for hit in body["hits"]:
            assert hit["uid"] in rows[name], f"{name} saw {hit['uid']}"
            expected = index.term_weights(rows[name][hit["uid"]], [term])
            assert hit["explain"]["lexical"]["matched_terms"] == pytest.approx(expected, abs=1e-3), hit["uid"]
        weights = {h["uid"]: h["explain"]["lexical"]["matched_terms"][term] for h in body["hits"]}
        if name == "outsider":
            outside = weights
        else:
            differ = any(abs(outside[u] - w) > 1e-3 for u, w in weights.items() if u in outside)
    assert differ, "the two views' BM25 statistics should differ for a word restricted items contain"


def test_restricted_words_are_never_suggested_to_an_outsider(outsider, views) -> None:
    seen = SpellingCorrector(texts(views["outsider"])).counts
    insider_words = SpellingCorrector(texts(views["insider"])).counts
    exclusive = [w for w in insider_words if w not in seen and len(w) >= 5 and re.fullmatch(r"[a-z]+", w)]
    for word in exclusive:
        body = get(outsider, q=typo(word), mode="lexical", k=3)
        assert word not in (body["did_you_mean"] or "").lower()
        assert all(c["correction"] != word for c in body["corrections"])
