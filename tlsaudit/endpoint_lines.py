"""Read a JSONL stream of endpoints (`scan --format jsonl`): one endpoint object of the report's
`endpoints[]` per line, each checked against the schema's endpoint definition.

A scan that was killed may leave its last line cut short (no newline at the end, not valid JSON): that
line is set aside (`incomplete_line`) and its endpoint counts as not scanned. Any other bad line is an
error naming the file and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tlsaudit.errors import ReportInputError

JSONL_EXTENSIONS = (".jsonl", ".ndjson")


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointLines:
    source: str
    endpoints: tuple[tuple[int, dict[str, Any]], ...]  # (line number, endpoint object)
    incomplete_line: int | None = None  # the cut-off last line that was ignored
    complete_size: int = 0  # bytes up to the end of the last complete line


@cache
def _endpoint_validator() -> Any:
    from jsonschema import Draft202012Validator

    from tlsaudit.report import report_schema

    schema = report_schema()
    endpoint_schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/endpoint"}
    return Draft202012Validator(endpoint_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def endpoint_errors(item: Any) -> list[str]:
    """Every way `item` breaks the schema's endpoint definition (empty when valid)."""
    errors = sorted(_endpoint_validator().iter_errors(item), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors]


def parse_endpoint_lines(data: bytes, source: str) -> EndpointLines:
    """The endpoints of a JSONL stream's bytes; see the module's description for the cut-off last line."""
    endpoints: list[tuple[int, dict[str, Any]]] = []
    lines = data.split(b"\n")
    complete_size = 0
    incomplete: int | None = None
    for number, raw in enumerate(lines, start=1):
        last = number == len(lines)  # after the final newline: empty, or a line cut short
        if not raw.strip():
            if not last:
                complete_size += len(raw) + 1
            continue
        try:
            item = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if last:
                incomplete = number
                break
            raise ReportInputError(f"{source}:{number}: not a JSON line: {exc}") from exc
        problems = endpoint_errors(item)
        if problems:
            shown = "; ".join(problems[:3])
            raise ReportInputError(f"{source}:{number}: not a tlsaudit endpoint object: {shown}")
        endpoints.append((number, item))
        complete_size += len(raw) + (0 if last else 1)
    return EndpointLines(
        source=source, endpoints=tuple(endpoints), incomplete_line=incomplete, complete_size=complete_size
    )


def read_endpoint_lines(path: Path) -> EndpointLines:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_endpoint_lines(data, str(path))


def looks_like_jsonl(path: Path, data: bytes) -> bool:
    """A JSONL stream of endpoints rather than a JSON report: by its extension, else by its first line
    being an object with endpoint keys and no `schema_version`."""
    if path.name.lower().endswith(JSONL_EXTENSIONS):
        return True
    first = data.lstrip().split(b"\n", 1)[0]
    try:
        item = json.loads(first.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(item, dict) and "schema_version" not in item and "protocols" in item


def is_stream(path: Path) -> bool:
    """Whether this input is a JSONL stream (by extension, else by its first line)."""
    if path.name.lower().endswith(JSONL_EXTENSIONS):
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False  # the JSON reader names the problem
    return looks_like_jsonl(path, head)
