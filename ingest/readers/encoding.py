"""Decode a text file whose encoding nobody told us: UTF-8 (with or without BOM) or GB18030/GBK.

UTF-8 is tried first because it almost never decodes by accident. Bytes that are not UTF-8 are
read as GB18030 (a superset of GBK and GB2312) only when they decode strictly and a statistical
detector agrees they look like Chinese; anything else is an error that names the file, the first
bad byte and the detector's guess, so a person can re-save the file or pass an explicit encoding.
"""

from __future__ import annotations

import codecs
import logging

from charset_normalizer import from_bytes

log = logging.getLogger(__name__)

GB_FAMILY = frozenset({"gb18030", "gbk", "gb2312", "hz"})
DETECT_SAMPLE_BYTES = 256 * 1024
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class EncodingUnknown(ValueError):
    """The bytes could not be decoded with confidence; the message says why and what to do."""


def _position(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"byte 0x{data[offset]:02x} at offset {offset} (line {line})"


def _looks_chinese(data: bytes) -> tuple[bool, str]:
    """Whether the detector ranks a GB encoding among its least chaotic guesses; also its best guess."""
    matches = list(from_bytes(data[:DETECT_SAMPLE_BYTES]))
    if not matches:
        return False, "nothing plausible"
    least = min(m.chaos for m in matches)
    best = min(matches, key=lambda m: m.chaos).encoding
    return any(m.encoding in GB_FAMILY and m.chaos <= least + 0.01 for m in matches), best


def decode_bytes(data: bytes, source: str, encoding: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used); raise EncodingUnknown naming `source` when it cannot tell."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError as exc:
            raise EncodingUnknown(f"{source}: unknown encoding {encoding!r}") from exc
        except UnicodeDecodeError as exc:
            raise EncodingUnknown(f"{source}: not valid {encoding}: {_position(data, exc.start)}") from exc
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise EncodingUnknown(f"{source}: starts with a {name} byte-order mark but is not valid {name}: "
                                      f"{_position(data, exc.start)}") from exc
    head = data[:4096]
    if head and head.count(0) * 10 > len(head):
        raise EncodingUnknown(f"cannot tell the encoding of {source}: it is full of NUL bytes (binary data, or "
                              "UTF-16 without a byte-order mark): re-save it as UTF-8 or name the encoding (--encoding)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = _position(data, exc.start)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        _, guess = _looks_chinese(data)
        raise EncodingUnknown(
            f"cannot tell the encoding of {source}: not UTF-8 (bad {utf8_error}) and not GB18030/GBK; "
            f"it may be {guess}: re-save it as UTF-8 or name the encoding (--encoding)") from None
    chinese, guess = _looks_chinese(data)
    if not chinese:
        raise EncodingUnknown(
            f"cannot tell the encoding of {source}: not UTF-8 (bad {utf8_error}); it decodes as GB18030 but "
            f"reads like {guess}: re-save it as UTF-8 or name the encoding (--encoding)")
    log.info("%s decoded as GB18030", source)
    return text, "gb18030"
