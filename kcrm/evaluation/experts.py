"""Expert-finding evaluation on support-forum threads (a folder laid out like expert_finding_forums).

Computed in memory, never in the shared graph: each source (docusign, dwolla, ...) is split by
time at the 80% quantile of its solved questions; authors' evidence comes only from posts before
the cut; queries are later solved questions that the asker did not answer. The rankings scored on
the same queries: kcrm's (`kcrm.kg.expert_scoring.rank` with the fitted FORUM_WEIGHTS, the same
function and weights `/v1/experts` ranks with under KCRM_EXPERT_RANKING=forums: BM25-retrieved past
threads vote for their answerers by similarity, outcome and recency, times recent-activity priors
(the last day's and the last month's, `Weights.prior_mix`)), its two ablations (text evidence alone,
activity priors alone), kcrm before issue 19, the most active answerer, recently active answerers
(30-day and 7-day half-lives; the 7-day one is the activity prior issue 19's bar was set against)
and BM25 over answer profiles. All text matching is the product's: the lexical index's analyzer
and BM25 (`kcrm.search.lexical.MemoryBM25`) over the history held in memory.
"""

from __future__ import annotations

import csv
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kcrm.evaluation.metrics import precision_at, reciprocal_rank
from kcrm.foundation.errors import ValidationFailed
from kcrm.jsonlines import json_objects
from kcrm.kg.expert_scoring import (
    FORUM_WEIGHTS,
    PRIOR_FLOOR,
    TEXT_FLOOR,
    Association,
    ExpertProfile,
    ExpertScore,
    Weights,
    activities,
    activity,
    activity_alone,
    has_evidence,
    normalise_scores,
    rank,
    recency_weight,
    relevance_from_scores,
    text_alone,
)
from kcrm.search.lexical import MemoryBM25
from kcrm.search.tokenizer import default_analyzer

log = logging.getLogger(__name__)

POSTS_FILE = "posts.jsonl"
QRELS_FILE = "expert_qrels_solution_author.csv"
POST_FIELDS = ("source", "forum", "thread_id", "type", "author", "created_at")
QREL_FIELDS = ("query_id", "source", "asked_at", "asker", "expert", "self_answered")
# kcrm before issue 19 (kept as a row of the report): a sum of Model 2 evidence, forum skill and the
# activity prior, chosen on a validation split (history before the 60% cut, queries between the 60%
# and 80% cuts of DocuSign), with questions alone indexed.
PREVIOUS_WEIGHTS = Weights(relevance_temperature=0.2, half_life_days=90.0, skill=0.3, skill_hop_decay=0.5,
                        ownership=0.0, load_penalty=0.0, prior=1.0)
RETRIEVED_THREADS = 100
# ... and its rolling-protocol variant: a 30-day half-life, a flatter softmax, forum skill as standing.
PREVIOUS_ROLLING_WEIGHTS = replace(PREVIOUS_WEIGHTS, half_life_days=30.0, relevance_temperature=0.5)


# The product's analyzer (lower case, stop words dropped, Snowball stems; Chinese segmented), the
# one the lexical index searches with: the evaluation measures the product's text matching.
ANALYZER = default_analyzer()


@lru_cache(maxsize=50_000)
def term_counts(text: str) -> Counter[str]:
    """`ANALYZER`'s term frequencies of one text, memoised: the rolling protocol re-indexes the same
    posts per query.

    Callers must not modify the Counter they get.
    """
    return Counter(ANALYZER.terms(text or ""))


