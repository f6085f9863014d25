"""Issue 13 finding 1: every pattern applied to ingested input finishes in linear time.

Each hostile input runs in a child interpreter with a timeout: before the fix these took from
seconds to minutes (a Markdown heading of 6,000 spaces, an e-mail cell of `a@` + 200,000 dots + `@`);
the timeout only stops a runaway match, it is not a speed assertion.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from kcrm.ingest.cleaning import EMAIL_PATTERN, CleaningError, clean_email
from kcrm.ingest.readers.text import markdown_to_text
from kcrm.ingest.shacl import shacl_validate
from kcrm.ingest.validate import validate_record
from kcrm.kg.records import record_from_json
from kcrm.ontology.model import load_ontology

HOSTILE = {
    "markdown heading of spaces": "from kcrm.ingest.readers.text import markdown_to_text as f; f('# ' + ' ' * 6000 + 'x')",
    "markdown hash then spaces": "from kcrm.ingest.readers.text import markdown_to_text as f; f('#' + ' ' * 200000)",
    "front matter title of spaces": ("from kcrm.ingest.readers.text import markdown_to_text as f; "
                                     "f('---\\ntitle: ' + ' ' * 200000 + '\\n---\\nx')"),
    "blank lines": "from kcrm.ingest.readers.text import markdown_to_text as f; f('\\n' * 300000)",
    "open brackets": "from kcrm.ingest.readers.text import markdown_to_text as f; f('[' * 1000000)",
    "e-mail of dots": "import re; from kcrm.ingest.cleaning import _EMAIL; _EMAIL.match('a@' + '.' * 200000 + '@')",
    "e-mail cell of dots": ("from kcrm.ingest.cleaning import clean_email, CleaningError\n"
                            "try: clean_email('a@' + '.' * 1000000 + '@')\nexcept CleaningError: pass"),
    "shapes e-mail pattern": ("import re; from kcrm.ontology.model import load_ontology; o = load_ontology(); "
                              "p = o.classes['Customer'].properties['email'].pattern; re.search(p, 'a@' + '.' * 200000 + '@')"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_finishes(name: str) -> None:
    done = subprocess.run([sys.executable, "-c", HOSTILE[name]], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("address, ok", [
    ("li.na@example.cn", True), ("a@b.c", True), ("a@.b.c", True), ("a@b..c", True), ("x@b", False),
    ("a b@c.d", False), ("a@b.c@d", False), ("a@b.c.", False), ("@b.c", False), ("a@", False),
])
def test_email_pattern_keeps_its_meaning(address: str, ok: bool) -> None:
    assert (clean_email(address) == address) if ok else pytest.raises(CleaningError, clean_email, address)


def test_overlong_email_is_refused_with_its_length() -> None:
    with pytest.raises(CleaningError, match="1,000,003 characters"):
        clean_email("a@" + "." * 1_000_000 + "@")


def test_shapes_carry_the_same_email_pattern() -> None:
    ontology = load_ontology()
    specs = [c.properties["email"] for c in ontology.classes.values() if "email" in c.properties]
    assert len(specs) >= 2
    assert all(spec.pattern == EMAIL_PATTERN and spec.max_length == 254 for spec in specs)


def test_pyshacl_and_fast_validator_agree_on_hostile_emails() -> None:
    ontology = load_ontology()
    values = ["ok@example.com", "a@" + "." * 2000 + "@", "x@" + "y" * 300 + ".com", "a@b.c."]
    records = [record_from_json({"type": "Customer", "uid": f"CUS-H{i}", "props": {"name": "N", "email": v}},
                                "t.jsonl", i + 1) for i, v in enumerate(values)]
    shacl = {(p.line, p.field) for p in shacl_validate(ontology, records)}
    fast = {(p.line, p.field) for r in records for p in validate_record(ontology, r)[1]}
    assert shacl == fast == {(2, "props.email"), (3, "props.email"), (4, "props.email")}


def test_markdown_still_reads_titles_links_and_lists() -> None:
    title, text = markdown_to_text("---\ntitle: 'Hello'\n---\n## C# tips ##\n- see [docs](http://x) **now**\n1. two")
    assert title == "Hello" and text == "C# tips ##\nsee docs now\ntwo"
    assert markdown_to_text("# Refund policy\nbody")[0] == "Refund policy"


@pytest.mark.parametrize("uid", ["CUS-\u202e1", "CUS-\u200b1", "CUS-\x001", "CUS-\u20281", "C" * 201])
def test_uids_with_hidden_characters_or_too_long_are_refused(uid: str) -> None:
    record = record_from_json({"type": "Customer", "uid": uid, "props": {"name": "N"}}, "t.jsonl", 1)
    cleaned, problems = validate_record(load_ontology(), record)
    assert cleaned is None and [p.field for p in problems] == ["uid"]


def test_ordinary_uids_pass() -> None:
    record = record_from_json({"type": "Customer", "uid": "客户-0001", "props": {"name": "N"}}, "t.jsonl", 1)
    assert validate_record(load_ontology(), record)[1] == []
