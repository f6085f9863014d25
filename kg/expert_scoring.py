"""The arithmetic of expert ranking, free of Neo4j so it can be tested and reused by the evaluation.

The core is Balog et al. (2006) "Model 2", document-centric expert finding: an expert's score
is the query relevance of each item associated with them (cases they resolved, documents they
authored) times the strength of the association, summed. The graph adds what a bag of
documents lacks: the outcome and age of each case weigh its association, declared skills count
through the topic taxonomy (a skill in a narrower or broader topic counts at a discount per
hop), ownership of the product or customer asked about counts, and open-case load lowers the
score.

Two ways to put the parts together (`Weights.combination`): "sum" adds the normalised document
evidence to the weighted skills, ownership and activity prior (tuned on the sample company, where
people specialise); "product" multiplies the activity prior and the evidence, each raised to a
fitted exponent (a log-linear model, fitted on the validation window of the public forums, where
a few busy people answer every topic and the text evidence must re-rank them rather than outvote
them). In "product", `Weights.prior_mix` can replace the single activity prior by several, each
with its own half-life and exponent (a day's burst, a week, a month, a quarter): a log-linear model
whose exponents are fitted by a conditional logit (`kcrm.evaluation.experts.fit_log_linear`) on the
forums' training and validation windows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

OUTCOME_WEIGHTS: dict[str, float] = {"resolved": 1.0, "closed": 0.7}
AUTHORED_WEIGHT = 0.8
PRIOR_FLOOR = 1e-3  # "product": someone with no recent activity keeps a small prior, not zero
TEXT_FLOOR = 0.01  # "product": someone with no retrieved evidence keeps a small likelihood
COMBINATIONS = ("sum", "product")


@dataclass(frozen=True)
class Weights:
    """How much each kind of evidence counts; defaults tuned on held-out sample cases."""

    relevance_temperature: float = 0.2
    half_life_days: float = 365.0
    skill: float = 0.6
    skill_hop_decay: float = 0.5
    ownership: float = 0.3
    load_penalty: float = 0.05
    prior: float = 0.1
    centrality: float = 0.0  # collaboration-graph PageRank prior (kcrm.kg.analytics); 0 = not used
    combination: str = "sum"  # "sum" or "product" (see the module docstring)
    text_exponent: float = 1.0  # "product": the exponent of the evidence (0 = the activity prior alone)
    prior_half_life_days: float = 0.0  # the activity prior's recency decay; 0 = every resolved case alike
    # "product" only: (half-life in days, exponent) per activity prior; when given, these replace
    # (prior + floor)^prior by the product of (activity_h / max activity_h + floor)^exponent_h
    prior_mix: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if self.combination not in COMBINATIONS:
            raise ValueError(f"combination must be one of {COMBINATIONS}, not {self.combination!r}")
        if self.prior_mix and self.combination != "product":
            raise ValueError("prior_mix needs combination='product'")

    @property
    def prior_half_lives(self) -> tuple[float, ...]:
        """The half-lives of the activity priors `rank` reads from each profile's `activities`."""
        return tuple(h for h, _ in self.prior_mix)


# The weights fitted on the public forums before their test questions (`benchmarks/expert_tuning.py --fit`:
# questions between the 20% and 80% cuts of each source's solved questions, each ranked from every post
# before it, in three time folds; never the test questions after the 80% cut). A conditional logit chose,
# by mean fold MRR@10, an activity prior of the last day's burst (1-day half-life) times the last month's
# (30 days), times the text evidence (answers indexed with their questions, 30-day half-life). Refitted
# when the evaluation's text evidence became the product's lexical BM25 and analyzer (stemmed, stop words
# dropped; before: 0.241 / 0.85 / 0.147 over plain lower-cased words): same family, more weight on text.
FORUM_WEIGHTS = Weights(relevance_temperature=0.2, half_life_days=30.0, skill=0.0, skill_hop_decay=0.5,
                        ownership=0.0, load_penalty=0.0, prior=1.0, combination="product", text_exponent=0.26,
                        prior_half_life_days=30.0, prior_mix=((1.0, 0.235), (30.0, 0.764)))
PRESETS: dict[str, Weights] = {"sample": Weights(), "forums": FORUM_WEIGHTS}


def preset(name: str) -> Weights:
    """The named fitted weights (KCRM_EXPERT_RANKING); ValueError naming the choices for an unknown one."""
    if name not in PRESETS:
        raise ValueError(f"unknown expert ranking {name!r}: one of {sorted(PRESETS)}")
    return PRESETS[name]


def text_alone(weights: Weights) -> Weights:
    """The ablation without any activity prior (the text evidence, skills and ownership only)."""
    return replace(weights, prior=0.0, prior_mix=())


def activity_alone(weights: Weights) -> Weights:
    """The ablation without the evidence ("product"): the activity prior(s) alone."""
    return replace(weights, text_exponent=0.0)


