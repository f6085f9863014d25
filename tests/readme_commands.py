"""Every line of the README's shell blocks, and what the tests do with each.

A README command rots silently: a flag is renamed, a subcommand moves, an example needs a role
its key lacks. So each line of every ```bash block lands in exactly one class of `RULES`:

- `run`: executed by `tests/e2e/test_readme_examples.py` against the session's test stack
  (the demo's URL replaced by the test server's, `kcrm` pointed at the test Neo4j and data dir),
  and its exit status checked (curl with `--fail-with-body`, so an HTTP error fails too);
- `kcrm-parse`: too costly or destructive to run here; its arguments are parsed by the real
  click command tree without invoking it, so an unknown option, a renamed subcommand or a
  missing argument fails;
- `script-flags`: a benchmark script; each `--flag` used must be one its parser defines;
- `make-target`: the Makefile must define the target;
- `pip-extra`: the extra named must exist in `pyproject.toml`;
- `placeholder`: a line that stands for a value the test supplies (the demo key).

A line no rule matches, or more than one, fails `tests/unit/test_readme_commands.py`, so a new
README command has to be classified here, with its reason.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # typer >= 0.26 carries its own copy of click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SHELL_FENCES = ("bash", "sh", "shell", "console", "zsh")

ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=(?:\$\(.*\)|\"[^\"]*\"|'[^']*'|\S*)")
ENV_PREFIX = re.compile(r"((?:[A-Za-z_][A-Za-z0-9_]*=[^\s'\"$]*\s+)+)(.+)")


@dataclass(frozen=True)
class Line:
    """One command of a README shell block: continuations joined, comment cut, `a && b` split."""

    number: int  # the README line it starts on
    text: str

    @property
    def env(self) -> dict[str, str]:
        """`NAME=value` words before the command (none for a plain assignment line)."""
        if ASSIGNMENT.fullmatch(self.text):
            return {}
        match = ENV_PREFIX.fullmatch(self.text)
        return dict(word.split("=", 1) for word in match.group(1).split()) if match else {}

    @property
    def command(self) -> str:
        """The command without its environment prefix and with `.venv/bin/` dropped from its program."""
        text = self.text
        if not ASSIGNMENT.fullmatch(text):
            match = ENV_PREFIX.fullmatch(text)
            text = match.group(2) if match else text
        return text.removeprefix(".venv/bin/")

    @property
    def assigns(self) -> str | None:
        """The variable a plain `NAME=value` line sets."""
        return self.text.split("=", 1)[0] if ASSIGNMENT.fullmatch(self.text) else None


def _outside_quotes(text: str) -> list[bool]:
    """For each character of a shell line: is it outside single and double quotes?"""
    flags, quote, escaped = [], None, False
    for ch in text:
        flags.append(quote is None and not escaped)
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
    return flags


def strip_comment(text: str) -> str:
    """The line without its `# comment` (a `#` inside quotes or inside a word stays)."""
    outside = _outside_quotes(text)
    for i, ch in enumerate(text):
        if ch == "#" and outside[i] and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip()
    return text.rstrip()


def split_and(text: str) -> list[str]:
    """`a && b` as ["a", "b"] (an `&&` inside quotes is not a separator)."""
    outside = _outside_quotes(text)
    parts, start = [], 0
    for i in range(len(text) - 1):
        if text[i:i + 2] == "&&" and outside[i] and outside[i + 1] and i >= start:
            parts.append(text[start:i].strip())
            start = i + 2
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def shell_lines(markdown: str) -> list[Line]:
    """Every command of every shell-fenced block of a Markdown text, in order."""
    lines: list[Line] = []
    in_block, pending, pending_at = False, "", 0
    for number, raw in enumerate(markdown.splitlines(), start=1):
        fence = raw.strip()
        if not in_block:
            if fence.startswith("```") and fence[3:].strip().lower() in SHELL_FENCES:
                in_block = True
            continue
        if fence.startswith("```"):
            if pending:
                raise ValueError(f"README line {pending_at}: a `\\` continuation runs into the end of its block")
            in_block = False
            continue
        if not pending:
            pending_at = number
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        text = strip_comment(pending + raw.strip())
        pending = ""
        lines.extend(Line(pending_at, part) for part in split_and(" ".join(text.split())) if part)
    if in_block:
        raise ValueError("a shell block of the README is never closed")
    return lines


def readme_lines() -> list[Line]:
    return shell_lines(README.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Rule:
    pattern: str  # matched in full against Line.command
    kind: str
    reason: str


KINDS = ("run", "kcrm-parse", "script-flags", "make-target", "pip-extra", "placeholder")

RULES = (
    Rule(r"make demo", "make-target",
         "installs, starts Neo4j on the demo's ports and serves until stopped; the suite builds its own stack"),
    Rule(r"make test", "make-target", "runs the whole suite, this test among it"),
    Rule(r"export KEY=\.\.\.", "placeholder", "stands for the key `make demo` prints; the test exports the session's"),
    Rule(r"curl .*", "run", "an HTTP call: sent to the test server, an HTTP error fails it (--fail-with-body)"),
    Rule(r"KEY=\$\(kcrm keys create .*\)", "run", "makes a key in the test state; later lines use it"),
    Rule(r"H=\".*\"", "run", "sets the header later lines send"),
    Rule(r"kcrm neo4j status", "run", "read-only"),
    Rule(r"kcrm (neo4j start|neo4j stop)", "kcrm-parse",
         "the session's Neo4j is started and stopped by the fixtures, through the same LocalNeo4j; "
         "stopping it here would break every later test"),
    Rule(r"kcrm alerts deliver", "run", "drains the test state's webhook queue, as the API does anyway"),
    Rule(r"kcrm keys (create|list|revoke) .*|kcrm keys list", "run",
         "keys in the test state; KEY_ID is a key this block made, and the test revokes the rest"),
    Rule(r"kcrm audit .*", "run", "read-only"),
    Rule(r"kcrm subject export .*", "run", "read-only (it writes an audit entry)"),
    Rule(r"kcrm subject erase \S+ --dry-run", "run", "--dry-run changes nothing"),
    Rule(r"kcrm export .*", "kcrm-parse",
         "serialises the whole sample graph (32 s on the 2-core machine); tests/e2e/test_rdf_export.py runs "
         "`kcrm export --format F --since D` on a slice and reads it back"),
    Rule(r"kcrm (backup|restore) .*", "kcrm-parse",
         "stops, dumps and restarts the bundled Neo4j, or replaces the data dir; tests/e2e/test_backup.py "
         "does both on a Neo4j of its own"),
    Rule(r"python benchmarks/\w+\.py .*", "script-flags",
         "a benchmark of minutes with its own servers or datasets; tests/e2e/test_benchmarks_smoke.py runs "
         "each script small"),
    Rule(r"pip install -e '\.\[\w+\]'", "pip-extra", "installs packages; the extra must exist"),
)


def classify(line: Line) -> Rule:
    """The one rule a line matches; ValueError when none or several do."""
    matched = [rule for rule in RULES if re.fullmatch(rule.pattern, line.command)]
    if len(matched) != 1:
        what = "no rule" if not matched else f"{len(matched)} rules ({', '.join(r.pattern for r in matched)})"
        raise ValueError(f"README line {line.number}: {line.text!r} matches {what} of "
                         "tests/readme_commands.RULES; classify it (run, or checked without running) with a reason")
    return matched[0]


def kcrm_argv(line: Line) -> list[str] | None:
    """The arguments after `kcrm` when the line's command is kcrm itself."""
    words = shlex.split(line.command)
    return words[1:] if words and words[0] == "kcrm" else None


