"""The search contract: one validated request, one backend protocol, one result shape.

A search is asked as a `SearchRequest` (built and validated once by `SearchRequest.parse`), and
answered by the ranking layer (`kcrm.search.ranking.rank`) over a `SearchBackend`. The backend
receives the filters and the caller's access groups and does the retrieval where its data lives:
per retriever it returns ranked candidates (one per item, best record first), plus the number of
items matched and the facet counts, so an engine can push filters, trimming and counting down
instead of handing every record back. Everything the ranking, explain, spelling and expansion
code needs from a backend is declared here (`Capabilities` and the protocol's methods): the
ranking layer never probes a backend with `getattr`.

This module imports no backend; `kcrm.search.backends.make_backend` picks one by
`KCRM_SEARCH_BACKEND`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, get_args, runtime_checkable

from kcrm.foundation.errors import BadQuery
from kcrm.search.expansion import Expansion
from kcrm.search.filters import SearchFilter, make_filter, parse_query
from kcrm.search.spelling import SpellingCorrector
from kcrm.search.types import ChunkHit, IndexItem

Mode = Literal["hybrid", "lexical", "dense"]
MODES: tuple[str, ...] = get_args(Mode)
Sort = Literal["relevance", "date"]
SORTS: tuple[str, ...] = get_args(Sort)
MAX_QUERY_CHARS = 1000
MAX_K = 1000
DEFAULT_DEPTH = 100  # candidates per retriever fused in hybrid mode


def checked_query(query: str, k: int) -> str:
    """The stripped query, or `BadQuery` saying what is wrong with it or with `k`."""
    text = query.strip() if isinstance(query, str) else ""
    if not text:
        raise BadQuery("the query must not be empty")
    if len(text) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query has {len(text)} characters; at most {MAX_QUERY_CHARS} are allowed")
    if not 1 <= k <= MAX_K:
        raise BadQuery(f"k must be between 1 and {MAX_K}, not {k}")
    return text


@dataclass(frozen=True)
class SearchRequest:
    """One search, validated: build it with `parse`, which is the only place the rules live.

    `text` is the words to search (field:value terms already split off into `filters`; empty
    means browse the filtered items newest first); `groups` are the caller's access groups
    (None: the caller sees everything, e.g. an admin or an offline evaluation).
    """

    text: str
    k: int = 10
    mode: str = "hybrid"
    filters: SearchFilter = field(default_factory=SearchFilter)
    types: frozenset[str] | None = None
    facets: bool = False
    sort: str = "relevance"
    expand: bool = True
    spellcheck: bool = False
    explain: bool = False
    groups: frozenset[str] | None = None
    depth: int = DEFAULT_DEPTH

    @classmethod
    def parse(cls, query: str, k: int = 10, *, mode: str = "hybrid", filters: SearchFilter | None = None,
              types: Iterable[str] | None = None, facets: bool = False, sort: str = "relevance",
              expand: bool = True, spellcheck: bool = False, explain: bool = False,
              groups: Iterable[str] | None = None, depth: int = DEFAULT_DEPTH) -> SearchRequest:
        """Validate a search once: `BadQuery` naming the parameter that is wrong and why."""
        if mode not in MODES:
            raise BadQuery(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if sort not in SORTS:
            raise BadQuery(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        if depth < 1:
            raise BadQuery(f"depth must be at least 1, not {depth}")
        text, parsed = parse_query(query if isinstance(query, str) else "")
        flt = parsed.merged(filters) if filters is not None else parsed
        kinds = None if types is None else frozenset(types)
        if kinds is not None:
            flt = flt.merged(make_filter({"type": kinds}))
        if text or flt.empty:
            text = checked_query(text, k)  # BadQuery for an empty or over-long query, or a bad k
        elif not 1 <= k <= MAX_K:
            raise BadQuery(f"k must be between 1 and {MAX_K}, not {k}")
        return cls(text=text, k=k, mode=mode, filters=flt, types=kinds, facets=facets, sort=sort, expand=expand,
                   spellcheck=spellcheck, explain=explain, groups=None if groups is None else frozenset(groups),
                   depth=depth)

    @property
    def browsing(self) -> bool:
        """True when there are no words: the filtered items are listed newest first."""
        return not self.text

    @property
    def nothing(self) -> bool:
        """True when the request can match nothing (an empty set of item types)."""
        return self.types is not None and not self.types


@dataclass(frozen=True)
class Retrieve:
    """What the ranking layer asks a backend for one query (already corrected and expanded).

    `filters` are resolved (a concept includes its descendants); `depth` candidates per
    retriever; `date_k` > 0 asks also for the `date_k` newest matching items (sort by date).
    """

    text: str
    mode: str
    depth: int
    filters: SearchFilter
    groups: frozenset[str] | None
    expansion: Expansion | None = None
    facets: bool = False
    date_k: int = 0


@dataclass
class Candidates:
    """One retriever's answer: one hit per item (its best record), best first, `depth` deep."""

    hits: list[ChunkHit]
    total: int  # items this retriever matched after filters and trimming (dense: its candidates)


