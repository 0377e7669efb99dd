"""Variable assignments in env files and shell fragments, each word remembered with the line it came from.

Three dialects:
- `systemd`: `EnvironmentFile=` files (systemd.exec): `KEY=VALUE`, `#`/`;` comment lines, single and double
  quotes, backslash escapes and line continuations; a line that is no assignment is an error.
- `environment`: /etc/environment (pam_env): the same, `export` tolerated.
- `shell`: files a shell sources (Tomcat bin/setenv.sh, WildFly standalone.conf, Apache envvars,
  /etc/default/*, /etc/sysconfig/*): `[export] NAME=VALUE` lines anywhere (other lines are commands and are
  skipped), `$NAME`, `${NAME}`, `${NAME:-default}` expanded from earlier assignments, so the usual
  `JAVA_OPTS="$JAVA_OPTS -D..."` keeps each option with the line that added it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"^\s*(?:export\s+|declare\s+(?:-[a-zA-Z]+\s+)*|readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)=")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
DIALECTS = ("systemd", "environment", "shell")


@dataclass(frozen=True, slots=True)
class Word:
    """One whitespace-separated word of a value and where it was written (`FILE:LINE`)."""

    text: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    name: str
    value: str
    words: tuple[Word, ...]
    source: str


@dataclass(slots=True)
class Parsed:
    assignments: list[Assignment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def env(self) -> dict[str, Assignment]:
        """The last assignment of each name."""
        return {a.name: a for a in self.assignments}


class QuoteError(ValueError):
    pass


def logical_lines(text: str, *, comments: str = "#;") -> Iterator[tuple[int, str]]:
    """(first line number, text) of each logical line: a backslash before the line end continues it, and so
    does an open quote; comment lines inside a continuation are dropped (systemd.syntax)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i
        current = lines[i]
        i += 1
        while True:
            state = _open_state(current)
            if state == "backslash":
                current = current[:-1]
                while i < len(lines) and lines[i].lstrip()[:1] in tuple(comments) and lines[i].strip():
                    i += 1
                if i >= len(lines):
                    break
                current += " " + lines[i]
                i += 1
            elif state in ("'", '"'):
                if i >= len(lines):
                    break
                current += "\n" + lines[i]
                i += 1
            else:
                break
        yield start + 1, current


def _scan_quotes(text: str) -> str | None:
    quote: str | None = None
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
            continue
        if ch == "\\" and quote != "'":
            escaped = True
        elif quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
    return quote


def _open_state(line: str) -> str | None:
    quote = _scan_quotes(line)
    if quote is not None:
        return quote
    stripped = line.rstrip("\r")
    tail = len(stripped) - len(stripped.rstrip("\\"))
    return "backslash" if tail % 2 == 1 else None


def split_words(text: str) -> list[str]:
    """systemd/shell word splitting with quotes and backslash escapes (C escapes in double quotes);
    QuoteError on an unterminated quote."""
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is None:
            if ch.isspace():
                if in_word:
                    words.append("".join(current))
                    current, in_word = [], False
            elif ch in "'\"":
                quote, in_word = ch, True
            elif ch == "\\" and i + 1 < len(text):
                i += 1
                current.append(text[i])
                in_word = True
            else:
                current.append(ch)
                in_word = True
        elif ch == quote:
            quote = None
        elif ch == "\\" and quote == '"' and i + 1 < len(text):
            i += 1
            current.append(_ESCAPES.get(text[i], text[i]))
        else:
            current.append(ch)
        i += 1
    if quote is not None:
        raise QuoteError(f"unterminated {quote} quote")
    if in_word:
        words.append("".join(current))
    return words


def _value_segments(
    text: str, env: Mapping[str, Assignment], expand: bool
) -> tuple[list[tuple[str, Assignment | None]], int]:
    """Split a value (up to the first unquoted blank) into literal text and variable references."""
    segments: list[tuple[str, Assignment | None]] = []
    literal: list[str] = []
    quote: str | None = None
    i = 0

    def flush() -> None:
        if literal:
            segments.append(("".join(literal), None))
            literal.clear()

    while i < len(text):
        ch = text[i]
        if quote is None and ch.isspace():
            break
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
        elif ch == "\\" and quote != "'" and i + 1 < len(text):
            i += 1
            nxt = text[i]
            if nxt != "\n":
                literal.append(_ESCAPES.get(nxt, nxt) if quote == '"' and not expand else nxt)
        elif ch == "$" and expand and quote != "'":
            ref, length = _reference(text, i, env)
            if ref is None:
                literal.append(text[i : i + length])
            else:
                flush()
                segments.append(ref)
            i += length
            continue
        else:
            literal.append(ch)
        i += 1
    if quote is not None:
        raise QuoteError(f"unterminated {quote} quote")
    flush()
    return segments, i


def _reference(
    text: str, at: int, env: Mapping[str, Assignment]
) -> tuple[tuple[str, Assignment | None] | None, int]:
    """A `$NAME` / `${NAME}` / `${NAME:-word}` at `at`: (its value and assignment, length); None for
    anything else (`$(...)`, `$1`), kept as literal text."""
    braced = re.match(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=+])([^}]*))?\}", text[at:])
    if braced:
        name, op, word = braced.group(1), braced.group(2), braced.group(3) or ""
        known = env.get(name)
        empty = known is None or (op is not None and op.startswith(":") and not known.value)
        if op is not None and op.endswith(("-", "=")) and empty:
            return (word, None), braced.end()
        if op is not None and op.endswith("+"):
            return ((word, None) if not empty else ("", None)), braced.end()
        return ((known.value, known) if known else ("", None)), braced.end()
    plain = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)", text[at:])
    if plain:
        known = env.get(plain.group(1))
        return ((known.value, known) if known else ("", None)), plain.end()
    return None, 1


def parse(
    text: str, path: str, dialect: str = "systemd", env: Mapping[str, Assignment] | None = None
) -> Parsed:
    """Every assignment in `text` (the file `path`), in order, and every malformed line as `PATH:LINE: why`.

    `env` holds assignments already known (a shell file sourced after others sees them)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    parsed = Parsed()
    known: dict[str, Assignment] = dict(env or {})
    shell = dialect == "shell"
    for number, line in logical_lines(text, comments="#" if shell else "#;"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or (not shell and stripped.startswith(";")):
            continue
        source = f"{path}:{number}"
        match = _ASSIGN.match(line)
        if match is None or (dialect == "systemd" and stripped.startswith(("declare", "readonly"))):
            if not shell:
                parsed.errors.append(f"{source}: not a VARIABLE=VALUE assignment: {_short(stripped)}")
            continue
        name = match.group(1)
        rest = line[match.end() :]
        try:
            segments, end = _value_segments(rest, known, expand=shell)
        except QuoteError as exc:
            parsed.errors.append(f"{source}: {exc}: {_short(stripped)}")
            continue
        if not shell and rest[end:].strip() and not rest[end:].strip().startswith("#"):
            # systemd keeps the whole rest of the line as the value when it is not quoted
            try:
                segments = [(" ".join(split_words(rest)), None)]
            except QuoteError as exc:
                parsed.errors.append(f"{source}: {exc}: {_short(stripped)}")
                continue
        value = "".join(part for part, _ in segments)
        words: list[Word] = []
        for part, ref in segments:
            if ref is not None:
                words.extend(ref.words)
            else:
                words.extend(Word(w, source) for w in part.split())
        assignment = Assignment(name=name, value=value, words=tuple(words), source=source)
        known[name] = assignment
        parsed.assignments.append(assignment)
    return parsed


def _short(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 3] + "..."
