"""Which customer records from different sources are the same customer: keys first, then names.

Pure logic; `kcrm.ingest.dedupe` applies it during ingest. Two records are the same entity
when they share a normalised e-mail address or phone number, or else when one of their names
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

log = logging.getLogger(__name__)

LEGAL_LATIN = frozenset("""ltd limited inc incorporated corp corporation co company llc plc gmbh ag sa sarl
bv nv oy ab as kk pte pty srl spa group holdings""".split())
LEGAL_CJK = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


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
    """`merged` is the same entity as `keep`, by `rule` ('email', 'phone' or 'name') with `score` (0-100)."""

    keep: str
    merged: str
    rule: str
    score: float


def is_chinese(name: str) -> bool:
    """True when most letters of the name are CJK ideographs."""
    letters = [ch for ch in name if ch.isalpha()]
    return bool(letters) and sum(bool(CJK.match(ch)) for ch in letters) * 2 > len(letters)


def normalise_name(name: str) -> str:
    """The comparable form: NFKC, case-folded, no punctuation or legal-form words; CJK without spaces."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = re.sub(r"(?<=\w)[./'’](?=\w)", "", text)  # A/S, S.A., O'Brien: one word
    text = PUNCT.sub(" ", text)
    if is_chinese(text):
        text = re.sub(r"\s+", "", text)
        stripped = True
        while stripped:  # 集团公司, 集团股份有限公司: legal forms stack
            stripped = False
            for suffix in LEGAL_CJK:
                if text.endswith(suffix) and len(text) > len(suffix) + 1:
                    text, stripped = text[: -len(suffix)], True
        return text
    return " ".join(word for word in text.split() if word not in LEGAL_LATIN)


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


def resolve(candidates: list[Candidate], threshold: float = 90.0, distinct_sources: bool = False) -> list[Merge]:
    """The merges that fold duplicates into the first record of each cluster (input order)."""
    parent = list(range(len(candidates)))
    evidence: dict[int, tuple[int, str, float]] = {}
    sources: dict[int, set[str]] = {i: {c.source} for i, c in enumerate(candidates)}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int, rule: str, score: float) -> None:
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            return
        if distinct_sources and sources[root_i] & sources[root_j]:
            return
        keep, other = min(root_i, root_j), max(root_i, root_j)
        parent[other] = keep
        sources[keep] |= sources.pop(other)
        evidence.setdefault(other, (keep, rule, score))

    for kind in ("email", "phone"):
        first: dict[str, int] = {}
        for index, cand in enumerate(candidates):
            key = _key(getattr(cand, kind), kind)
            if key is None:
                continue
            if key in first:
                union(first[key], index, kind, 100.0)
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
                    union(i, j, "name", score)
    merges = []
    for index, cand in enumerate(candidates):
        root = find(index)
        if root != index:
            _, rule, score = evidence.get(index, (root, "transitive", 0.0))
            merges.append(Merge(candidates[root].uid, cand.uid, rule, round(score, 1)))
    log.debug("resolved %d candidates into %d merges", len(candidates), len(merges))
    return merges


__all__ = ["Candidate", "Merge", "best_similarity", "is_chinese", "name_similarity", "normalise_name", "resolve",
           "romanised"]