def has_evidence(entry: ExpertScore) -> bool:
    """Whether anything at all speaks for this candidate (a "product" score is never exactly 0)."""
    return entry.score > 0 and any((entry.documents, entry.skills, entry.ownership, entry.prior, entry.centrality,
                                    *entry.priors))


@dataclass(frozen=True)
class Association:
    """An item (case, document) tied to an expert, with the strength of the tie."""

    expert: str
    item: str
    kind: str
    weight: float


@dataclass
class Contribution:
    """What one item added to one expert's score, kept as evidence."""

    item: str
    kind: str
    relevance: float
    weight: float

    @property
    def value(self) -> float:
        return self.relevance * self.weight


@dataclass
class ExpertScore:
    """An expert's score split into its parts, with the items and skills behind it."""

    expert: str
    score: float = 0.0
    documents: float = 0.0
    skills: float = 0.0
    ownership: float = 0.0
    prior: float = 0.0
    centrality: float = 0.0
    penalty: float = 1.0
    priors: tuple[float, ...] = ()  # each of `Weights.prior_mix`'s activities over the candidates' highest
    contributions: list[Contribution] = field(default_factory=list)
    skill_matches: list[tuple[str, str, int, int]] = field(default_factory=list)


def recency_weight(when: datetime | None, now: datetime, half_life_days: float) -> float:
    """Exponential decay with age, so that what someone did last month counts more than years ago."""
    if when is None or half_life_days <= 0:
        return 1.0
    age_days = max(0.0, (now - when).total_seconds() / 86400.0)
    return 0.5 ** (age_days / half_life_days)


def case_weight(status: str | None, closed_at: datetime | None, now: datetime, weights: Weights) -> float:
    """Association strength of a case with its resolver: outcome times recency."""
    return OUTCOME_WEIGHTS.get((status or "").lower(), 0.0) * recency_weight(closed_at, now, weights.half_life_days)


