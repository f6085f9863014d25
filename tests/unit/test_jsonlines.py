"""JSON Lines data-set reading: blank lines skipped, bad lines named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcrm.foundation.errors import DatasetInvalid
from kcrm.jsonlines import json_objects


def test_objects_come_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"_id": "a"}\n\n{"_id": "b", "text": "退款"}\n', encoding="utf-8")
    assert list(json_objects(path, DatasetInvalid)) == [(1, {"_id": "a"}), (3, {"_id": "b", "text": "退款"})]


@pytest.mark.parametrize(("line", "words"), [("{oops", "not JSON"), ("[1, 2]", "not a JSON object")])
def test_bad_lines_raise_the_given_error_with_file_and_line(tmp_path: Path, line: str, words: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"_id": "a"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DatasetInvalid, match=rf"rows\.jsonl:2: {words}"):
        list(json_objects(path, DatasetInvalid))
