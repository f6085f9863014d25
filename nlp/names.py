"""Names in a comparable form: which are Chinese, and the normal form matching and linking compare.

Shared by entity resolution (`ingest/resolve.py`) and the entity ruler (`kcrm.nlp.extraction`),
so a name the ruler finds and a name deduplication compares are normalised the same way.
"""

from __future__ import annotations

import re
import unicodedata

LEGAL_LATIN = frozenset("""ltd limited inc incorporated corp corporation co company llc plc gmbh ag sa sarl
bv nv oy ab as kk pte pty srl spa group holdings""".split())
LEGAL_CJK = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


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
