"""E-mail (.eml files and mbox archives): each conversation thread becomes one raw row.

Messages are threaded by Message-ID, In-Reply-To and References (and, for replies without those
headers, by their subject), across every file of the run, so a thread saved as several .eml files
is still one support case. A row carries the thread's subject, first sender, first and last
date, every message, and a transcript for search.
"""

from __future__ import annotations

import email
import hashlib
import mailbox
import re
from collections.abc import Generator, Iterator, Mapping
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar

from kcrm.ingest.readers.base import BadRow, RawRow, ReadItem, ReadLimits, check_size, file_problem, oversized_field
from kcrm.ingest.readers.text import guess_language, html_to_text
from kcrm.kg.records import Problem

REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|答复|回复|转发)\s*[:：]\s*)+", re.IGNORECASE)
QUOTED = re.compile(r"^(>.*|On .{5,200} wrote:\s*|.{0,60}于.{0,60}写道[:：]\s*)$")
IDS = re.compile(r"<[^<>\s]+>")


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    text = html_to_text(content)[1] if part.get_content_type() == "text/html" else content
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if not QUOTED.match(line.strip())]
    return "\n".join(lines).strip()


def _message(message: EmailMessage, source: str, position: int) -> dict[str, Any]:
    own = (message.get("Message-ID") or "").strip()
    references = IDS.findall(str(message.get("References") or ""))
    reply_to = IDS.findall(str(message.get("In-Reply-To") or ""))
    senders = getaddresses([str(message.get("From") or "")])
    name, address = senders[0] if senders else ("", "")
    date, stamp = None, float("inf")
    if message.get("Date"):
        try:
            parsed = parsedate_to_datetime(str(message["Date"]))
            date, stamp = parsed.isoformat(), parsed.timestamp()
        except (TypeError, ValueError, OverflowError):
            pass
    return {
        "message_id": own or f"<{source}#{position}>", "references": references + reply_to,
        "subject": str(message.get("Subject") or "").strip(), "from": address, "from_name": name,
        "to": [addr for _, addr in getaddresses([str(message.get("To") or "")]) if addr],
        "date": date, "body": _body(message), "_source": source, "_position": position, "_stamp": stamp,
    }


def _thread_key(msg: dict[str, Any], roots: dict[str, str], subjects: dict[str, str]) -> str:
    for ref in msg["references"]:
        if ref in roots:
            return roots[ref]
    if msg["references"]:
        return msg["references"][0]
    topic = REPLY_PREFIX.sub("", msg["subject"]).strip().lower()
    if REPLY_PREFIX.match(msg["subject"]) and topic in subjects:
        return subjects[topic]
    return msg["message_id"]


def _transcript(messages: list[dict[str, Any]]) -> str:
    parts = []
    for msg in messages:
        sender = f"{msg['from_name']} <{msg['from']}>" if msg["from_name"] else msg["from"]
        parts.append(f"From: {sender}\nDate: {msg['date'] or 'unknown'}\n\n{msg['body']}")
    return "\n\n---\n\n".join(parts)


class EmailReader:
    """.eml (one message per file) and mbox archives; threads may span files."""

    format: ClassVar[str] = "email"
    extensions: ClassVar[tuple[str, ...]] = (".eml", ".mbox")
    default_mapping: ClassVar[str | None] = "email"

    def read(self, path: Path, source: str, limits: ReadLimits, options: Mapping[str, Any]) -> Iterator[ReadItem]:
        return self.read_many([(path, source)], limits, options)

    def read_many(self, paths: list[tuple[Path, str]], limits: ReadLimits,
                  options: Mapping[str, Any]) -> Iterator[ReadItem]:
        messages: list[dict[str, Any]] = []
        for path, source in paths:
            found = yield from self._messages(path, source, limits)
            messages.extend(found)
        messages.sort(key=lambda m: (m["_stamp"], m["_source"], m["_position"]))
        threads: dict[str, list[dict[str, Any]]] = {}
        roots: dict[str, str] = {}
        subjects: dict[str, str] = {}
        for msg in messages:
            key = _thread_key(msg, roots, subjects)
            roots[msg["message_id"]] = key
            subjects.setdefault(REPLY_PREFIX.sub("", msg["subject"]).strip().lower(), key)
            threads.setdefault(key, []).append(msg)
        counters: dict[str, int] = {}
        for key, thread in threads.items():
            first = min(thread, key=lambda m: (m["_source"], m["_position"]))
            source = first["_source"]
            counters[source] = counters.get(source, 0) + 1
            yield self._row(key, thread, source, counters[source], first["_position"], limits)

    def _messages(self, path: Path, source: str,
                  limits: ReadLimits) -> Generator[ReadItem, None, list[dict[str, Any]]]:
        """Parse one file's messages (a generator that *returns* them, yielding only problems)."""
        too_big = check_size(path, source, limits)
        if too_big:
            yield too_big
            return []
        if path.suffix.lower() != ".mbox":
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if not message.keys():
                yield file_problem(source, "no e-mail headers: not an RFC 5322 message")
                return []
            return [_message(message, source, 1)]
        box = mailbox.mbox(str(path), factory=lambda f: email.message_from_binary_file(f, policy=policy.default),  # type: ignore[call-overload]
                           create=False)
        found = [_message(m, source, n) for n, m in enumerate(box, start=1)]  # type: ignore[arg-type]
        if not found:
            yield file_problem(source, "no messages: an mbox file starts each message with a 'From ' line")
        return found

    @staticmethod
    def _row(key: str, thread: list[dict[str, Any]], source: str, record: int, position: int,
             limits: ReadLimits) -> ReadItem:
        first, last = thread[0], thread[-1]
        text = _transcript(thread)
        data = {
            "thread_id": key, "thread_digest": hashlib.sha256(key.encode("utf-8")).hexdigest()[:16],
            "subject": REPLY_PREFIX.sub("", first["subject"]).strip(), "from": first["from"],
            "from_name": first["from_name"], "opened_at": first["date"], "last_at": last["date"],
            "message_count": len(thread), "text": text, "language": guess_language(text),
            "messages": [{k: v for k, v in m.items() if not k.startswith("_")} for m in thread],
        }
        locator = f"message {position}"
        found = oversized_field(data, limits)
        if found:
            return BadRow(Problem(source, record, "", found[0], found[1], locator), data)
        return RawRow(source, record, data, locator)
