"""Readers on a real file of every format, encoding detection, and the entry-point registry."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kcrm.foundation.errors import IngestError
from kcrm.ingest import readers
from kcrm.ingest.readers import available_formats, format_for, get_reader
from kcrm.ingest.readers.base import RawRow, ReadLimits
from kcrm.ingest.readers.encoding import EncodingUnknown, decode_bytes
from kcrm.kg.records import Problem

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
LIMITS = ReadLimits()


def rows(fmt: str, relative: str, **options) -> list[RawRow | Problem]:
    path = FIXTURES / relative
    return list(get_reader(fmt).read(path, path.name, LIMITS, options))


def only_rows(items: list) -> list[RawRow]:
    assert not [i for i in items if isinstance(i, Problem)], items
    return items


def test_csv_utf8_rows_carry_source_record_and_line() -> None:
    items = only_rows(rows("csv", "acme/customers.csv"))
    assert [r.record for r in items] == [1, 2, 3]
    assert items[1].data["name"] == "Müller, Schmidt & Co"
    assert items[0].source == "customers.csv" and items[0].locator == "line 2"


def test_csv_with_bom_has_a_clean_first_column_name() -> None:
    (row,) = only_rows(rows("csv", "acme/customers_bom.csv"))
    assert row.data["id"] == "C4"


def test_gbk_csv_is_detected_and_decoded() -> None:
    items = only_rows(rows("csv", "acme/customers_gbk.csv"))
    assert [r.data["name"] for r in items] == ["上海电气集团股份有限公司", "深圳市腾飞物流有限公司"]


def test_tsv_and_thousands_separators_survive_reading() -> None:
    items = only_rows(rows("tsv", "acme/products.tsv"))
    assert items[1].data == {"sku": "P2", "name": "Laser Printer L2", "price": "1,299.50", "currency": "USD",
                             "description": "Monochrome laser printer"}


def test_json_records_at_a_path() -> None:
    items = only_rows(rows("json", "acme/orders.json", records="data.orders"))
    assert [r.data["id"] for r in items] == ["O1", "O2"]
    assert items[0].locator == "$.data.orders[0]" and items[0].data["lines"][1]["sku"] == "P3"


def test_json_lines() -> None:
    items = only_rows(rows("jsonl", "acme/cases.jsonl"))
    assert [r.data["ticket"] for r in items] == ["T1", "T2"]


def test_xml_elements_become_dicts_with_attributes_and_text() -> None:
    items = only_rows(rows("xml", "acme/catalog.xml"))
    assert items[0].data["@sku"] == "P3"
    assert items[0].data["price"] == {"@currency": "USD", "#text": "89.90"}
    assert items[1].data["name"] == {"@lang": "zh", "#text": "云存储服务"}


def test_turtle_subjects_become_rows() -> None:
    items = only_rows(rows("turtle", "rdf/graph.ttl"))
    by_uid = {r.data["uid"]: r.data for r in items}
    assert by_uid["ING-C7"]["IN_SEGMENT"] == {"@id": "https://kcrm.dev/data/ING-SEG-1"}
    assert by_uid["ING-C7"]["@type"] == ["https://kcrm.dev/ontology#Customer"]


def test_json_ld_with_inline_context() -> None:
    (row,) = only_rows(rows("jsonld", "rdf/policy.jsonld"))
    assert row.data["title"] == "Returns within 30 days"


def test_mbox_threads_become_rows_with_their_messages() -> None:
    items = only_rows(rows("email", "mail/support.mbox"))
    assert len(items) == 2
    vat = items[0].data
    assert vat["subject"] == "Invoice shows wrong VAT" and vat["message_count"] == 2
    assert "exemption certificate" in vat["text"] and "> Our invoice" not in vat["text"]
    assert items[1].data["language"] == "zh" and items[1].data["from_name"] == "王强"


def test_a_thread_split_over_eml_files_is_one_row() -> None:
    reader = get_reader("email")
    paths = [(FIXTURES / "mail" / name, name) for name in ("thread-2.eml", "thread-1.eml")]
    (row,) = only_rows(list(reader.read_many(paths, LIMITS, {})))
    assert row.source == "thread-1.eml" and row.data["message_count"] == 2
    assert "firmware to 1.4" in row.data["text"] and "x()" not in row.data["text"]


@pytest.mark.parametrize(("fmt", "name", "title", "phrase"), [
    ("text", "manual.txt", "Router AX1 quick start", "light to turn blue"),
    ("markdown", "faq.md", "Cloud storage FAQ", "“账单”页面续费"),
    ("html", "guide.html", "Docking station guide", "Firmware 1.4 fixes flicker"),
    ("pdf", "datasheet.pdf", "L2 datasheet", "30 pages per minute"),
    ("docx", "handbook.docx", "Employee handbook: escalations", "duty manager within 30 minutes"),
])
def test_documents_give_title_and_text(fmt: str, name: str, title: str, phrase: str) -> None:
    (row,) = only_rows(rows(fmt, f"docs/{name}"))
    assert row.data["title"] == title and phrase in row.data["text"]
    assert row.data["path"] == name and row.data["format"] == fmt


def test_markup_does_not_leak_into_document_text() -> None:
    (html,) = rows("html", "docs/guide.html")
    assert "track()" not in html.data["text"] and "color:red" not in html.data["text"]
    (md,) = rows("markdown", "docs/faq.md")
    assert "**" not in md.data["text"] and "title:" not in md.data["text"]


@pytest.mark.parametrize(("data", "expected"), [
    ("名称,城市\n北京华为科技有限公司,北京\n".encode(), "utf-8"),
    ("\ufeffname\nx\n".encode("utf-8"), "utf-8-sig"),
    ("name\n张三\n".encode("gbk"), "gb18030"),
    ("name\n上海电气集团股份有限公司\n".encode("gb18030"), "gb18030"),
    ("name\nhi\n".encode("utf-16"), "utf-16"),
])
def test_encodings_that_are_detected(data: bytes, expected: str) -> None:
    text, used = decode_bytes(data, "x.csv")
    assert used == expected and text.lstrip("\ufeff").startswith(("名称", "name"))


@pytest.mark.parametrize(("data", "guess"), [
    ("name,city\nMüller GmbH,München\n".encode("latin-1"), "cp125"),
    ("名稱,城市\n台灣積體電路製造,新竹\n鴻海精密工業,台北\n".encode("big5"), "big5"),
])
def test_undetectable_encodings_name_the_file(data: bytes, guess: str) -> None:
    with pytest.raises(EncodingUnknown) as caught:
        decode_bytes(data, "legacy.csv")
    assert "legacy.csv" in str(caught.value) and guess in str(caught.value) and "--encoding" in str(caught.value)


def test_an_explicit_encoding_wins() -> None:
    assert decode_bytes("Müller".encode("latin-1"), "x.csv", "latin-1")[0] == "Müller"
    with pytest.raises(EncodingUnknown, match="unknown encoding"):
        decode_bytes(b"x", "x.csv", "no-such-codec")


def test_registry_knows_every_builtin_format_and_extension() -> None:
    assert set(readers.BUILTIN) <= set(available_formats())
    assert format_for(Path("a.CSV")) == "csv" and format_for(Path("b.mbox")) == "email"
    assert format_for(Path("c.docx")) == "docx" and format_for(Path("d.unknown")) is None
    with pytest.raises(IngestError, match="no reader for format 'yaml'"):
        get_reader("yaml")


PLUGIN = '''
from typing import ClassVar
from kcrm.ingest.readers.base import RawRow

class IniReader:
    format: ClassVar[str] = "ini"
    extensions: ClassVar[tuple[str, ...]] = (".ini",)
    default_mapping: ClassVar[str | None] = None

    def read(self, path, source, limits, options):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            key, _, value = line.partition("=")
            yield RawRow(source, number, {"key": key.strip(), "value": value.strip()})
'''


def test_a_plugin_registers_through_its_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kcrm_ini_plugin.py").write_text(PLUGIN, encoding="utf-8")
    dist = tmp_path / "kcrm_ini_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kcrm-ini-plugin\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[kcrm.readers]\nini = kcrm_ini_plugin:IniReader\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    readers.refresh()
    try:
        assert "ini" in available_formats()
        (tmp_path / "app.ini").write_text("colour = blue\n", encoding="utf-8")
        assert format_for(tmp_path / "app.ini") == "ini"
        (row,) = get_reader("ini").read(tmp_path / "app.ini", "app.ini", LIMITS, {})
        assert row.data == {"key": "colour", "value": "blue"}
    finally:
        monkeypatch.undo()
        sys.modules.pop("kcrm_ini_plugin", None)
        readers.refresh()
    assert "ini" not in available_formats()