def parse_kcrm(args: list[str]) -> list[str]:
    """Parse `kcrm ARGS` with the real click command tree, invoking nothing; the command path.

    Raises click's (typer's) UsageError (unknown option or command, missing argument, bad value).
    """
    import typer

    from kcrm.cli import app

    command: Any = typer.main.get_command(app)
    name, path, parent = "kcrm", [], None
    while True:
        ctx = command.make_context(name, list(args), parent=parent, resilient_parsing=False)
        path.append(name)
        if not hasattr(command, "resolve_command"):  # a leaf command, not a group
            return path
        protected = ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args  # click < 8.2
        rest = [*protected, *ctx.args]
        if not rest and getattr(command, "invoke_without_command", False):  # `kcrm mine` runs the whole pipeline
            return path
        if not rest:
            raise click_exceptions.UsageError(f"{' '.join(path)} needs a subcommand", ctx=ctx)
        sub_name, sub, args = command.resolve_command(ctx, rest)
        assert sub is not None and sub_name is not None
        name, command, parent = sub_name, sub, ctx


def script_flags(script: Path) -> set[str]:
    """The option strings an argparse script defines (literal `add_argument("--x", ...)` calls)."""
    flags: set[str] = {"-h", "--help"}
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            flags.update(arg.value for arg in node.args
                         if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("-"))
    return flags


