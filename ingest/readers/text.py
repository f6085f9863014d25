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


def markdown_to_text(markdown: str) -> tuple[str, str]:
    """(title, text) of a Markdown document: front matter's title or the first heading; markup removed."""
    title = ""
    body = markdown
    front = re.match(r"^---\s*\n(.*?)\n---\s*\n", markdown, re.DOTALL)
    if front:
        body = markdown[front.end():]
        found = re.search(r"^title:\s*['\"]?(.+?)['\"]?\s*$", front.group(1), re.MULTILINE)
        title = found.group(1) if found else ""
    heading = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", body, re.MULTILINE)
    if not title and heading:
        title = heading.group(1)
    text = re.sub(r"^#{1,6}\s+", "", body, flags=re.MULTILINE)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|`{1,3})", "", text)
    text = re.sub(r"^\s*([-*+]|\d+\.)\s+", "", text, flags=re.MULTILINE)
    return title.strip(), text.strip()


def first_line(text: str, limit: int = 200) -> str:
    """The first non-empty line, cut at `limit` characters: a title of last resort."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""
