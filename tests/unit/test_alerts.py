"""Alerts logic without a graph: query matching, retry timing, trimming (the store: tests/e2e/test_state_store.py)."""

from __future__ import annotations

import numpy as np

from kcrm.alerts.matching import matching_items, required_terms
from kcrm.alerts.webhook import RetryPolicy
from kcrm.search.filters import make_filter
from kcrm.search.semantic import IndexItem
from kcrm.search.trimming import GroupColumn, combine, visible_to
from kcrm.search.vector_index import ChunkRecord
from kcrm.security.access import PUBLIC_GROUP, Principal

DRIVER = IndexItem("C1", "SupportCase", "Printer driver fails after update", "The LP-1100w driver crashed twice.",
                   "en", {"status": "open", "customer": "Acme Ltd", "openedAt": "2026-03-02T10:00:00+00:00"})
REFUND = IndexItem("C2", "SupportCase", "退款未到账", "我退回的打印机还没有收到退款。", "zh",
                   {"status": "closed", "customer": "云雀", "openedAt": "2025-01-02T10:00:00+00:00"})


def uids(items: list[IndexItem]) -> list[str]:
    return [i.uid for i in items]


def test_every_word_must_occur_after_stemming() -> None:
    assert uids(matching_items("printer drivers", None, [DRIVER, REFUND])) == ["C1"]
    assert uids(matching_items("printer refund", None, [DRIVER, REFUND])) == []
    assert required_terms("Refunds for printers") == {"refund", "printer"}


def test_chinese_words_match_by_characters() -> None:
    assert uids(matching_items("退款", None, [DRIVER, REFUND])) == ["C2"]
    assert uids(matching_items("退货款", None, [DRIVER, REFUND])) == []  # 货 is not in the text


def test_filters_in_the_query_and_as_parameters_apply() -> None:
    assert uids(matching_items("status:closed", None, [DRIVER, REFUND])) == ["C2"]
    assert uids(matching_items("", make_filter({"customer": ["acme"]}), [DRIVER, REFUND])) == ["C1"]
    assert uids(matching_items("driver date:2025", None, [DRIVER, REFUND])) == []
    assert uids(matching_items("date:2025", None, [DRIVER, REFUND])) == ["C2"]


def test_group_column_masks_only_restricted_items() -> None:
    records = [ChunkRecord(str(i), str(i), "Document", "", "", "en", meta) for i, meta in enumerate(
        [{}, {"accessGroups": ["hr"]}, {"accessGroups": [PUBLIC_GROUP, "hr"]}, {"accessGroups": ["key", "hr"]}])]
    column = GroupColumn(records)
    assert column.mask(None) is None
    assert column.mask([PUBLIC_GROUP]).tolist() == [True, False, True, False]
    assert column.mask([PUBLIC_GROUP, "key"]).tolist() == [True, False, True, True]
    assert column.mask([PUBLIC_GROUP, "hr"]) is None  # sees all: no mask at all
    assert combine(None, np.array([True, False]), np.array([True, True])).tolist() == [True, False]
    assert GroupColumn(records[:1]).mask([PUBLIC_GROUP]) is None


def test_trimming_rule_agrees_with_the_principal() -> None:
    for groups in ([], ["hr"], [PUBLIC_GROUP], ["key", "hr"]):
        for principal in (Principal("a", "a"), Principal("b", "b", groups=frozenset({"hr"}))):
            assert visible_to(frozenset(groups), principal.visible_groups()) == principal.can_see(groups)


def test_backoff_doubles() -> None:
    policy = RetryPolicy(attempts=4, backoff_s=0.5)
    assert [policy.delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
