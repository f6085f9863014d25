"""Each README shell line is classified, and those not run against the stack are checked without running.

The `run` lines are executed by `tests/e2e/test_readme_examples.py`; here, without a stack: every
line has exactly one class, every `kcrm` line parses with the real CLI, every benchmark flag exists,
every make target and pip extra exists.
"""

from __future__ import annotations

import shlex
from collections import Counter

import pytest

from tests.readme_commands import (
    KINDS,
    README,
    REPO,
    RULES,
    Line,
    check_mention,
    classify,
    click_exceptions,
    kcrm_argv,
    make_targets,
    parse_kcrm,
    pip_extras,
    prepared,
    prose_kcrm_mentions,
    readme_lines,
    script_flags,
    setting_env_names,
    shell_lines,
    used_flags,
)

LINES = readme_lines()


def test_every_readme_shell_line_lands_in_exactly_one_class() -> None:
    kinds = Counter(classify(line).kind for line in LINES)  # raises on a line no rule (or two) matches
    assert set(kinds) <= set(KINDS)
    assert kinds["run"] >= 20 and len(LINES) >= 30, kinds  # the extraction did not lose the blocks
    used = {classify(line).pattern for line in LINES}
    assert [rule.pattern for rule in RULES if rule.pattern not in used] == [], "a rule no README line needs"


def test_an_unclassified_or_ambiguous_line_fails() -> None:
    with pytest.raises(ValueError, match="matches no rule"):
        classify(Line(1, "kcrm frobnicate --now"))
    with pytest.raises(ValueError, match="matches no rule"):
        classify(Line(1, "rm -rf var"))


def test_the_extraction_joins_continuations_cuts_comments_and_splits_and() -> None:
    text = ("intro\n```bash\nexport KEY=...   # the key\ncurl -s 'a#b' \\\n    -d '{\"x\": 1}'  # note\n"
            "kcrm backup b && kcrm restore b\nFOO=1 BAR=x .venv/bin/python benchmarks/x.py --n 3\n```\n"
            "```\nnot shell\n```\n")
    lines = shell_lines(text)
    assert [(line.number, line.text) for line in lines] == [
        (3, "export KEY=..."), (4, "curl -s 'a#b' -d '{\"x\": 1}'"), (6, "kcrm backup b"), (6, "kcrm restore b"),
        (7, "FOO=1 BAR=x .venv/bin/python benchmarks/x.py --n 3")]
    assert lines[-1].env == {"FOO": "1", "BAR": "x"} and lines[-1].command == "python benchmarks/x.py --n 3"
    assigned = Line(1, "KEY=$(kcrm keys create --name a --role admin --json | python -c 'x')")
    assert assigned.assigns == "KEY" and assigned.env == {}


@pytest.mark.parametrize("line", [line for line in LINES if kcrm_argv(line) is not None],
                         ids=lambda line: f"L{line.number}")
def test_every_kcrm_line_parses_with_the_real_cli(line: Line) -> None:
    args = kcrm_argv(line)
    assert args is not None
    path = parse_kcrm(args)
    assert len(path) >= 2, path


def test_the_cli_parse_check_catches_what_rots() -> None:
    with pytest.raises(click_exceptions.NoSuchOption):
        parse_kcrm(["keys", "list", "--no-such-flag"])
    with pytest.raises(click_exceptions.MissingParameter):
        parse_kcrm(["keys", "create", "--role", "admin"])
    with pytest.raises(click_exceptions.UsageError):
        parse_kcrm(["neo4j", "restart-everything"])
    with pytest.raises(click_exceptions.BadParameter):
        parse_kcrm(["audit", "--limit", "many"])


@pytest.mark.parametrize("line", [line for line in LINES if classify(line).kind == "script-flags"],
                         ids=lambda line: f"L{line.number}")
def test_every_benchmark_flag_the_readme_uses_exists(line: Line) -> None:
    words = shlex.split(line.command)
    script = REPO / words[1]
    assert script.is_file(), words[1]
    assert used_flags(words[2:]) - script_flags(script) == set(), f"{words[1]} defines no such flag"
    assert set(line.env) - setting_env_names() == set(), "an environment variable kcrm does not read"


def test_make_targets_and_pip_extras_exist() -> None:
    targets, extras = make_targets(), pip_extras()
    for line in LINES:
        kind = classify(line).kind
        if kind == "make-target":
            assert shlex.split(line.command)[1] in targets, line
        elif kind == "pip-extra":
            spec = shlex.split(line.command)[-1]
            assert spec.startswith(".[") and spec[2:-1] in extras, line


def test_a_run_line_is_pointed_at_the_test_server_with_its_placeholders_filled() -> None:
    base = "http://127.0.0.1:5555"
    assert prepared("curl -s -H \"$H\" -X DELETE localhost:8000/v1/subscriptions/SUB_ID", base, {"SUB_ID": "s1"}) == \
        "curl --fail-with-body -s -H \"$H\" -X DELETE http://127.0.0.1:5555/v1/subscriptions/s1"
    assert prepared("curl -s http://127.0.0.1:8000/readyz", base, {}) == f"curl --fail-with-body -s {base}/readyz"
    assert prepared("kcrm keys revoke KEY_ID", base, {"KEY_ID": "k9"}) == "kcrm keys revoke k9"
    with pytest.raises(ValueError, match="KEY_ID"):
        prepared("kcrm keys revoke KEY_ID", base, {})


def test_the_kcrm_commands_the_prose_names_exist() -> None:
    """Backticked `kcrm ...` in the prose: every subcommand and option exists (arguments unchecked)."""
    mentions = prose_kcrm_mentions(README.read_text(encoding="utf-8"))
    assert len(mentions) >= 30
    failures = []
    for number, text in mentions:
        try:
            check_mention(text)
        except click_exceptions.UsageError as exc:
            failures.append(f"README line {number}: {exc}")
    assert failures == []
    with pytest.raises(click_exceptions.UsageError, match="no command 'purge'"):
        check_mention("kcrm duplicates list|purge")
    with pytest.raises(click_exceptions.UsageError, match="no option --fast"):
        check_mention("kcrm eval search --fast")
