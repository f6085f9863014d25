"""Documents (plain text, Markdown, HTML, PDF, DOCX): one raw row per file.

A row has `title`, `text`, `language`, `format`, `path` (the source name, the stable part of a
document's uid) and, where the file says so, `author` and `published`. A document without
extractable text (a scanned PDF) is a problem, not an empty node.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from kcrm.ingest.readers.base import RawRow, ReadItem, ReadLimits, check_size, file_problem
from kcrm.ingest.readers.encoding import EncodingUnknown, decode_bytes
from kcrm.ingest.readers.text import first_line, guess_language, html_to_text, markdown_to_text


class _DocumentReader:
    format: ClassVar[str] = "text"
    extensions: ClassVar[tuple[str, ...]] = (".txt",)
    default_mapping: ClassVar[str | None] = "documents"

    def read(self, path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        too_big = check_size(path, source, limits)
        if too_big:
            yield too_big
            return
        try:
            title, text, meta = self.extract(path, source, limits, options)
        except (EncodingUnknown, ValueError) as exc:
            yield file_problem(source, str(exc))
            return
        except MemoryError:  # the isolated parser's memory limit: let it name the limit (kcrm.ingest.isolation)
            raise
        except Exception as exc:  # parsers of binary formats raise their own zoo of errors
            if "memory" in str(exc).lower():  # lxml reports a failed malloc as XMLSyntaxError("Memory allocation failed")
                raise MemoryError(str(exc)) from exc
            yield file_problem(source, f"cannot read this {self.format.upper()} file: {type(exc).__name__}: {exc}")
            return
        text = text.strip()
        if not text:
            yield file_problem(source, "no extractable text (a scanned image, or an empty file)", 1)
            return
        if len(text) > limits.max_field_chars:
            yield file_problem(source, f"text is {len(text):,} characters, over the field limit of "
                                       f"{limits.max_field_chars:,}", 1)
            return
        data = {"title": title.strip() or first_line(text) or Path(source).stem, "text": text,
                "language": guess_language(text), "format": self.format, "path": source, **meta}
        yield RawRow(source, 1, data, "document")

    def extract(self, path: Path, source: str, limits: ReadLimits,
                options: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """(title, text, extra fields) of the file."""
        text = decode_bytes(path.read_bytes(), source, options.get("encoding"))[0]
        return first_line(text), text, {}


class TextReader(_DocumentReader):
    """Plain text; the first non-empty line is the title."""


class MarkdownReader(_DocumentReader):
    """Markdown; the front matter's title or the first heading is the title."""

    format: ClassVar[str] = "markdown"
    extensions: ClassVar[tuple[str, ...]] = (".md", ".markdown")

    def extract(self, path: Path, source: str, limits: ReadLimits,
                options: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        title, text = markdown_to_text(decode_bytes(path.read_bytes(), source, options.get("encoding"))[0])
        return title, text, {}


class HtmlReader(_DocumentReader):
    """HTML; <title> or the first <h1> is the title; scripts and styles are dropped."""

    format: ClassVar[str] = "html"
    extensions: ClassVar[tuple[str, ...]] = (".html", ".htm")

    def extract(self, path: Path, source: str, limits: ReadLimits,
                options: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        title, text = html_to_text(decode_bytes(path.read_bytes(), source, options.get("encoding"))[0])
        return title, text, {}


class PdfReader(_DocumentReader):
    """PDF through pypdf (text layer only; no OCR)."""

    format: ClassVar[str] = "pdf"
    extensions: ClassVar[tuple[str, ...]] = (".pdf",)

    def extract(self, path: Path, source: str, limits: ReadLimits,
                options: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        from pypdf import PdfReader as Pdf

        pdf = Pdf(str(path))
        if pdf.is_encrypted and not pdf.decrypt(""):
            raise ValueError("the PDF is encrypted with a password")
        pages = [(page.extract_text() or "").strip() for page in pdf.pages]
        info: Mapping[str, Any] = pdf.metadata or {}
        meta: dict[str, Any] = {"pages": len(pages)}
        if info.get("/Author"):
            meta["author"] = str(info["/Author"])
        created = getattr(info, "creation_date", None) if info else None
        if created:
            meta["published"] = created.date().isoformat()
        return str(info.get("/Title") or ""), "\n\n".join(p for p in pages if p), meta


class DocxReader(_DocumentReader):
    """Word .docx through python-docx: paragraphs and table cells; zip bombs are refused."""

    format: ClassVar[str] = "docx"
    extensions: ClassVar[tuple[str, ...]] = (".docx",)

    def extract(self, path: Path, source: str, limits: ReadLimits,
                options: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        import docx

        try:
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile as exc:
            raise ValueError(f"not a DOCX (zip) file: {exc}") from None
        if unpacked > limits.max_file_bytes:
            raise ValueError(f"unpacks to {unpacked:,} bytes, over the limit of {limits.max_file_bytes:,} bytes "
                             "(a zip bomb?)")
        document = docx.Document(str(path))
        lines = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                lines.append("\t".join(cell.text for cell in row.cells))
        props = document.core_properties
        heading = next((p.text for p in document.paragraphs
                        if p.text.strip() and p.style is not None and p.style.name in ("Title", "Heading 1")), "")
        meta: dict[str, Any] = {}
        if props.author:
            meta["author"] = props.author
        if props.created:
            meta["published"] = props.created.date().isoformat()
        return props.title or heading, "\n".join(lines), meta
