"""`kcrm mine`: read the customer base, mine every kind of knowledge, write it back to the graph.

Value (RFM, tier, loyalty), churn (rules and model), cross-sell, segments and deviations.

`mine_history` is pure (a `History` in, a `MiningResult` out) so tests and benchmarks run it on
any data; `run_mining` adds the graph at both ends and a report file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm

from kcrm.foundation.errors import MiningInputError
from kcrm.kg.connection import Graph
from kcrm.kg.mining.churn import ChurnSignal, churn_signal
from kcrm.kg.mining.churn_model import MEDIUM_THRESHOLD, MODELS, ChurnScores, train_and_score
from kcrm.kg.mining.crosssell import Recommendation, customer_baskets, recommend
from kcrm.kg.mining.deviations import Deviation, deviations
from kcrm.kg.mining.history import History, read_history
from kcrm.kg.mining.rules import Rule
from kcrm.kg.mining.segments import Segment, mine_segments
from kcrm.kg.mining.value import CustomerValue, customer_values
from kcrm.kg.mining.writeback import SEGMENT_UID_PREFIX, graph_names, write_insights
from kcrm.ontology.model import Ontology

log = logging.getLogger(__name__)

HIGH_RISK, MEDIUM_RISK = 0.6, MEDIUM_THRESHOLD


@dataclass(frozen=True)
class MiningConfig:
    """The knobs of one mining run (defaults suit the sample company)."""

    as_of: datetime | None = None
    churn_horizon_days: int = 180
    churn_model: str = "logistic"
    crosssell_min_support: float = 0.05
    crosssell_min_confidence: float = 0.3
    recommendations_per_customer: int = 5
    segments_k: int | None = None
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.churn_model not in MODELS:
            raise MiningInputError(f"unknown churn model {self.churn_model!r}; use one of {', '.join(MODELS)}")
        if self.churn_horizon_days < 1 or self.recommendations_per_customer < 1:
            raise MiningInputError("the churn horizon and the recommendations per customer must be positive")
        if self.segments_k is not None and self.segments_k < 2:
            raise MiningInputError(f"segments_k must be at least 2, got {self.segments_k}")


@dataclass
class MiningResult:
    """Everything one run found, before it is written."""

    as_of: datetime
    amount_basis: str
    values: dict[str, CustomerValue]
    signals: dict[str, ChurnSignal]
    churn: ChurnScores
    rules: list[Rule]
    recommendations: dict[str, list[Recommendation]]
    segments: list[Segment]
    deviations: dict[str, Deviation] = field(default_factory=dict)
    product_names: dict[str, str] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The figures `kcrm mine` prints and writes to its report."""
        tiers: dict[str, int] = {}
        for value in self.values.values():
            tiers[value.tier] = tiers.get(value.tier, 0) + 1
        levels: dict[str, int] = {}
        for row in self.customer_rows():
            level = row["props"]["churnRiskLevel"]
            levels[level] = levels.get(level, 0) + 1
        return {
            "as_of": self.as_of.isoformat(), "amount_basis": self.amount_basis, "customers_valued": len(self.values),
            "tiers": dict(sorted(tiers.items())), "loyal": sum(v.loyal for v in self.values.values()),
            "churn_warnings": sum(s.warning for s in self.signals.values()), "churn_risk_levels": levels,
            "deviations": sum(self.deviations[c].flagged for c in self.values if c in self.deviations),
            "churn_model": self.churn.evaluation.as_dict() if self.churn.evaluation else self.churn.note,
            "crosssell_rules": len(self.rules),
            "recommendations": sum(len(r) for r in self.recommendations.values()),
            "segments": [{"uid": segment_uid(s), "name": s.name, "size": len(s.members)} for s in self.segments],
            "written": self.written,
        }

    def customer_rows(self) -> list[dict[str, Any]]:
        """One row of Customer properties per valued customer (None clears a property)."""
        rows = []
        for uid, value in sorted(self.values.items()):
            signal = self.signals[uid]
            deviation = self.deviations.get(uid)
            risk = self.churn.risk.get(uid)
            level = risk_level(risk, signal.warning)
            rows.append({"uid": uid, "props": {
                "recencyDays": value.recency_days, "orderCount": value.frequency, "monetaryValue": value.monetary,
                "monetaryBasis": self.amount_basis, "recencyScore": value.recency_score,
                "frequencyScore": value.frequency_score, "monetaryScore": value.monetary_score,
                "rfmScore": value.rfm_score, "valueTier": value.tier, "loyal": value.loyal, "churnRisk": risk,
                "churnRiskLevel": level, "churnWarning": signal.warning,
                "churnReason": churn_reason(signal, risk, self.churn.factor.get(uid, "")),
                "deviationFlagged": deviation.flagged if deviation else False,
                "deviationReason": deviation.reason if deviation and deviation.flagged else None,
            }})
        return rows