def text_index(texts: dict[str, str]) -> MemoryBM25:
    """The product's BM25 (`kcrm.search.lexical`) over `texts` (id -> text), analysed by `ANALYZER`."""
    return MemoryBM25({key: term_counts(text) for key, text in texts.items()}, ANALYZER)


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_dataset(directory: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Posts and solution-author qrels; ValidationFailed naming the file, line and field that is wrong."""
    posts_path, qrels_path = directory / POSTS_FILE, directory / QRELS_FILE
    for path in (posts_path, qrels_path):
        if not path.is_file():
            raise ValidationFailed(f"{path} is missing: a dataset folder needs {POSTS_FILE} and {QRELS_FILE}")
    posts = []
    for line_no, post in json_objects(posts_path, ValidationFailed):
        missing = [f for f in POST_FIELDS if not post.get(f)]
        if missing:
            raise ValidationFailed(f"{posts_path}:{line_no}: missing field(s) {', '.join(missing)}")
        post["at"] = _parse(post["created_at"])
        posts.append(post)
    with qrels_path.open(encoding="utf-8", newline="") as fh:
        qrels = list(csv.DictReader(fh))
    for line_no, row in enumerate(qrels, start=2):
        missing = [f for f in QREL_FIELDS if row.get(f) in (None, "")]
        if missing:
            raise ValidationFailed(f"{qrels_path}:{line_no}: missing field(s) {', '.join(missing)}")
        row["at"] = _parse(row["asked_at"])
    return posts, qrels


@dataclass
class SplitData:
    """One source cut in time: the history the rankers may see and the queries to answer."""

    source: str
    cut: datetime
    threads: dict[str, str] = field(default_factory=dict)
    forum_of: dict[str, str] = field(default_factory=dict)
    answers: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)

    def thread_texts(self, with_answers: bool = True) -> dict[str, str]:
        """Each thread's searchable text: the question, and with `with_answers` the answers seen so far.

        Answers carry their authors' vocabulary (the SDK, the call, the fix), as a resolved case's
        resolution does in the graph.
        """
        texts = dict(self.threads)
        if with_answers:
            for post in self.answers:
                if post["thread_id"] in texts:
                    texts[post["thread_id"]] += f" {post.get('text', '')}"
        return texts

    def index(self, with_answers: bool = True) -> MemoryBM25:
        """The product's BM25 over `thread_texts` (see `text_index`)."""
        return text_index(self.thread_texts(with_answers))


def history_before(source: str, posts: list[dict[str, Any]], cut: datetime) -> SplitData:
    """What a ranker may see at time `cut`: the source's questions and non-asker answers posted before it."""
    data = SplitData(source=source, cut=cut)
    questions = {p["thread_id"]: p for p in posts if p["source"] == source and p["type"] == "question"}
    for post in posts:
        if post["source"] != source or post["at"] >= cut:
            continue
        if post["type"] == "question":
            data.threads[post["thread_id"]] = f"{post.get('title', '')} {post.get('text', '')}"
            data.forum_of[post["thread_id"]] = post["forum"]
        elif post["thread_id"] in questions and post["author"] != questions[post["thread_id"]]["author"]:
            data.answers.append(post)
    return data


def solved_cut(source: str, qrels: list[dict[str, Any]], ratio: float) -> datetime:
    """The time that leaves `ratio` of the source's solved questions before it."""
    solved = sorted(q["at"] for q in qrels if q["source"] == source)
    return solved[min(len(solved) - 1, int(len(solved) * ratio))]


def split_source(source: str, posts: list[dict[str, Any]], qrels: list[dict[str, Any]], ratio: float = 0.8
                 ) -> SplitData:
    """History = posts before the time that leaves `ratio` of solved questions earlier; queries = the rest."""
    solved = sorted(q["at"] for q in qrels if q["source"] == source)
    cut = solved[min(len(solved) - 1, int(len(solved) * ratio))]
    data = SplitData(source=source, cut=cut)
    questions = {p["thread_id"]: p for p in posts if p["source"] == source and p["type"] == "question"}
    for post in posts:
        if post["source"] != source or post["at"] >= cut:
            continue
        if post["type"] == "question":
            data.threads[post["thread_id"]] = f"{post.get('title', '')} {post.get('text', '')}"
            data.forum_of[post["thread_id"]] = post["forum"]
        elif post["thread_id"] in questions and post["author"] != questions[post["thread_id"]]["author"]:
            data.answers.append(post)
    for q in qrels:
        if q["source"] == source and q["at"] >= cut and q["self_answered"].lower() != "true" \
                and q["query_id"] in questions:
            question = questions[q["query_id"]]
            data.queries.append({**q, "text": f"{question.get('title', '')} {question.get('text', '')}",
                                 "forum": question["forum"]})
    return data


def _profiles(data: SplitData, half_life_days: float, standing: bool = False,
              prior_half_life_days: float | None = None, prior_half_lives: Sequence[float] = ()
              ) -> dict[str, ExpertProfile]:
    """Skill levels 1-5 per forum and recency-weighted answer count as activity.

    The activity decays with `prior_half_life_days` when given, else with `half_life_days`;
    `activities` holds the same count at each of `prior_half_lives` (`Weights.prior_mix`).

    Without `standing` a level says how much of the author's own work is in the forum; with it,
    how the author's recency-weighted answers in the forum compare with the forum's most active
    author now (the graph's "resolved cases of this topic, weighted by age"; level 0 is no skill).
    """
    per_forum: dict[str, Counter[str]] = defaultdict(Counter)
    forum_recent: dict[str, Counter[str]] = defaultdict(Counter)
    recent: Counter[str] = Counter()
    dates: dict[str, list[datetime]] = defaultdict(list)
    prior_half_life = half_life_days if prior_half_life_days is None else prior_half_life_days
    for post in data.answers:
        forum = data.forum_of.get(post["thread_id"], post["forum"])
        weight = recency_weight(post["at"], data.cut, half_life_days)
        per_forum[post["author"]][forum] += 1
        forum_recent[forum][post["author"]] += weight
        recent[post["author"]] += activity([post["at"]], data.cut, prior_half_life)
        dates[post["author"]].append(post["at"])
    forum_top = {forum: max(counts.values()) for forum, counts in forum_recent.items()}
    profiles = {}
    for author, forums in per_forum.items():
        if standing:
            levels = {f: round(5 * forum_recent[f][author] / forum_top[f]) if forum_top[f] else 0 for f in forums}
            skills = {forum: level for forum, level in levels.items() if level > 0}
        else:
            top = max(forums.values())
            skills = {forum: max(1, round(5 * n / top)) for forum, n in forums.items()}
        profiles[author] = ExpertProfile(uid=author, skills=skills, activity=recent[author],
                                         activities=activities(dates[author], data.cut, prior_half_lives))
    return profiles


def kcrm_ranker(data: SplitData, weights: Weights = FORUM_WEIGHTS, centrality: dict[str, float] | None = None,
                index: MemoryBM25 | None = None, standing: bool = False, with_answers: bool = True
                ) -> Callable[[dict[str, Any]], list[str]]:
    """kcrm's ranking for forum questions: Model 2 over retrieved threads plus the graph priors
    (the experts with any evidence from `kcrm_scorer`, best first)."""
    scorer = kcrm_scorer(data, weights, centrality, index, standing, with_answers)
    return lambda query: [e.expert for e in scorer(query) if has_evidence(e)]


def kcrm_scorer(data: SplitData, weights: Weights = FORUM_WEIGHTS, centrality: dict[str, float] | None = None,
                index: MemoryBM25 | None = None, standing: bool = False, with_answers: bool = True
                ) -> Callable[[dict[str, Any]], list[ExpertScore]]:
    """Every candidate's `ExpertScore` for a forum question, best first, from `kcrm.kg.expert_scoring.rank`.

    `centrality` (author -> [0, 1], from `kcrm.kg.analytics`) feeds the prior `weights.centrality`;
    `index` (`data.index(with_answers)`) saves rebuilding it when one history is
    ranked many ways; `standing` chooses the forum skill levels (see `_profiles`). The activity
    prior decays with `weights.prior_half_life_days` when set (as in the graph), else with the
    evidence's half-life (kcrm before issue 19).
    """
    index = index or data.index(with_answers)
    assoc: dict[str, list[Association]] = defaultdict(list)
    for post in data.answers:
        weight = (1.0 if post.get("is_solution") else 0.5) * recency_weight(post["at"], data.cut,
                                                                              weights.half_life_days)
        assoc[post["thread_id"]].append(Association(post["author"], post["thread_id"], "ANSWERED", weight))
    profiles = _profiles(data, weights.half_life_days, standing, weights.prior_half_life_days or None,
                         weights.prior_half_lives)
    if centrality:
        profiles = {a: replace(p, centrality=centrality.get(a, 0.0)) for a, p in profiles.items()}
    topics = {t: [f] for t, f in data.forum_of.items()}

    def scored(query: dict[str, Any]) -> list[ExpertScore]:
        scores = index.scores(query["text"])
        top = dict(sorted(scores.items(), key=lambda kv: -kv[1])[:RETRIEVED_THREADS])
        relevance = relevance_from_scores(normalise_scores(top), weights.relevance_temperature)
        candidates = {a: p for a, p in profiles.items() if a != query["asker"]}
        return rank(relevance, assoc, topics, candidates, {}, weights, explicit_topics=[query["forum"]])
    return scored


def log_features(ranked: Sequence[ExpertScore], with_text: bool = True) -> dict[str, list[float]]:
    """The logarithms a "product" score multiplies, per candidate: log(floor + prior_h) for each of
    `Weights.prior_mix`'s priors, then (with `with_text`) log(floor + evidence / highest evidence).
    A score with exponents w is exp(w . features), so fitting w is fitting a log-linear model."""
    top = max((e.documents for e in ranked), default=0.0)
    out = {}
    for e in ranked:
        row = [math.log(PRIOR_FLOOR + p) for p in e.priors]
        if with_text:
            row.append(math.log(TEXT_FLOOR + (e.documents / top if top > 0 else 0.0)))
        out[e.expert] = row
    return out


def fit_log_linear(cases: Sequence[tuple[Sequence[Sequence[float]], int]], l2: float = 0.01) -> list[float]:
    """Exponents of a log-linear ranking fitted as a conditional logit (a softmax over each query's
    candidates, the expert's probability maximised), with an L2 penalty on standardised features.

    `cases`: per query, the candidates' feature rows and the index of the expert among them.
    """
    import numpy as np
    from scipy.optimize import minimize

    usable = [(np.asarray(rows, dtype=float), y) for rows, y in cases if 0 <= y < len(rows)]
    if not usable:
        raise ValueError("no query whose expert is among its candidates")
    stacked = np.vstack([x for x, _ in usable])
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-9
    standard = [((x - mean) / scale, y) for x, y in usable]

    def loss(w: Any) -> tuple[float, Any]:
        total, grad = 0.0, np.zeros_like(w)
        for z, y in standard:
            s = z @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            total -= math.log(p[y] + 1e-300)
            grad -= z[y] - p @ z
        return total / len(standard) + l2 * float(w @ w), grad / len(standard) + 2 * l2 * w

    w = minimize(loss, np.zeros(stacked.shape[1]), jac=True, method="L-BFGS-B").x
    return [float(v) for v in w / scale]


def recently_active_ranker(data: SplitData, half_life_days: float) -> Callable[[dict[str, Any]], list[str]]:
    """Ablation baseline: everyone by recency-weighted number of answers (kcrm's activity prior alone)."""
    counts: Counter[str] = Counter()
    for post in data.answers:
        counts[post["author"]] += recency_weight(post["at"], data.cut, half_life_days)
    order = [a for a, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return lambda query: [a for a in order if a != query["asker"]]


def most_active_ranker(data: SplitData) -> Callable[[dict[str, Any]], list[str]]:
    """Baseline: everyone by number of answers before the cut."""
    counts = Counter(p["author"] for p in data.answers)
    order = [a for a, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return lambda query: [a for a in order if a != query["asker"]]


def bm25_profile_ranker(data: SplitData) -> Callable[[dict[str, Any]], list[str]]:
    """Baseline: BM25 over each answerer's profile (the threads they answered, question and answers)."""
    profile_text: dict[str, list[str]] = defaultdict(list)
    answered: dict[str, set[str]] = defaultdict(set)
    for post in data.answers:
        answered[post["author"]].add(post["thread_id"])
        profile_text[post["author"]].append(f"{post.get('title', '')} {post.get('text', '')}")
    counts: dict[str, Counter[str]] = {}
    for author, texts in profile_text.items():
        total: Counter[str] = Counter()
        for text in texts + [data.threads.get(t, "") for t in sorted(answered[author])]:
            total.update(term_counts(text))
        counts[author] = total
    index = MemoryBM25(counts, ANALYZER)

    def ranking(query: dict[str, Any]) -> list[str]:
        scores = index.scores(query["text"])
        return [a for a, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])) if a != query["asker"]]
    return ranking


