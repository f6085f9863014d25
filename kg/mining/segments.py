"""Segments: k-means on standardised RFM and behaviour, each described in plain English and Chinese.

Features per customer: days since the last order, orders, spend, average order value, distinct
products and support cases per year, the skewed ones on a log scale, all standardised. k is
chosen by the silhouette score among `k_range` unless given. Segments are numbered by median
spend, highest first, so that "segment 1" means the same thing from one run to the next; each
description compares the segment's medians with the whole base.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from kcrm.kg.mining.history import Order

log = logging.getLogger(__name__)

SEGMENT_FEATURES = ("recency_days", "orders", "spend", "avg_order", "products", "cases_per_year")
_LOG_SCALED = {"orders", "spend", "avg_order", "cases_per_year"}
# feature -> ((word when high, Chinese), (word when low, Chinese))
_WORDS = {
    "recency_days": (("lapsed", "久未购买"), ("recently active", "近期活跃")),
    "orders": (("frequent buyers", "高频购买"), ("occasional buyers", "偶尔购买")),
    "spend": (("high spend", "高消费"), ("low spend", "低消费")),
    "avg_order": (("large orders", "大额订单"), ("small orders", "小额订单")),
    "products": (("broad range", "品类广泛"), ("narrow range", "品类单一")),
    "cases_per_year": (("many support cases", "工单较多"), ("few support cases", "工单较少")),
}


@dataclass(frozen=True)
class Segment:
    """One mined segment: its number, members, generated names and descriptions, and its medians."""

    number: int
    members: tuple[str, ...]
    name: str
    name_zh: str
    description: str
    description_zh: str
    medians: dict[str, float]


def segment_features(orders_by_customer: dict[str, list[Order]], cases: dict[str, list[datetime]],
                     as_of: datetime) -> tuple[list[str], np.ndarray]:
    """(customers, raw feature matrix) for customers with at least one order by `as_of`."""
    customers, rows = [], []
    for customer, orders in sorted(orders_by_customer.items()):
        past = [o for o in orders if o.at <= as_of]
        if not past:
            continue
        spend = sum(o.amount for o in past)
        years = max((as_of - past[0].at).days, 30) / 365.25
        case_count = sum(1 for at in cases.get(customer, []) if at <= as_of)
        customers.append(customer)
        rows.append([(as_of - past[-1].at).days, len(past), spend, spend / len(past),
                     len({p for o in past for p in o.products}), case_count / years])
    return customers, np.array(rows, dtype=float).reshape(-1, len(SEGMENT_FEATURES))


def _standardised(raw: np.ndarray) -> np.ndarray:
    x = raw.copy()
    for j, name in enumerate(SEGMENT_FEATURES):
        if name in _LOG_SCALED:
            x[:, j] = np.log1p(np.maximum(x[:, j], 0))
    return StandardScaler().fit_transform(x)


def choose_k(x: np.ndarray, k_range: range, random_state: int) -> int:
    """The k of `k_range` with the best silhouette score (the smallest k on ties)."""
    best_k, best = k_range.start, -2.0
    for k in k_range:
        if k >= len(x):
            break
        labels = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(x)
        score = silhouette_score(x, labels, random_state=random_state) if len(set(labels)) > 1 else -1.0
        if score > best + 1e-9:
            best_k, best = k, score
    return best_k


def _describe(medians: dict[str, float], overall: dict[str, float], z: dict[str, float], size: int,
              total: int) -> tuple[str, str, str, str]:
    notable = sorted((f for f in SEGMENT_FEATURES if abs(z[f]) >= 0.3), key=lambda f: -abs(z[f]))[:2]
    if not notable:
        notable = [max(SEGMENT_FEATURES, key=lambda f: abs(z[f]))]
    words = [_WORDS[f][0 if z[f] > 0 else 1] for f in notable]
    name = ", ".join(w[0] for w in words).capitalize()
    name_zh = "、".join(w[1] for w in words)
    ratio = medians["spend"] / overall["spend"] if overall["spend"] else 1.0
    share = 100 * size / total
    description = (
        f"{size} customers ({share:.0f}%). Median spend {medians['spend']:,.0f} ({ratio:.1f}x the median "
        f"customer), {medians['orders']:.0f} orders of {medians['avg_order']:,.0f} on average, last order "
        f"{medians['recency_days']:.0f} days ago, {medians['products']:.0f} distinct products, "
        f"{medians['cases_per_year']:.1f} support cases a year.")
    description_zh = (
        f"{size} 位客户（{share:.0f}%）。消费中位数 {medians['spend']:,.0f}（为全体中位数的 {ratio:.1f} 倍），"
        f"{medians['orders']:.0f} 笔订单，平均每单 {medians['avg_order']:,.0f}，最近一次购买在 "
        f"{medians['recency_days']:.0f} 天前，购买过 {medians['products']:.0f} 种产品，"
        f"每年 {medians['cases_per_year']:.1f} 个支持工单。")
    return name, name_zh, description, description_zh


def mine_segments(orders_by_customer: dict[str, list[Order]], cases: dict[str, list[datetime]],
                  as_of: datetime, k: int | None = None, k_range: range = range(3, 7),
                  random_state: int = 0) -> list[Segment]:
    """Cluster the customers and describe each cluster; fewer than 2 customers give no segments."""
    customers, raw = segment_features(orders_by_customer, cases, as_of)
    if len(customers) < 2:
        return []
    x = _standardised(raw)
    k = min(k or choose_k(x, k_range, random_state), len(customers))
    labels = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(x)
    overall = {f: float(np.median(raw[:, j])) for j, f in enumerate(SEGMENT_FEATURES)}
    clusters = []
    for label in sorted(set(labels)):
        mask = labels == label
        medians = {f: float(np.median(raw[mask, j])) for j, f in enumerate(SEGMENT_FEATURES)}
        z = {f: float(x[mask, j].mean()) for j, f in enumerate(SEGMENT_FEATURES)}
        clusters.append((medians, z, tuple(c for c, m in zip(customers, mask, strict=True) if m)))
    clusters.sort(key=lambda c: (-c[0]["spend"], -len(c[2]), c[2][0]))
    segments = []
    for number, (medians, z, members) in enumerate(clusters, start=1):
        name, name_zh, text, text_zh = _describe(medians, overall, z, len(members), len(customers))
        segments.append(Segment(number, members, name, name_zh, text, text_zh, medians))
    log.info("segments: k=%d, sizes %s", k, [len(s.members) for s in segments])
    return segments