def normalise_scores(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores divided by the best one, so that one temperature suits cosines, fused and BM25 scores."""
    top = max(scores.values(), default=0.0)
    return {uid: s / top for uid, s in scores.items()} if top > 0 else dict(scores)


def relevance_from_scores(scores: Mapping[str, float], temperature: float) -> dict[str, float]:
    """Turn similarity scores into p(q|d)-like weights: a softmax, sharp enough to favour the top hits."""
    if not scores:
        return {}
    top = max(scores.values())
    raw = {uid: math.exp((s - top) / temperature) for uid, s in scores.items()}
    total = sum(raw.values())
    return {uid: value / total for uid, value in raw.items()}


def aggregate_model2(relevance: Mapping[str, float], associations: Mapping[str, Iterable[Association]]
                     ) -> dict[str, ExpertScore]:
    """Balog's Model 2: score(e) = sum over items d of p(q|d) * a(d, e)."""
    out: dict[str, ExpertScore] = {}
    for item, rel in relevance.items():
        for assoc in associations.get(item, ()):
            entry = out.setdefault(assoc.expert, ExpertScore(expert=assoc.expert))
            contribution = Contribution(item=item, kind=assoc.kind, relevance=rel, weight=assoc.weight)
            entry.documents += contribution.value
            entry.contributions.append(contribution)
    for entry in out.values():
        entry.contributions.sort(key=lambda c: c.value, reverse=True)
    return out


def topic_distances(topic: str, broader: Mapping[str, Iterable[str]], max_hops: int = 2) -> dict[str, int]:
    """Hops from `topic` to every topic reachable along BROADER in either direction (itself at 0)."""
    narrower: dict[str, set[str]] = defaultdict(set)
    for child, parents in broader.items():
        for parent in parents:
            narrower[parent].add(child)
    seen = {topic: 0}
    frontier = [topic]
    for hop in range(1, max_hops + 1):
        nxt = []
        for node in frontier:
            for other in (*broader.get(node, ()), *narrower.get(node, ())):
                if other not in seen:
                    seen[other] = hop
                    nxt.append(other)
        frontier = nxt
    return seen


def topic_distribution(item_topics: Mapping[str, Iterable[str]], relevance: Mapping[str, float],
                       explicit: Iterable[str] = ()) -> dict[str, float]:
    """p(topic|q): the relevance mass of the retrieved items per topic, plus any topic asked for by name."""
    dist: dict[str, float] = defaultdict(float)
    for item, rel in relevance.items():
        topics = list(item_topics.get(item, ()))
        for topic in topics:
            dist[topic] += rel / len(topics)
    explicit = list(explicit)
    for topic in explicit:
        dist[topic] += 1.0 / len(explicit)
    total = sum(dist.values())
    return {t: v / total for t, v in dist.items()} if total else {}


def skill_score(skills: Mapping[str, int], query_topics: Mapping[str, float], broader: Mapping[str, Iterable[str]],
                hop_decay: float, max_level: int = 5) -> tuple[float, list[tuple[str, str, int, int]]]:
    """Declared skill levels matched to the query's topics, discounted per taxonomy hop.

    Returns the score and the matches as (query topic, skill topic, level, hops).
    """
    total = 0.0
    matches: list[tuple[str, str, int, int]] = []
    for topic, mass in query_topics.items():
        distances = topic_distances(topic, broader)
        best: tuple[float, tuple[str, str, int, int] | None] = (0.0, None)
        for skill_topic, level in skills.items():
            hops = distances.get(skill_topic)
            if hops is None:
                continue
            value = (level / max_level) * hop_decay ** hops
            if value > best[0]:
                best = (value, (topic, skill_topic, level, hops))
        if best[1] is not None:
            total += mass * best[0]
            matches.append(best[1])
    return total, matches


def load_penalty(open_cases: int, per_case: float) -> float:
    """A multiplier below 1 for people already carrying open cases."""
    return 1.0 / (1.0 + per_case * max(0, open_cases))


def combine(entry: ExpertScore, max_documents: float, weights: Weights) -> float:
    """The final score, times the load penalty.

    "sum": normalised document evidence plus weighted skills, ownership, prior and centrality.
    "product": (prior + floor)^prior times (evidence + floor)^text_exponent, the evidence being the
    same sum without the prior; the floors keep one missing part from zeroing the rest.
    """
    documents = entry.documents / max_documents if max_documents > 0 else 0.0
    evidence = documents + weights.skill * entry.skills + weights.ownership * entry.ownership
    evidence += weights.centrality * entry.centrality
    if weights.combination == "product" and weights.prior_mix:
        raw = (TEXT_FLOOR + evidence) ** weights.text_exponent
        for (_, exponent), prior in zip(weights.prior_mix, entry.priors, strict=True):
            raw *= (PRIOR_FLOOR + prior) ** exponent
    elif weights.combination == "product":
        raw = (PRIOR_FLOOR + entry.prior) ** weights.prior * (TEXT_FLOOR + evidence) ** weights.text_exponent
    else:
        raw = evidence + weights.prior * entry.prior
    entry.score = raw * entry.penalty
    return entry.score


def activity(dates: Iterable[datetime | None], now: datetime, half_life_days: float) -> float:
    """The activity prior's raw value: resolved items, each weighed by its age (plain count at half-life 0).

    Exponential decay is shift-invariant: a profile computed a while before `now` ranks the same.
    """
    return sum(recency_weight(d, now, half_life_days) if half_life_days > 0 else 1.0 for d in dates)


def activities(dates: Iterable[datetime | None], now: datetime, half_lives: Iterable[float]) -> tuple[float, ...]:
    """`activity` at each half-life (the raw values of `Weights.prior_mix`'s priors)."""
    dates = list(dates)
    return tuple(activity(dates, now, h) for h in half_lives)


@dataclass(frozen=True)
class ExpertProfile:
    """What the ranking knows about a candidate besides their items."""

    uid: str
    skills: Mapping[str, int] = field(default_factory=dict)
    owns: frozenset[str] = frozenset()
    open_cases: int = 0
    activity: float = 0.0
    centrality: float = 0.0  # in [0, 1]: collaboration PageRank over the most central
    activities: tuple[float, ...] = ()  # `activity` at each of `Weights.prior_mix`'s half-lives


def rank(relevance: Mapping[str, float], associations: Mapping[str, Iterable[Association]],
         item_topics: Mapping[str, Iterable[str]], profiles: Mapping[str, ExpertProfile],
         broader: Mapping[str, Iterable[str]], weights: Weights, explicit_topics: Iterable[str] = (),
         targets: frozenset[str] = frozenset()) -> list[ExpertScore]:
    """Score every candidate in `profiles`: Model 2 over their items plus the graph's evidence, best first."""
    scores = aggregate_model2(relevance, associations)
    query_topics = topic_distribution(item_topics, relevance, explicit_topics)
    max_activity = max((p.activity for p in profiles.values()), default=0.0)
    mix = len(weights.prior_mix)
    max_mix = [max((p.activities[i] for p in profiles.values() if len(p.activities) == mix), default=0.0)
               for i in range(mix)]
    ranked = []
    for profile in profiles.values():
        entry = scores.get(profile.uid) or ExpertScore(expert=profile.uid)
        entry.skills, entry.skill_matches = skill_score(profile.skills, query_topics, broader, weights.skill_hop_decay)
        entry.ownership = len(profile.owns & targets) / len(targets) if targets else 0.0
        entry.prior = profile.activity / max_activity if max_activity > 0 else 0.0
        if mix:
            if len(profile.activities) != mix:
                raise ValueError(f"profile {profile.uid!r} has {len(profile.activities)} activities, the weights' "
                                 f"prior_mix {mix}")
            entry.priors = tuple(a / top if top > 0 else 0.0 for a, top in zip(profile.activities, max_mix, strict=True))
        entry.centrality = profile.centrality
        entry.penalty = load_penalty(profile.open_cases, weights.load_penalty)
        ranked.append(entry)
    max_documents = max((e.documents for e in ranked), default=0.0)
    for entry in ranked:
        combine(entry, max_documents, weights)
    ranked.sort(key=lambda e: (-e.score, e.expert))
    return ranked