def window_queries(source: str, posts: list[dict[str, Any]], qrels: list[dict[str, Any]], start: datetime,
                   end: datetime | None) -> list[dict[str, Any]]:
    """Solved, not self-answered questions of `source` asked in [start, end), with their text and forum."""
    questions = {p["thread_id"]: p for p in posts if p["source"] == source and p["type"] == "question"}
    found = []
    for q in sorted(qrels, key=lambda q: (q["at"], q["query_id"])):
        if q["source"] != source or q["at"] < start or (end is not None and q["at"] >= end) \
                or q["self_answered"].lower() == "true" or q["query_id"] not in questions:
            continue
        question = questions[q["query_id"]]
        found.append({**q, "text": f"{question.get('title', '')} {question.get('text', '')}",
                      "forum": question["forum"]})
    return found


def rankers_for(data: SplitData, rolling: bool, weights: Weights = FORUM_WEIGHTS
                ) -> dict[str, Callable[[dict[str, Any]], list[str]]]:
    """Every ranking the report compares, for one history: kcrm, its ablations (the text evidence alone:
    prior exponent 0; the activity prior alone: evidence exponent 0), kcrm before issue 19 (with the
    weights its protocol had chosen) and the baselines. One BM25 index serves kcrm's rows."""
    index = data.index(with_answers=True)
    previous = kcrm_ranker(data, PREVIOUS_ROLLING_WEIGHTS if rolling else PREVIOUS_WEIGHTS, standing=rolling,
                           with_answers=False)
    return {"kcrm": kcrm_ranker(data, weights, index=index),
            "kcrm_text_alone": kcrm_ranker(data, text_alone(weights), index=index),
            "kcrm_activity_alone": kcrm_ranker(data, activity_alone(weights), index=index),
            "kcrm_before": previous, "most_active": most_active_ranker(data),
            "recently_active": recently_active_ranker(data, PREVIOUS_ROLLING_WEIGHTS.half_life_days),
            "activity_7d": recently_active_ranker(data, 7.0),
            "bm25_profiles": bm25_profile_ranker(data)}


