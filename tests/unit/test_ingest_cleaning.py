"""Cleaning makes values comparable: widths, whitespace, dates, phone numbers, e-mail addresses."""

from __future__ import annotations

import pytest

from kcrm.ingest.cleaning import (
    CleaningError,
    clean,
    clean_date,
    clean_datetime,
    clean_email,
    clean_name,
    clean_phone,
    clean_text,
    coerce,
    default_kind,
)
from kcrm.ontology.model import load_ontology


@pytest.mark.parametrize(("raw", "clean_value"), [
    ("ＡＣＭＥ　Trading  Ltd", "ACME Trading Ltd"),
    ("  北京　星辰 科技 ", "北京 星辰 科技"),
    ("Tab\there\x07", "Tab here"),
    ("ｶﾀｶﾅ", "カタカナ"),
])
def test_names_get_nfkc_and_single_spaces(raw: str, clean_value: str) -> None:
    assert clean_name(raw) == clean_value


def test_long_text_keeps_chinese_punctuation_but_narrows_letters_and_digits() -> None:
    text = "退款，谢谢！\r\n\r\n\r\n\r\nＡＸ１ 固件   \r\n"
    assert clean_text(text) == "退款，谢谢！\n\nAX1 固件"


@pytest.mark.parametrize(("raw", "address"), [
    (" Sales@ACME.example.COM ", "sales@acme.example.com"),
    ('"Li Na" <LiNa@Example.CN>', "lina@example.cn"),
    ("mailto:ops@example.org", "ops@example.org"),
    ("ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "info@example.com"),
])
def test_emails_are_bare_and_lower_case(raw: str, address: str) -> None:
    assert clean_email(raw) == address


@pytest.mark.parametrize("raw", ["not-an-address", "a@b", "two@@example.com", "spaces in@example.com"])
def test_bad_emails_are_refused(raw: str) -> None:
    with pytest.raises(CleaningError, match="not an e-mail address"):
        clean_email(raw)


@pytest.mark.parametrize(("raw", "region", "phone"), [
    ("+86 10 65529988", None, "+86 10 6552 9988"),
    ("１３８ ００１３ ８０００", "CN", "+86 138 0013 8000"),
    ("(206) 555-9857", "US", "+1 206-555-9857"),
    ("tel:+4930123456", None, "+49 30 123456"),
    ("030-0074321", None, "030-0074321"),
])
def test_phones_become_international_when_they_parse(raw: str, region: str | None, phone: str) -> None:
    assert clean_phone(raw, region) == phone


@pytest.mark.parametrize(("raw", "reason"), [("call me", "no digits"), ("555-1234; DROP TABLE", "cannot have")])
def test_bad_phones_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(CleaningError, match=reason):
        clean_phone(raw)


@pytest.mark.parametrize(("raw", "day", "moment"), [
    ("2024-03-05", "2024-03-05", "2024-03-05T00:00:00"),
    ("2024/3/5", "2024-03-05", "2024-03-05T00:00:00"),
    ("2024年3月5日", "2024-03-05", "2024-03-05T00:00:00"),
    ("20240305", "2024-03-05", "2024-03-05T00:00:00"),
    ("1996-07-04 00:00:00.000", "1996-07-04", "1996-07-04T00:00:00"),
    ("2024-05-01T10:15:00+02:00", "2024-05-01", "2024-05-01T10:15:00+02:00"),
    ("2024-05-01 10:15Z", "2024-05-01", "2024-05-01T10:15:00+00:00"),
    ("Tue, 1 Jul 2003 10:52:37 +0200", "2003-07-01", "2003-07-01T10:52:37+02:00"),
    ("２０２４－０３－０５", "2024-03-05", "2024-03-05T00:00:00"),
])
def test_dates_in_common_spellings_become_iso(raw: str, day: str, moment: str) -> None:
    assert clean_date(raw) == day and clean_datetime(raw) == moment


@pytest.mark.parametrize(("raw", "reason"), [
    ("03/05/2024", "ambiguous"), ("2024-02-30", "not a valid date"), ("soon", "not a date"),
])
def test_bad_dates_say_why(raw: str, reason: str) -> None:
    with pytest.raises(CleaningError, match=reason):
        clean_date(raw)


def test_an_explicit_date_format_resolves_the_ambiguity() -> None:
    assert clean_date("03/05/2024", "%d/%m/%Y") == "2024-05-03"
    with pytest.raises(CleaningError, match="does not match"):
        clean_date("2024-05-03", "%d/%m/%Y")


@pytest.mark.parametrize(("datatype", "raw", "value"), [
    ("decimal", "1,299.50", 1299.5), ("decimal", "１２.5", 12.5), ("decimal", "$7", 7.0), ("decimal", 3, 3.0),
    ("integer", " 42 ", 42), ("boolean", "yes", True), ("boolean", "否", False), ("string", "x", "x"),
])
def test_source_text_is_converted_to_the_property_type(datatype: str, raw: object, value: object) -> None:
    assert coerce(datatype, raw) == value


@pytest.mark.parametrize(("datatype", "raw", "reason"), [
    ("decimal", "cheap", "not a number"), ("decimal", "nan", "not a finite number"),
    ("integer", "4.5", "not a whole number"), ("boolean", "perhaps", "not true or false"),
])
def test_wrong_types_are_refused(datatype: str, raw: str, reason: str) -> None:
    with pytest.raises(CleaningError, match=reason):
        coerce(datatype, raw)


def test_default_cleaning_follows_the_ontology() -> None:
    props = load_ontology().classes["Customer"].properties
    assert [default_kind(props[n]) for n in ("name", "email", "phone", "customerSince")] == \
        ["name", "email", "phone", "date"]
    assert default_kind(load_ontology().classes["SupportCase"].properties["description"]) == "text"
    assert clean("name", ["  a ", "ｂ"]) == ["a", "b"]
    with pytest.raises(CleaningError, match="unknown cleaning"):
        clean("shout", "x")
