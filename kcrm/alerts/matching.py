"""Whether a newly ingested item matches a saved search: pure logic, no graph, no index.

A saved query matches an item when the item passes the query's filters (`status:open`,
`customer:...`, dates: the same `SearchFilter` and field rules as `/v1/search`, concept filters
widened to their descendants) and contains every word of the query: every English term after
the lexical analyzer's stemming and stop words, and every Chinese character (segmentation of a
short query and of a long text can differ, characters cannot). That is stricter than ranking,
on purpose: an alert interrupts someone, so it fires on items that really say what was asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kcrm.search.facets import FacetTable
from kcrm.search.filters import SearchFilter, parse_query
from kcrm.search.semantic import IndexItem
from kcrm.search.taxonomy_browse import default_tree
from kcrm.search.tokenizer import Analyzer, default_analyzer
from kcrm.search.vector_index import ChunkRecord

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def required_terms(text: str, analyzer: Analyzer | None = None) -> frozenset[str]:
    """The terms an item must contain to match `text`: analysed Latin terms and single Han characters."""
    analyzer = analyzer or default_analyzer()
    latin = {t for t in analyzer.terms(_HAN.sub(" ", text)) if not _HAN.search(t)}
    return frozenset(latin | set(_HAN.findall(text)))


def item_terms(item: IndexItem, analyzer: Analyzer | None = None) -> frozenset[str]:
    """Every term of an item's title and text, plus each of its Han characters."""
    analyzer = analyzer or default_analyzer()
    text = f"{item.title}\n{item.text}"
    return frozenset(analyzer.terms(text)) | frozenset(_HAN.findall(text))


def as_record(item: IndexItem) -> ChunkRecord:
    """An item in the form the facet table reads (one record per item, as the lexical index has)."""
    return ChunkRecord(chunk_id=item.uid, uid=item.uid, type=item.type, title=item.title, text=item.text,
                       language=item.language, meta=dict(item.meta), start=0, end=len(item.text))


def split_query(query: str, filters: SearchFilter | None = None) -> tuple[str, SearchFilter]:
    """The words of a saved query and all its filters (from the query text and the parameters)."""
    text, parsed = parse_query(query or "")
    flt = parsed.merged(filters) if filters is not None else parsed
    return text, default_tree().resolve(flt)


def matching_items(query: str, filters: SearchFilter | None, items: Iterable[IndexItem],
                   analyzer: Analyzer | None = None) -> list[IndexItem]:
    """The items that pass the query's filters and contain all of its words, in the order given."""
    items = list(items)
    if not items:
        return []
    text, flt = split_query(query, filters)
    mask = FacetTable([as_record(i) for i in items]).mask(flt)
    wanted = required_terms(text, analyzer) if text else frozenset()
    out = []
    for row, item in enumerate(items):
        if mask is not None and not mask[row]:
            continue
        if wanted and not wanted <= item_terms(item, analyzer):
            continue
        out.append(item)
    return out
