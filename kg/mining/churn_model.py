"""The predictive churn model, trained and tested on a time split.

For a cutoff date T the features are what was known at T (see `churn.churn_features`) and the
label is "no order in (T, T + horizon]". The held-out test uses T_test = as_of - horizon, whose
label window is the most recent period; training uses earlier cutoffs whose label windows end
by T_test, so nothing from the test period leaks into training. The model covers customers
active at a cutoff (an order in the `active_days` before it), in training, evaluation and
scoring alike: customers silent for longer have lapsed already, which the rules say plainly
(`churn.ChurnRules.lapsed_days`), and would only flatter the figures. The classifiers are
unweighted so that their probabilities stay calibrated (they become the churnRisk written to
the graph). After the evaluation the model is refitted on every labelled cutoff and scores each
active customer as of now.
"""

from __future__ import annotations

import logging
import math
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from kcrm.foundation.errors import MiningInputError
from kcrm.kg.mining.churn import FEATURES, cadence_days, churn_features, churn_signal, no_order_within
from kcrm.kg.mining.history import Order

log = logging.getLogger(__name__)

MODELS = ("logistic", "gradient-boosting")
THRESHOLD = 0.5  # the probability at which the evaluation counts a customer as predicted to churn
MEDIUM_THRESHOLD = 0.3  # the "medium" risk level's lower bound (see pipeline.risk_level)
FACTOR_WORDS = {
    "days_since_last": "a long time since the last order", "overdue_ratio": "overdue against their own rhythm",
    "log_orders": "few orders overall", "orders_90": "few orders in the last 90 days",
    "orders_180": "few orders in the last 180 days", "orders_365": "few orders in the last year",
    "order_trend": "order rate falling", "spend_trend": "spend falling", "log_spend_365": "low spend this year",
    "tenure_days": "short relationship", "cases_180": "support cases lately",
}


@dataclass(frozen=True)
class ChurnEvaluation:
    """Held-out figures of the model (and of the rules as a baseline) on the most recent period."""

    model: str
    horizon_days: int
    test_cutoff: str
    train_cutoffs: list[str]
    train_rows: int
    test_rows: int
    test_churn_rate: float
    threshold: float
    precision: float
    recall: float
    precision_at_medium: float
    recall_at_medium: float
    auc: float | None
    rules_precision: float
    rules_recall: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChurnScores:
    """Per-customer churn probability as of now, the factor that drove it, and the evaluation."""

    risk: dict[str, float] = field(default_factory=dict)
    factor: dict[str, str] = field(default_factory=dict)
    evaluation: ChurnEvaluation | None = None
    note: str = ""


def _default_cadence(orders_by_customer: dict[str, list[Order]], cutoff: datetime) -> float:
    cadences = [c for orders in orders_by_customer.values()
                if (c := cadence_days([o for o in orders if o.at <= cutoff])) is not None]
    return statistics.median(cadences) if cadences else 30.0


