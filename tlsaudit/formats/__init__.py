"""Output formats, registered in one dict; the CLI's `--format` choices are its keys.

`write_outputs` renders every requested output first, then writes each one atomically (a temporary file in
the same directory, then os.replace), so an interrupted or failing run never leaves a half-written report.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from tlsaudit.errors import TlsAuditError, UsageError
from tlsaudit.formats.base import RenderOptions, ReportFormat
from tlsaudit.report import normalized
from tlsaudit.report_types import Report

__all__ = [
    "FORMATS",
    "RenderFailure",
    "RenderOptions",
    "ReportFormat",
    "format_for_path",
    "planned_outputs",
    "render",
    "write_outputs",
]


def _lazy(module: str, function: str = "render") -> Callable[[Report, RenderOptions], Any]:
    """Import a format's module when it first renders: a scan that prints text never loads jinja2."""

    def render(report: Report, options: RenderOptions) -> Any:
        return getattr(importlib.import_module(f"tlsaudit.formats.{module}"), function)(report, options)

    return render


FORMATS: dict[str, ReportFormat] = {
    "text": ReportFormat(
        name="text", extensions=(".txt",), description="terminal view", render=_lazy("text")
    ),
    "json": ReportFormat(
        name="json",
        extensions=(".json",),
        description="the JSON contract",
        render=_lazy("json_format"),
        render_chunks=_lazy("json_format", "render_chunks"),
    ),
    "html": ReportFormat(
        name="html", extensions=(".html", ".htm"), description="self-contained report", render=_lazy("html")
    ),
    "junit": ReportFormat(name="junit", extensions=(".xml",), description="JUnit XML", render=_lazy("junit")),
    "sarif": ReportFormat(
        name="sarif", extensions=(".sarif",), description="SARIF 2.1.0", render=_lazy("sarif")
    ),
    "markdown": ReportFormat(
        name="markdown",
        extensions=(".md", ".markdown"),
        description="CI job summary",
        render=_lazy("markdown"),
    ),
    "csv": ReportFormat(
        name="csv", extensions=(".csv",), description="one row per finding", render=_lazy("csv_format")
    ),
    "jsonl": ReportFormat(
        name="jsonl",
        extensions=(".jsonl",),
        description="one endpoint object per line (scan streams it as endpoints finish)",
        render=_lazy("jsonl"),
    ),
}

STDOUT = "-"
DEFAULT_STDOUT_FORMAT = "text"


def format_for_path(path: str) -> str:
    """The format a file name asks for by its extension (`.sarif.json` counts as SARIF)."""
    name = Path(path).name.lower()
    if name.endswith(".sarif.json"):
        return "sarif"
    suffix = Path(name).suffix
    for fmt in FORMATS.values():
        if suffix in fmt.extensions:
            return fmt.name
    known = ", ".join(ext for fmt in FORMATS.values() for ext in fmt.extensions)
    raise UsageError(
        f"cannot tell the report format of {path!r} from its extension (known: {known}); use --format"
    )


def render(report: Mapping[str, Any], fmt: str, options: RenderOptions) -> str:
    """One format of a report, from its normalized copy (every count recomputed the same way)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return _render_prepared(normalized(report), fmt, options)


def _render_prepared(report: Report, fmt: str, options: RenderOptions) -> str:
    result: str = FORMATS[fmt].render(report, options)
    return result


def planned_outputs(outputs: Sequence[str], fmt: str | None) -> list[tuple[str, str]]:
    """(output, format) for each `-o`, checked before any work: every format is known and every file's
    folder exists and is writable. tlsaudit never creates folders. A problem is a UsageError (exit 2)."""
    planned: list[tuple[str, str]] = []
    for output in outputs or [STDOUT]:
        chosen = fmt or (DEFAULT_STDOUT_FORMAT if output == STDOUT else format_for_path(output))
        if chosen not in FORMATS:
            raise UsageError(f"unknown format {chosen!r} (choose from {', '.join(FORMATS)})")
        if output != STDOUT:
            _check_writable(Path(output))
        planned.append((output, chosen))
    return planned


def _check_writable(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(
            f"cannot write {path}: the folder {folder} does not exist (tlsaudit creates no folders)"
        )
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {path}: the folder {folder} is not writable")


class RenderFailure(TlsAuditError):
    """One or more formats could not be rendered (a bug): the others were written; exit code 4."""

    def __init__(self, failures: Sequence[tuple[str, str, BaseException]]) -> None:
        self.failures = list(failures)
        names = ", ".join(f"{fmt} ({output})" for output, fmt, _ in self.failures)
        first = self.failures[0][2]
        super().__init__(
            f"internal error while rendering {names}: {type(first).__name__}: {first}; "
            "the other outputs were written (run with --debug for the traceback)"
        )


def write_outputs(
    report: Mapping[str, Any],
    outputs: Sequence[str],
    fmt: str | None,
    options: RenderOptions,
    *,
    is_normalized: bool = False,
) -> None:
    """Render `report` into each output (`-` is stdout). `fmt` forces one format for all of them; otherwise
    each file's extension decides, and stdout gets the terminal view.

    Every format renders from the same normalized copy (verdicts and summary recomputed), unless the caller
    says `report` already is one (`is_normalized`: what `tlsaudit.report.normalized` returned, unchanged).
    A format that fails never costs the others their files: they are written, then RenderFailure names
    what failed."""
    planned = planned_outputs(outputs, fmt)
    prepared = cast(Report, report) if is_normalized else normalized(report)
    rendered: list[tuple[str, str | list[str]]] = []
    failures: list[tuple[str, str, BaseException]] = []
    for output, chosen in planned:
        try:
            in_chunks = FORMATS[chosen].render_chunks
            content = (
                _render_prepared(prepared, chosen, options)
                if in_chunks is None
                else in_chunks(prepared, options)
            )
            rendered.append((output, content))
        except UsageError:
            raise
        except Exception as exc:  # a renderer bug: keep going, report it after writing the rest
            failures.append((output, chosen, exc))
    for output, content in rendered:
        if output == STDOUT:
            sys.stdout.writelines(_pieces(content))
            sys.stdout.flush()
        else:
            write_atomic(Path(output), content)
    if failures:
        raise RenderFailure(failures)


def _pieces(content: str | Sequence[str]) -> Sequence[str]:
    return [content] if isinstance(content, str) else content


def write_atomic(path: Path, content: str | Sequence[str]) -> None:
    """Write `content` (text, or text in pieces) to `path` so that readers see the old file or the complete
    new one, never a part.
    A path that exists and is not a regular file (/dev/null, a FIFO, a terminal) is written to in place:
    renaming over it would replace the device with a file."""
    if path.exists() and not path.is_file():
        try:
            with path.open("w", encoding="utf-8", newline="") as handle:
                handle.writelines(_pieces(content))
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(_pieces(content))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