@dataclass
class Retrieval:
    """A backend's answer to `Retrieve`: per-retriever candidates, the match set's size and facets.

    The match set is every item the lexical side matches plus the dense side's candidates
    (dense similarity has no natural cut-off), after filters and access trimming.
    """

    lexical: Candidates | None
    dense: Candidates | None
    total: int
    facets: dict[str, dict[str, int]] | None = None
    newest: list[ChunkHit] | None = None  # the `date_k` newest matched items (score: BM25 or 0)


@dataclass
class Browsed:
    """Items passing filters and trimming, newest first, with how many and their facet counts."""

    hits: list[ChunkHit]
    total: int
    facets: dict[str, dict[str, int]] | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do beyond retrieval; the ranking layer consults these, never `getattr`."""

    expansion: bool  # lexical scoring of extra (already analysed) terms at a lower weight
    spelling: bool  # a spelling corrector over the words the caller may see
    explain: bool  # per-hit BM25 term weights
    incremental: bool  # add/remove items without a rebuild


@runtime_checkable
class SearchBackend(Protocol):
    """Retrieval, filtering, trimming and counting over one collection of indexed items.

    Every method that reads takes the caller's access groups (None: sees everything) and must
    answer as if the items the caller may not see did not exist: hits, totals, facets, term
    frequencies, spelling vocabulary and term weights alike.
    """

    name: str
    capabilities: Capabilities
    generation: str | None  # id of the index build served (None: not known)

    def retrieve(self, request: Retrieve) -> Retrieval:
        """Both retrievers' candidates (as `request.mode` asks), the match set's size and facets."""
        ...

    def browse(self, filters: SearchFilter, groups: frozenset[str] | None, k: int, facets: bool) -> Browsed:
        """The `k` newest items passing `filters` that `groups` may see, their count and facets."""
        ...

    def analyze(self, text: str) -> list[str]:
        """The lexical index's terms for `text` (as its analyzer makes them), in order, repeats kept."""
        ...

    def document_frequency(self, term: str, groups: frozenset[str] | None) -> int:
        """How many items the caller may see contain an analysed `term`."""
        ...

    def speller(self, groups: frozenset[str] | None) -> SpellingCorrector | None:
        """A spelling corrector built only from what `groups` may see (None: not supported)."""
        ...

    def term_weights(self, uid: str, terms: Sequence[str], groups: frozenset[str] | None) -> dict[str, float]:
        """Each analysed term's BM25 contribution to item `uid` as the caller's view scores it."""
        ...

    def item_count(self) -> int:
        """Distinct items searchable."""
        ...

    def chunk_count(self) -> int:
        """Passages in the dense index."""
        ...

    def add(self, items: Sequence[IndexItem]) -> None:
        """Index new items (an item already present must be removed first)."""
        ...

    def remove(self, uids: Iterable[str]) -> int:
        """Drop these items from every index; returns how many items went."""
        ...

    def close(self) -> None:
        """Release connections or files the backend holds."""
        ...


FacetCounts = Mapping[str, Mapping[str, int]]