def _rows(orders_by_customer: dict[str, list[Order]], cases: dict[str, list[datetime]], cutoff: datetime,
          horizon_days: int | None, active_days: int | None) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(customers, features, labels) at one cutoff; labels are empty when `horizon_days` is None."""
    default = _default_cadence(orders_by_customer, cutoff)
    customers, features, labels = [], [], []
    for customer, orders in sorted(orders_by_customer.items()):
        row = churn_features(orders, cases.get(customer, []), cutoff, default)
        if row is None or (active_days is not None and math.floor(row[0]) > active_days):
            continue
        customers.append(customer)
        features.append(row)
        if horizon_days is not None:
            labels.append(no_order_within(orders, cutoff, horizon_days))
    return customers, np.array(features, dtype=float).reshape(-1, len(FEATURES)), np.array(labels, dtype=bool)


def _model(kind: str, random_state: int) -> Pipeline:
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    if kind == "gradient-boosting":
        return make_pipeline(StandardScaler(), GradientBoostingClassifier(random_state=random_state))
    raise MiningInputError(f"unknown churn model {kind!r}; use one of {', '.join(MODELS)}")


def _top_factor(model: Pipeline, x: np.ndarray) -> list[str]:
    """Per row, the feature pushing the churn probability up the most (logistic model only)."""
    last = model[-1]
    if not isinstance(last, LogisticRegression):
        return [""] * len(x)
    contributions = model[0].transform(x) * last.coef_[0]
    return [FACTOR_WORDS[FEATURES[int(np.argmax(row))]] if row.max() > 0 else "" for row in contributions]


def train_and_score(orders_by_customer: dict[str, list[Order]], cases: dict[str, list[datetime]], as_of: datetime,
                    horizon_days: int = 180, model: str = "logistic", train_cutoffs: int = 6, step_days: int = 90,
                    active_days: int = 365, random_state: int = 0) -> ChurnScores:
    """Evaluate on the most recent period, refit on all labelled periods, score everyone as of `as_of`."""
    _model(model, random_state)
    test_cutoff = as_of - timedelta(days=horizon_days)
    cutoffs = [test_cutoff - timedelta(days=horizon_days + k * step_days) for k in range(train_cutoffs)]
    labelled = [(c, _rows(orders_by_customer, cases, c, horizon_days, active_days)) for c in cutoffs]
    used = [c for c, rows in labelled if len(rows[0])]
    train = [rows for _, rows in labelled if len(rows[0])]
    test_customers, x_test, y_test = _rows(orders_by_customer, cases, test_cutoff, horizon_days, active_days)
    if not train or len(y_test) == 0:
        return ChurnScores(note="not enough history before the test period to train a churn model")
    x_train, y_train = np.vstack([t[1] for t in train]), np.concatenate([t[2] for t in train])
    if len(set(y_train)) < 2 or len(y_train) < 20:
        return ChurnScores(note=f"{len(y_train)} training rows with a single class: no churn model")
    fitted = _model(model, random_state).fit(x_train, y_train)
    scores = fitted.predict_proba(x_test)[:, 1]
    warned = np.array([churn_signal(c, orders_by_customer[c], test_cutoff).warning for c in test_customers])
    evaluation = ChurnEvaluation(
        model=model, horizon_days=horizon_days, test_cutoff=test_cutoff.isoformat(),
        train_cutoffs=[c.isoformat() for c in used], train_rows=len(y_train), test_rows=len(y_test),
        test_churn_rate=float(y_test.mean()),
        threshold=THRESHOLD,
        precision=float(precision_score(y_test, scores >= THRESHOLD, zero_division=0)),
        recall=float(recall_score(y_test, scores >= THRESHOLD, zero_division=0)),
        precision_at_medium=float(precision_score(y_test, scores >= MEDIUM_THRESHOLD, zero_division=0)),
        recall_at_medium=float(recall_score(y_test, scores >= MEDIUM_THRESHOLD, zero_division=0)),
        auc=float(roc_auc_score(y_test, scores)) if len(set(y_test)) == 2 else None,
        rules_precision=float(precision_score(y_test, warned, zero_division=0)),
        rules_recall=float(recall_score(y_test, warned, zero_division=0)),
    )
    log.info("churn model %s: precision %.3f recall %.3f on %d held-out customers", model, evaluation.precision,
             evaluation.recall, evaluation.test_rows)
    final = _model(model, random_state).fit(np.vstack([x_train, x_test]), np.concatenate([y_train, y_test]))
    customers, x_now, _ = _rows(orders_by_customer, cases, as_of, None, active_days)
    if not customers:
        return ChurnScores(evaluation=evaluation, note="no customer to score")
    probabilities = final.predict_proba(x_now)[:, 1]
    return ChurnScores(risk={c: round(float(p), 4) for c, p in zip(customers, probabilities, strict=True)},
                       factor=dict(zip(customers, _top_factor(final, x_now), strict=True)), evaluation=evaluation)
