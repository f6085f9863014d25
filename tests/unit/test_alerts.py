"""Alerts logic without a graph: query matching, the store's once-only rules, retry timing, trimming."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kcrm.access import PUBLIC_GROUP, Principal
from kcrm.alerts.matching import matching_items, required_terms
from kcrm.alerts.store import AlertStore, Notification, Subscription
from kcrm.alerts.webhook import RetryPolicy
from kcrm.search.filters import make_filter
from kcrm.search.semantic import IndexItem
from kcrm.search.trimming import GroupColumn, combine, visible_to
from kcrm.search.vector_index import ChunkRecord

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


def test_store_notifies_once_and_queues_webhooks(tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "a.sqlite3")
    sub = store.add_subscription(Subscription("", "k1", "me", ["public"], "query", query="printer",
                                              webhook_url="http://127.0.0.1:9/x"))
    note = Notification(sub.id, "k1", "new_item", "C1", "SupportCase", "t", "s", [], key="created")
    assert len(store.notify([note], {sub.id: sub.webhook_url})) == 1
    again = Notification(sub.id, "k1", "new_item", "C1", "SupportCase", "t", "s", [], key="created")
    assert store.notify([again], {sub.id: sub.webhook_url}) == []
    assert store.pending_count() == 1 and len(store.notifications("k1")) == 1
    assert store.notifications("someone-else") == []
    assert store.subscription(sub.id, "someone-else") is None
    assert not store.delete_subscription(sub.id, "someone-else")
    assert store.delete_subscription(sub.id, "k1") and store.pending_count() == 0


def test_claimed_deliveries_are_not_handed_out_twice(tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "a.sqlite3")
    sub = store.add_subscription(Subscription("", "k1", "me", None, "warnings", webhook_url="http://127.0.0.1:9/"))
    store.notify([Notification(sub.id, "k1", "churn_warning", "CUS-1", "Customer", "t", "r", [], key="1")],
                 {sub.id: sub.webhook_url})
    assert len(store.claim_due(lease_s=30)) == 1
    assert store.claim_due(lease_s=30) == []


def test_warnings_notify_when_raised_not_while_they_last(tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "a.sqlite3")
    assert store.raised_warnings({("CUS-1", "churn_warning"): "r1"}) == [("CUS-1", "churn_warning", "r1")]
    assert store.raised_warnings({("CUS-1", "churn_warning"): "r2"}) == []
    assert store.raised_warnings({}) == []
    assert store.raised_warnings({("CUS-1", "churn_warning"): "r3"}) == [("CUS-1", "churn_warning", "r3")]


def test_backoff_doubles() -> None:
    policy = RetryPolicy(attempts=4, backoff_s=0.5)
    assert [policy.delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
