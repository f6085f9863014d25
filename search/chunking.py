"""Split an item's text into passages small enough for one embedding each.

A whole support case or policy embedded as one vector blurs its parts together; passages of a few
sentences keep a query close to the paragraph that answers it. Breaks fall at paragraph ends,
then sentence ends (English `.!?`, Chinese `。！？；`), and only as a last resort inside a
sentence. Neighbouring chunks overlap by a sentence or so, so an answer cut by a break is still
whole in one of them. Offsets index the original text, so a caller can highlight the passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_TARGET_CHARS = 500
DEFAULT_OVERLAP_CHARS = 80

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# A sentence ends after Chinese 。！？； (no space needed), after an English .!? followed by
# whitespace (closing quotes/brackets stay with their sentence), or at a single line break.
_SENTENCE_END = re.compile(
    r"[。！？；!?][”’」』）)\"']*"
    r"|[.!?][\"')\]]*(?=\s)"
    r"|\n"
)
# Inside an over-long sentence, prefer to cut after a comma-like mark or a space.
_SOFT_BREAK = re.compile(r"[，、,;；：:]\s*|\s+")


@dataclass(frozen=True)
class Chunk:
    """One passage: `text == source[start:end]`; `embed_text` adds the title for context."""

    chunk_id: str
    uid: str
    n: int
    start: int
    end: int
    text: str
    embed_text: str


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an over-long one) with its offsets and paragraph start flag."""

    start: int
    end: int
    opens_paragraph: bool

    @property
    def size(self) -> int:
        return self.end - self.start


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span so it neither begins nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    return [span for span in (_strip_span(text, *s) for s in spans) if span[0] < span[1]]


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    position = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((position, match.end()))
        position = match.end()
    spans.append((position, end))
    return [span for span in (_strip_span(text, *s) for s in spans) if span[0] < span[1]]


def _split_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than `limit` at soft breaks in the last 40% of each window."""
    pieces: list[tuple[int, int]] = []
    while end - start > limit:
        window_end = start + limit
        cut = window_end
        floor = start + int(limit * 0.6)
        for match in _SOFT_BREAK.finditer(text, floor, window_end):
            cut = match.end() if match.end() <= window_end else match.start()
        if cut <= start:
            cut = window_end
        piece = _strip_span(text, start, cut)
        if piece[0] < piece[1]:
            pieces.append(piece)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _units(text: str, target: int) -> list[_Unit]:
    units: list[_Unit] = []
    for p_start, p_end in _paragraphs(text):
        first = True
        for s_start, s_end in _sentences(text, p_start, p_end):
            for u_start, u_end in _split_long(text, s_start, s_end, target):
                units.append(_Unit(u_start, u_end, first))
                first = False
    return units


def _overlap_start(units: list[_Unit], first: int, last: int, overlap: int, target: int) -> int:
    """Index of the first unit to repeat at the head of the next chunk (`last + 1` for none).

    No overlap across a paragraph break (the break is a natural one), and never so much that
    the next new unit would not fit beside it.
    """
    following = units[last + 1]
    index = last + 1
    if following.opens_paragraph:
        return index
    used = 0
    while (index - 1 > first and used + units[index - 1].size <= overlap
           and following.end - units[index - 1].start <= target):
        index -= 1
        used += units[index].size
    return index


def _pack(units: list[_Unit], target: int, overlap: int) -> list[tuple[int, int]]:
    """Greedily fill chunks with whole units; returns (first, last) unit indexes per chunk."""
    groups: list[tuple[int, int]] = []
    first = 0
    while first < len(units):
        last = first
        length = units[first].size
        while last + 1 < len(units):
            candidate = units[last + 1]
            grown = candidate.end - units[first].start
            if grown > target:
                break
            if candidate.opens_paragraph and length >= target // 2:
                break  # a paragraph end is a better break than a fuller chunk
            last += 1
            length = grown
        groups.append((first, last))
        if last + 1 >= len(units):
            break
        first = _overlap_start(units, first, last, overlap, target)
    return groups


def chunk_text(uid: str, title: str, text: str, target_chars: int = DEFAULT_TARGET_CHARS,
               overlap_chars: int = DEFAULT_OVERLAP_CHARS) -> list[Chunk]:
    """The passages of one item, in order; always at least one, so a title-only item is findable.

    `target_chars` bounds each chunk's own text (a longer sentence is cut); the title is
    prefixed to `embed_text` on top of it. `overlap_chars` is how much trailing text, in whole
    sentences, the next chunk repeats.
    """
    if target_chars < 50:
        raise ValueError("target_chars must be at least 50")
    if not 0 <= overlap_chars < target_chars // 2:
        raise ValueError("overlap_chars must be between 0 and half of target_chars")
    title = " ".join(title.split())
    units = _units(text, target_chars)
    if not units:
        return [Chunk(f"{uid}#0", uid, 0, 0, 0, "", passage_text(title, ""))]
    chunks: list[Chunk] = []
    for n, (first, last) in enumerate(_pack(units, target_chars, overlap_chars)):
        start, end = units[first].start, units[last].end
        body = text[start:end]
        chunks.append(Chunk(f"{uid}#{n}", uid, n, start, end, body, passage_text(title, body)))
    return chunks


def passage_text(title: str, body: str) -> str:
    """What the embedding model reads for one chunk: the item's title (whitespace folded) over its text.

    A stored chunk's `title` and `text` give it back, so a rebuild can tell which passages it
    already has vectors for (`semantic.ReusingEmbedder`).
    """
    title = " ".join(title.split())
    return f"{title}\n{body}" if title and body else (body or title)
