"""Which customer records from different sources are the same customer: keys first, then names.

Pure logic; `kcrm.ingest.dedupe` applies it during ingest. Two records are merged automatically
only when they share a strong key (a normalised e-mail address or phone number) and no strong key
conflicts: different e-mail addresses or phone numbers veto a merge whatever the names say. Names
alone never merge; they make a *possible duplicate* for a person to decide, when one of their names
(a record may carry aliases: a Chinese name, alternative labels) is close enough to one of the
other's: names are NFKC-normalised, case-folded, stripped of punctuation and of legal-form words
(Ltd, GmbH, 有限公司, 集团 …), then compared with rapidfuzz — Latin names as sorted tokens, Chinese
names as characters (no segmentation needed, and a wrong split cannot hide a match), and a
Chinese name against a Latin one through its pinyin (华为 ~ Huawei; a translation such as 联想 ~
Lenovo needs an alias). With `distinct_sources`, a cluster never holds two records of one source:
a source's own keys already say its records are different entities. Clusters are closed
transitively (union-find); each keeps its first record and lists the others with the rule and
score that joined them, so the merge can be recorded with its evidence.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from kcrm.ingest.cleaning import CleaningError, clean_email, clean_phone
from kcrm.nlp.names import is_chinese, normalise_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """A record that may duplicate another: its uid, name and the keys it carries."""

    uid: str
    name: str
    email: str | None = None
    phone: str | None = None
    source: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.name, *self.aliases) if n and n.strip())


@dataclass(frozen=True)
class Merge:
    """`merged` is the same entity as `keep`, by `rule` ('email' or 'phone', a strong key) with `score` (0-100)."""

    keep: str
    merged: str
    rule: str
    score: float


def romanised(name: str) -> str:
    """The name in Latin letters without spaces: pinyin for a Chinese name (legal form dropped first)."""
    norm = normalise_name(name)
    if is_chinese(name):
        norm = "".join(lazy_pinyin(norm))
    return re.sub(r"[^0-9a-z]", "", norm)


_NUMBER = re.compile(r"\d+")


def numbers_of(name: str) -> list[str]:
    """The numbers a name carries, in order ("Store 12", "Fault Test Customer 1-0"), full-width folded."""
    return _NUMBER.findall(unicodedata.normalize("NFKC", name))


def name_similarity(a: str, b: str) -> float:
    """0-100; Chinese compared character by character, Latin token-sorted, Chinese vs Latin through pinyin.

    Names whose numbers differ score 0: "Acme Store 12" and "Acme Store 13" are two customers
    however alike the rest of the text is (one-character edits otherwise score above 90).
    """
    if numbers_of(a) != numbers_of(b):
        return 0.0
    chinese_a, chinese_b = is_chinese(a), is_chinese(b)
    if chinese_a != chinese_b:
        left, right = romanised(a), romanised(b)
        return float(fuzz.ratio(left, right)) if len(left) >= 4 and len(right) >= 4 else 0.0
    left, right = normalise_name(a), normalise_name(b)
    if not left or not right:
        return 0.0
    if chinese_a:
        return float(fuzz.ratio(left, right))
    return float(fuzz.token_sort_ratio(left, right))


def best_similarity(a: Candidate, b: Candidate) -> float:
    """The best similarity between any name of `a` and any name of `b`."""
    return max((name_similarity(x, y) for x in a.names for y in b.names), default=0.0)


def _blocks(cand: Candidate) -> set[str]:
    """Blocking keys: first character of each normalised name, and first letter of each romanised one."""
    keys = set()
    for name in cand.names:
        norm, roman = normalise_name(name), romanised(name)
        if norm:
            keys.add(norm[0])
        if roman:
            keys.add("~" + roman[0])
    return keys


def _key(value: str | None, kind: str) -> str | None:
    if not value or not value.strip():
        return None
    try:
        if kind == "email":
            return clean_email(value)
        digits = re.sub(r"\D", "", clean_phone(value))
    except CleaningError:  # an unusable key is no evidence either way
        return None
    return digits if len(digits) >= 7 else None


@dataclass(frozen=True)
class Possible:
    """`a` and `b` may be one entity; a person decides (`kcrm duplicates`). `evidence` says why and why not."""

    a: str
    b: str
    score: float
    evidence: dict[str, str]


@dataclass(frozen=True)
class Resolution:
    """Automatic merges (strong keys agree, none conflicts) and possible duplicates (for a person)."""

    merges: list[Merge]
    possible: list[Possible]


STRONG_KEYS = ("email", "phone")


def _keys(cand: Candidate) -> dict[str, str]:
    keys = {kind: _key(getattr(cand, kind), kind) for kind in STRONG_KEYS}
    return {kind: key for kind, key in keys.items() if key is not None}


def compare_keys(a: dict[str, str], b: dict[str, str]) -> tuple[list[str], list[str]]:
    """Which strong keys two records (or clusters) share, and which they both carry with different values."""
    agree = [k for k in STRONG_KEYS if k in a and k in b and a[k] == b[k]]
    conflict = [k for k in STRONG_KEYS if k in a and k in b and a[k] != b[k]]
    return agree, conflict


def _evidence(agree: list[str], conflict: list[str], score: float) -> dict[str, str]:
    out = {f"{kind}": "same" for kind in agree}
    out.update({f"{kind}": "different" for kind in conflict})
    out["name"] = f"{score:.1f}"
    return out


def resolve_all(candidates: list[Candidate], threshold: float = 90.0, distinct_sources: bool = False) -> Resolution:
    """Merge only where a strong key (e-mail, phone) agrees and none conflicts; the rest is possible at most.

    Two records with different e-mail addresses or phone numbers are never merged automatically,
    whatever their names: a one-letter name difference (Mary/Mark Wright), a common name (two John
    Smiths), a transliteration (王伟 / Wang Wei) or a company suffix (Ltd / Limited / 有限公司) only
    makes a `Possible` pair with its evidence, for a person to merge or dismiss. A key that agrees
    while another conflicts (a changed e-mail, the same phone) is a possible duplicate too.
    """
    parent = list(range(len(candidates)))
    evidence: dict[int, tuple[int, str, float]] = {}
    sources: dict[int, set[str]] = {i: {c.source} for i, c in enumerate(candidates)}
    keys: dict[int, dict[str, str]] = {i: _keys(c) for i, c in enumerate(candidates)}
    possible: dict[tuple[int, int], Possible] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int, rule: str, score: float) -> bool:
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            return True
        if distinct_sources and sources[root_i] & sources[root_j]:
            return False
        if compare_keys(keys[root_i], keys[root_j])[1]:  # a strong key conflicts: never automatic
            return False
        keep, other = min(root_i, root_j), max(root_i, root_j)
        parent[other] = keep
        sources[keep] |= sources.pop(other)
        keys[keep] = {**keys.pop(other), **keys[keep]}
        evidence.setdefault(other, (keep, rule, score))
        return True

    def suggest(i: int, j: int, score: float) -> None:
        agree, conflict = compare_keys(_keys(candidates[i]), _keys(candidates[j]))
        pair = (min(i, j), max(i, j))
        possible[pair] = Possible(candidates[pair[0]].uid, candidates[pair[1]].uid, round(score, 1),
                                  _evidence(agree, conflict, score))

    for kind in STRONG_KEYS:
        first: dict[str, int] = {}
        for index, cand in enumerate(candidates):
            key = _keys(cand).get(kind)
            if key is None:
                continue
            if key in first:
                i = first[key]
                if not union(i, index, kind, 100.0) and not (distinct_sources and cand.source == candidates[i].source):
                    suggest(i, index, best_similarity(candidates[i], cand))
            else:
                first[key] = index
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, cand in enumerate(candidates):
        for key in _blocks(cand):
            blocks[key].append(index)
    compared: set[tuple[int, int]] = set()
    for members in blocks.values():
        for pos, i in enumerate(members):
            for j in members[pos + 1:]:
                if find(i) == find(j) or (i, j) in compared:
                    continue
                compared.add((i, j))
                if distinct_sources and candidates[i].source == candidates[j].source:
                    continue
                score = best_similarity(candidates[i], candidates[j])
                if score >= threshold:
                    suggest(i, j, score)
    merges = []
    for index, cand in enumerate(candidates):
        root = find(index)
        if root != index:
            _, rule, score = evidence.get(index, (root, "transitive", 0.0))
            merges.append(Merge(candidates[root].uid, cand.uid, rule, round(score, 1)))
    kept_apart = [p for (i, j), p in sorted(possible.items()) if find(i) != find(j)]
    log.debug("resolved %d candidates: %d merges, %d possible duplicates", len(candidates), len(merges),
              len(kept_apart))
    return Resolution(merges, kept_apart)


def resolve(candidates: list[Candidate], threshold: float = 90.0, distinct_sources: bool = False) -> list[Merge]:
    """The automatic merges only (see `resolve_all`): each folds a duplicate into its cluster's first record."""
    return resolve_all(candidates, threshold, distinct_sources).merges


__all__ = ["Candidate", "Merge", "Possible", "Resolution", "compare_keys", "resolve_all", "best_similarity", "is_chinese", "name_similarity", "normalise_name", "resolve",
           "romanised"]
