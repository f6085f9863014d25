"""Plain text out of markup, and a cheap guess at whether a text is Chinese or English."""

from __future__ import annotations

import re
from html.parser import HTMLParser

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
BLOCK_TAGS = frozenset({"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header",
                        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "hr", "dd", "dt"})
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head"})


def guess_language(text: str) -> str:
    """'zh' when Chinese characters outnumber Latin letters a quarter to one, else 'en'."""
    sample = text[:20_000]
    cjk, latin = len(CJK.findall(sample)), len(LATIN.findall(sample))
    return "zh" if cjk and cjk * 4 >= latin else "en"


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.heading = ""
        self._skip = 0
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_TAGS:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag == "h1":
            self._in_h1 = True
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS and self._skip:
            self._skip -= 1
        if tag == "title":
            self._in_title = False
        if tag == "h1":
            self._in_h1 = False
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._skip:
            return
        if self._in_h1:
            self.heading += data
        self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(title, visible text) of an HTML document; scripts, styles and the head are dropped."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.parts))
    text = re.sub(r" *\n[ \n]*", "\n", text).strip()
    title = " ".join((parser.title or parser.heading).split())
    return title, text


# Every pattern below is applied per line or with bounded repeats: `\s` runs that may cross lines
# and nested lazy groups made a heading of 2,000 spaces take 28 s (issue 13).
_LINK = re.compile(r"!?\[([^[\]\n]{0,500})\]\([^()\n]{0,2000}\)")
_EMPHASIS = re.compile(r"(\*\*|__|`{1,3})")
_HEADING_MARK = re.compile(r"^#{1,6}[ \t]+", re.MULTILINE)
_BULLET = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}\.)[ \t]+", re.MULTILINE)


def _front_matter(markdown: str) -> tuple[str, str]:
    """(front matter, body) when the document opens with a `---` block, else ('', markdown)."""
    lines = markdown.split("\n")
    if not lines or lines[0].strip() != "---":
        return "", markdown
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:])
    return "", markdown


def _heading(line: str) -> str | None:
    """The text of an ATX heading line (`## Title ##`), or None."""
    marks = len(line) - len(line.lstrip("#"))
    if not 1 <= marks <= 6 or len(line) == marks or line[marks] not in " \t":
        return None
    text = line[marks:].strip().rstrip("#").strip()
    return text or None


def markdown_to_text(markdown: str) -> tuple[str, str]:
    """(title, text) of a Markdown document: front matter's title or the first heading; markup removed."""
    title = ""
    front, body = _front_matter(markdown)
    for line in front.split("\n"):
        if line.startswith("title:"):
            title = line[len("title:"):].strip().strip("'\"").strip()
            break
    if not title:
        title = next((found for line in body.split("\n") if (found := _heading(line))), "")
    text = _HEADING_MARK.sub("", body)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    text = _BULLET.sub("", text)
    return title.strip(), text.strip()


def first_line(text: str, limit: int = 200) -> str:
    """The first non-empty line, cut at `limit` characters: a title of last resort."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""
