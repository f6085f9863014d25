"""Field filters parsed from the query string and parameters; masks and facet counts over items."""

from __future__ import annotations

import numpy as np
import pytest

from kcrm.foundation.errors import BadQuery
from kcrm.search.facets import FacetTable
from kcrm.search.filters import SearchFilter, date_range, make_filter, parse_query
from kcrm.search.vector_index import ChunkRecord


def rec(uid: str, type_: str = "SupportCase", language: str = "en", **meta) -> ChunkRecord:
    return ChunkRecord(chunk_id=uid, uid=uid, type=type_, title=uid, text=f"text {uid}", language=language, meta=meta)


RECORDS = [
    rec("C1", status="open", priority="high", product="Skylark X200 Router", openedAt="2024-03-05T10:00:00+00:00"),
    rec("C2", status="closed", priority="low", product="Skylark X200 Router", openedAt="2024-07-01T08:00:00+00:00"),
    rec("C3", language="zh", status="open", priority="high", product="NetRidge S8G", customer="苏州华新",
        openedAt="2023-12-31T23:00:00+00:00"),
    rec("D1", "Document", product="NetRidge S8G", publishedAt="2024-03-20", topic="Refund"),
    rec("P1", "Policy", effectiveFrom="2022-01-01"),
    rec("R1", "IndustryRule"),
]


def test_query_string_filters_are_split_from_the_words() -> None:
    text, flt = parse_query('printer jam status:open product:"X200 Router" Priority:HIGH')
    assert text == "printer jam"
    assert flt.fields == {"status": {"open"}, "product": {"x200 router"}, "priority": {"high"}}


def test_repeated_field_values_are_alternatives_and_type_aliases_resolve() -> None:
    _, flt = parse_query("status:open status:pending type:case type:rule")
    assert flt.fields == {"status": {"open", "pending"}, "type": {"supportcase", "industryrule"}}


def test_unknown_fields_and_urls_stay_in_the_query() -> None:
    text, flt = parse_query("error:404 at https://example.com")
    assert text == "error:404 at https://example.com" and flt.empty


def test_date_forms() -> None:
    assert date_range("2024") == ("2024-01-01", "2024-12-31")
    assert date_range("2024-02") == ("2024-02-01", "2024-02-29")
    assert date_range("2024-01-15..2024-03") == ("2024-01-15", "2024-03-31")
    assert date_range("..2023-12") == (None, "2023-12-31")
    assert date_range("2024-12..") == ("2024-12-01", None)
    _, flt = parse_query("refund date:2024 date:2024-03..")
    assert (flt.date_from, flt.date_to) == ("2024-03-01", "2024-12-31")


@pytest.mark.parametrize(("text", "message"), [
    ("date:yesterday", "is not YYYY"), ("date:2024-02-30", "does not exist"), ("date:2024..2023", "ends before"),
])
def test_bad_dates_are_precise_errors(text: str, message: str) -> None:
    with pytest.raises(BadQuery, match=message):
        parse_query(text)


def test_parameters_make_and_merge_filters() -> None:
    flt = make_filter({"status": ["Open", " "], "language": None}, date_from="2024-01", date_to="2024-06-30")
    assert flt.fields == {"status": {"open"}} and (flt.date_from, flt.date_to) == ("2024-01-01", "2024-06-30")
    merged = flt.merged(SearchFilter({"status": frozenset({"open", "closed"}), "type": frozenset({"document"})}))
    assert merged.fields == {"status": {"open"}, "type": {"document"}}
    assert merged.as_dict() == {"status": ["open"], "type": ["document"], "date_from": "2024-01-01",
                                "date_to": "2024-06-30"}
    with pytest.raises(BadQuery, match="unknown filter field 'colour'"):
        make_filter({"colour": ["red"]})
    with pytest.raises(BadQuery, match="after date_to"):
        make_filter(date_from="2025", date_to="2024")


def _uids(table: FacetTable, mask: np.ndarray | None) -> list[str]:
    return table.uids if mask is None else [table.uids[i] for i in np.flatnonzero(mask)]


def test_masks_combine_fields_with_and_values_with_or() -> None:
    table = FacetTable(RECORDS)
    assert table.mask(SearchFilter()) is None
    assert _uids(table, table.mask(parse_query("status:open")[1])) == ["C1", "C3"]
    assert _uids(table, table.mask(parse_query("status:open language:zh")[1])) == ["C3"]
    assert _uids(table, table.mask(parse_query("priority:high priority:low type:case")[1])) == ["C1", "C2", "C3"]
    assert _uids(table, table.mask(parse_query("product:x200")[1])) == ["C1", "C2"]  # names match by containment
    assert _uids(table, table.mask(parse_query("status:ope")[1])) == []  # codes match exactly
    assert _uids(table, table.mask(parse_query("type:document type:policy")[1])) == ["D1", "P1"]


def test_date_ranges_use_each_types_date_and_exclude_undated_items() -> None:
    table = FacetTable(RECORDS)
    assert _uids(table, table.mask(parse_query("date:2024-03")[1])) == ["C1", "D1"]
    assert _uids(table, table.mask(parse_query("date:..2023")[1])) == ["C3", "P1"]


def test_facet_counts_over_a_match_set() -> None:
    table = FacetTable(RECORDS)
    counts = table.counts(np.ones(len(RECORDS), dtype=bool))
    assert counts["type"] == {"SupportCase": 3, "Document": 1, "IndustryRule": 1, "Policy": 1}
    assert counts["status"] == {"open": 2, "closed": 1}
    assert counts["product"] == {"NetRidge S8G": 2, "Skylark X200 Router": 2}
    assert counts["language"] == {"en": 5, "zh": 1}
    assert counts["month"] == {"2022-01": 1, "2023-12": 1, "2024-03": 2, "2024-07": 1}
    some = table.counts(np.array([0, 3]))
    assert some["type"] == {"SupportCase": 1, "Document": 1} and some["customer"] == {}


def test_browsing_orders_newest_first_with_undated_last() -> None:
    table = FacetTable(RECORDS)
    assert [table.uids[i] for i in table.newest_first(None)] == ["C2", "D1", "C1", "C3", "P1", "R1"]
    assert [table.uids[i] for i in table.newest_first(table.mask(parse_query("type:case")[1]))] == ["C2", "C1", "C3"]