def risk_level(risk: float | None, warning: bool) -> str:
    """high / medium / low from the model's probability, raised to medium by a rule warning."""
    if risk is None:
        return "high" if warning else "low"
    if risk >= HIGH_RISK:
        return "high"
    return "medium" if risk >= MEDIUM_RISK or warning else "low"


def churn_reason(signal: ChurnSignal, risk: float | None, factor: str) -> str:
    """The rules' findings, plus the model's main factor when it sees a risk."""
    parts = list(signal.reasons)
    if risk is not None and risk >= MEDIUM_RISK and factor:
        parts.append(f"model: {100 * risk:.0f}% chance of no order in the coming period, mainly {factor}")
    return "; ".join(parts) or "no warning sign: orders at the usual rhythm"


def segment_uid(segment: Segment) -> str:
    return f"{SEGMENT_UID_PREFIX}{segment.number}"


def mine_history(history: History, config: MiningConfig = MiningConfig(), progress: bool = False) -> MiningResult:
    """Value, churn (rules and model), cross-sell and segments over one history, as of one time."""
    as_of = config.as_of or history.latest()
    orders = history.orders_by_customer()
    cases = history.cases_by_customer()
    with tqdm(total=5, desc="mine", unit="job", disable=not progress) as bar:
        values = customer_values(orders, as_of)
        bar.update()
        signals = {c: churn_signal(c, orders[c], as_of) for c in values}
        churn = train_and_score(orders, cases, as_of, horizon_days=config.churn_horizon_days,
                                model=config.churn_model, random_state=config.random_state)
        bar.update()
        past = {c: [o for o in os if o.at <= as_of] for c, os in orders.items()}
        rules, recommendations = recommend(customer_baskets(past), config.crosssell_min_support,
                                           config.crosssell_min_confidence, config.recommendations_per_customer)
        bar.update()
        segments = mine_segments(orders, cases, as_of, k=config.segments_k, random_state=config.random_state)
        bar.update()
        changes = deviations(orders, cases, as_of)
        bar.update()
    return MiningResult(as_of, history.amount_basis, values, signals, churn, rules, recommendations, segments,
                        changes, history.products)


def write_result(graph: Graph, ontology: Ontology, result: MiningResult, batch_size: int = 500) -> dict[str, int]:
    """Write one result into the graph (see `writeback`); returns what was written and removed."""
    now = datetime.now(UTC).isoformat()
    segments = [{"uid": segment_uid(s), "props": {
        "name": s.name, "nameZh": s.name_zh, "description": s.description, "descriptionZh": s.description_zh,
        "memberCount": len(s.members)}} for s in result.segments]
    members = [{"customer": c, "segment": segment_uid(s)} for s in result.segments for c in s.members]
    recommendations = [
        {"customer": r.customer, "product": r.product, "props": {
            "score": r.score, "confidence": round(r.confidence, 4), "lift": round(r.lift, 4),
            "support": round(r.support, 4), "reason": r.reason(result.product_names)}}
        for recs in result.recommendations.values() for r in recs]
    result.written = write_insights(graph, ontology, now, result.customer_rows(), segments, members,
                                    recommendations, batch_size)
    return result.written


def run_mining(graph: Graph, ontology: Ontology, config: MiningConfig = MiningConfig(), progress: bool = False,
               batch_size: int = 500) -> MiningResult:
    """Read the graph, mine it, write the knowledge back: what `kcrm mine` does."""
    graph_names(ontology)
    history = read_history(graph, ontology)
    result = mine_history(history, config, progress=progress)
    write_result(graph, ontology, result, batch_size)
    return result