def rolling_scores(source: str, posts: list[dict[str, Any]], queries: list[dict[str, Any]],
                   weights: Weights = FORUM_WEIGHTS, progress: bool = False) -> dict[str, list[tuple[float, float]]]:
    """(RR@10, P@1) per ranking and query, each query answered from everything posted before it.

    `ceiling` scores 1 when the expert had answered before (no ranking can find anyone else).
    """
    per: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for query in tqdm(queries, desc=f"rolling {source}", disable=not progress):
        data = history_before(source, posts, query["at"])
        for name, ranker in rankers_for(data, rolling=True, weights=weights).items():
            ranking = ranker(query)
            per[name].append((reciprocal_rank(ranking, query["expert"]), precision_at(ranking, query["expert"], 1)))
        seen = float(any(p["author"] == query["expert"] for p in data.answers))
        per["ceiling"].append((seen, seen))
    return per


def evaluate_rolling(posts: list[dict[str, Any]], qrels: list[dict[str, Any]], start: float = 0.8,
                     end: float | None = None, weights: Weights = FORUM_WEIGHTS, progress: bool = False
                     ) -> dict[str, Any]:
    """Rolling protocol: queries asked between the `start` and `end` quantiles of each source's solved
    questions, each ranked from all posts before it (how kcrm is used: the graph holds everything to date)."""
    report: dict[str, Any] = {"start": start, "end": end, "sources": {}}
    totals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for source in sorted({q["source"] for q in qrels}):
        lo = solved_cut(source, qrels, start)
        hi = solved_cut(source, qrels, end) if end is not None else None
        per = rolling_scores(source, posts, window_queries(source, posts, qrels, lo, hi), weights, progress)
        report["sources"][source] = {"queries": len(per["ceiling"]), **_summaries(per)}
        for name, values in per.items():
            totals[name].extend(values)
    report["all"] = {"queries": len(totals["ceiling"]), **_summaries(totals)}
    return report