def used_flags(words: list[str]) -> set[str]:
    return {word.split("=", 1)[0] for word in words if word.startswith("-")}


def make_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return {target for match in re.finditer(r"^([\w.\-/ $()]+?)\s*::?(?!=)", text, re.M)
            for target in match.group(1).split()}


def pip_extras() -> set[str]:
    with (REPO / "pyproject.toml").open("rb") as f:
        return set(tomllib.load(f)["project"].get("optional-dependencies", {}))


def setting_env_names() -> set[str]:
    """Every environment variable Settings reads."""
    from pydantic import AliasChoices

    from kcrm.foundation.config import Settings

    names = set()
    for field_name, field in Settings.model_fields.items():
        names.add(f"KCRM_{field_name.upper()}")
        if isinstance(field.validation_alias, AliasChoices):
            names.update(str(choice).upper() for choice in field.validation_alias.choices)
        elif isinstance(field.validation_alias, str):
            names.add(field.validation_alias.upper())
    return names


DEMO_BASES = ("http://127.0.0.1:8000", "localhost:8000")
PLACEHOLDERS = ("SUB_ID", "KEY_ID")  # ids a README line uses that an earlier line of its block made


def prepared(text: str, base: str, values: dict[str, str]) -> str:
    """A `run` line as the test runs it: at the test server, placeholders filled, curl failing on HTTP errors."""
    for demo in DEMO_BASES:
        text = text.replace(demo, base)
    for name in PLACEHOLDERS:
        if re.search(rf"\b{name}\b", text):
            if name not in values:
                raise ValueError(f"{text!r} uses {name} before any line made one")
            text = re.sub(rf"\b{name}\b", values[name], text)
    return re.sub(r"^curl ", "curl --fail-with-body ", text)


def prose_kcrm_mentions(markdown: str) -> list[tuple[int, str]]:
    """`kcrm ...` (or `.venv/bin/kcrm ...`) in backticks outside the fenced blocks: (line, text)."""
    mentions, in_block = [], False
    for number, raw in enumerate(markdown.splitlines(), start=1):
        if raw.strip().startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            mentions.extend((number, " ".join(m.split()).removeprefix(".venv/bin/"))
                            for m in re.findall(r"`((?:\.venv/bin/)?kcrm [^`]+)`", raw))
    return mentions


def check_mention(text: str) -> None:
    """A prose mention names real subcommands and real options (`a|b` alternatives and `[...]` parts allowed;
    its arguments are not checked, since prose says `kcrm ingest` without a path)."""
    import typer

    from kcrm.cli import app

    words = shlex.split(re.sub(r"\[([^\]]*)\]", r"\1", text))[1:]
    command: Any = typer.main.get_command(app)
    while words and hasattr(command, "resolve_command") and not words[0].startswith("-"):
        names = words.pop(0).split("|")
        for name in names:  # every alternative must exist; the walk goes on under the last one
            sub = command.get_command(None, name)
            if sub is None:
                raise click_exceptions.UsageError(f"{text!r}: no command {name!r}")
        command = sub
    options = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}
    unknown = {flag for flag in used_flags(words) if flag not in options and flag != "--help"}
    if unknown:
        raise click_exceptions.UsageError(f"{text!r}: no option {', '.join(sorted(unknown))}")
