"""Issue 13 finding 3: files are parsed in a child process whose limits reject a hostile file by name."""

from __future__ import annotations

import zipfile
from pathlib import Path

from kcrm.ingest.isolation import ParseLimits, read_isolated
from kcrm.ingest.readers.base import RawRow, ReadLimits
from kcrm.kg.records import Problem

DOCUMENT_XML = ('<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                '2006/main"><w:body>{}</w:body></w:document>')


def docx_bomb(path: Path, paragraphs: int) -> Path:
    """A small DOCX whose document.xml unpacks to paragraphs x 36 bytes (a zip bomb for the XML tree)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                         '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                         'officedocument.wordprocessingml.document.main+xml"/></Types>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                         'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        head, tail = DOCUMENT_XML.split("{}")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:  # streamed: never whole in memory
            member.write(head.encode())
            block = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 10_000
            for _ in range(paragraphs // 10_000):
                member.write(block)
            member.write(tail.encode())
    return path


def test_rows_of_a_good_file_come_back(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("name,email\nLi Na,li@example.cn\n", encoding="utf-8")
    items = list(read_isolated("csv", [(tmp_path / "c.csv", "c.csv")], ReadLimits(), {}, ParseLimits()))
    assert items == [RawRow("c.csv", 1, {"name": "Li Na", "email": "li@example.cn"}, "line 2")]


def test_memory_limit_rejects_the_whole_file_and_names_the_limit(tmp_path: Path) -> None:
    bomb = docx_bomb(tmp_path / "bomb.docx", 3_000_000)
    assert bomb.stat().st_size < 1_000_000
    items = list(read_isolated("docx", [(bomb, "bomb.docx")], ReadLimits(), {}, ParseLimits(memory_mb=96)))
    assert len(items) == 1 and isinstance(items[0], Problem)
    assert "memory limit of 96 MiB (KCRM_INGEST_PARSE_MAX_MB)" in items[0].reason and items[0].source == "bomb.docx"


def test_wall_clock_limit_rejects_and_names_the_limit(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[1]", encoding="utf-8")
    items = list(read_isolated("json", [(tmp_path / "a.json", "a.json")], ReadLimits(), {}, ParseLimits(wall_s=0.01)))
    assert [type(i) for i in items] == [Problem] and "KCRM_INGEST_PARSE_WALL_S" in items[0].reason


def test_every_file_of_a_failed_group_is_rejected(tmp_path: Path) -> None:
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text("[1]", encoding="utf-8")
    files = [(tmp_path / "a.json", "a.json"), (tmp_path / "b.json", "b.json")]
    items = list(read_isolated("json", files, ReadLimits(), {}, ParseLimits(wall_s=0.01)))
    assert sorted(i.source for i in items) == ["a.json", "b.json"]