def recut_by_forum(posts: list[dict[str, Any]], qrels: list[dict[str, Any]]
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The same threads as one community per forum ("docusign/ruby-v1", ...): each forum is split by
    its own time cut and sees only its own history, a different evaluation set from the same posts."""
    forum_of = {p["thread_id"]: p["forum"] for p in posts if p["type"] == "question"}
    new_posts = [{**p, "source": f"{p['source']}/{forum_of.get(p['thread_id'], p['forum'])}"} for p in posts]
    new_qrels = [{**q, "source": f"{q['source']}/{forum_of.get(q['query_id'], q.get('forum', ''))}"} for q in qrels]
    return new_posts, new_qrels


def evaluate_forums(directory: Path, ratio: float = 0.8, progress: bool = False, rolling: bool = True,
                    by_forum: bool = False) -> dict[str, Any]:
    """MRR@10 and P@1 of kcrm, its ablations and the baselines, per source and over all queries.

    Fixed cut (`sources`, `all`): everyone ranked from the history before the `ratio` cut; `ceiling`
    is the share of queries whose expert had answered by then (no ranking can do better). With
    `rolling`, the same test queries are also ranked each from everything before it (`rolling`).
    With `by_forum`, each forum is its own community (`recut_by_forum`).
    """
    posts, qrels = read_dataset(directory)
    if by_forum:
        posts, qrels = recut_by_forum(posts, qrels)
    sources = sorted({q["source"] for q in qrels})
    report: dict[str, Any] = {"dataset": str(directory), "split": ratio, "mode": "in-memory", "by_forum": by_forum,
                              "weights": asdict(FORUM_WEIGHTS), "sources": {}}
    totals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for source in sources:
        data = split_source(source, posts, qrels, ratio)
        rankers = rankers_for(data, rolling=False)
        per: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for query in tqdm(data.queries, desc=f"experts {source}", disable=not progress):
            for name, ranker in rankers.items():
                ranking = ranker(query)
                per[name].append((reciprocal_rank(ranking, query["expert"]), precision_at(ranking, query["expert"], 1)))
            seen = float(any(p["author"] == query["expert"] for p in data.answers))
            per["ceiling"].append((seen, seen))
        report["sources"][source] = {"queries": len(data.queries), "cut": data.cut.isoformat(),
                                     "threads": len(data.threads), **_summaries(per)}
        for name, values in per.items():
            totals[name].extend(values)
    report["all"] = {"queries": len(next(iter(totals.values()), [])), **_summaries(totals)}
    if rolling:
        report["rolling"] = evaluate_rolling(posts, qrels, start=ratio, progress=progress)
    return report


RANKINGS = ("kcrm", "kcrm_text_alone", "kcrm_activity_alone", "kcrm_before", "most_active", "recently_active",
            "activity_7d",
            "bm25_profiles", "ceiling")


def _summaries(per: dict[str, list[tuple[float, float]]]) -> dict[str, dict[str, float]]:
    return {name: {"mrr@10": round(sum(v[0] for v in values) / len(values), 4) if values else 0.0,
                   "p@1": round(sum(v[1] for v in values) / len(values), 4) if values else 0.0}
            for name, values in per.items()}


def format_report(report: dict[str, Any]) -> str:
    """The figures as a small text table (forum sources, all queries, and the held-out sample if present)."""
    lines = [f"{'dataset':<28}{'queries':>8}  {'ranking':<24}{'MRR@10':>8}{'P@1':>8}"]
    rows = [(f"forum {name}", body) for name, body in report.get("sources", {}).items()]
    rows.append(("forum all", report.get("all", {})))
    rolling = report.get("rolling") or {}
    rows += [(f"rolling {name}", body) for name, body in rolling.get("sources", {}).items()]
    if rolling:
        rows.append(("rolling all", rolling["all"]))
    for label, body in rows:
        for name in RANKINGS:
            if name in body:
                lines.append(f"{label:<28}{body['queries']:>8}  {name:<24}{body[name]['mrr@10']:>8.4f}"
                             f"{body[name]['p@1']:>8.4f}")
    held = report.get("held_out")
    if held and "error" in held:
        lines.append(f"held-out sample: not run ({held['error']})")
    elif held:
        lines.append(f"{'held-out sample':<28}{held['held_out']:>8}  {'ranking':<24}{'MRR':>8}{'P@5':>8}")
        for name in ("kcrm", "model2_only", "most_resolved_in_topic"):
            lines.append(f"{'held-out sample':<28}{held['held_out']:>8}  {name:<24}{held[name]['mrr']:>8.4f}"
                         f"{held[name]['p@5']:>8.4f}")
    return "\n".join(lines)
