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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tlsaudit.errors import UsageError
from tlsaudit.formats.base import RenderOptions, ReportFormat

__all__ = ["FORMATS", "RenderOptions", "ReportFormat", "format_for_path", "render", "write_outputs"]


def _lazy(module: str) -> Callable[[dict[str, Any], RenderOptions], str]:
    """Import a format's module when it first renders: a scan that prints text never loads jinja2."""

    def render(report: dict[str, Any], options: RenderOptions) -> str:
        loaded = importlib.import_module(f"tlsaudit.formats.{module}")
        result: str = loaded.render(report, options)
        return result

    return render


FORMATS: dict[str, ReportFormat] = {
    "text": ReportFormat(
        name="text", extensions=(".txt",), description="terminal view", render=_lazy("text")
    ),
    "json": ReportFormat(
        name="json", extensions=(".json",), description="the JSON contract", render=_lazy("json_format")
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


def render(report: dict[str, Any], fmt: str, options: RenderOptions) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return FORMATS[fmt].render(report, options)


def write_outputs(
    report: dict[str, Any], outputs: Sequence[str], fmt: str | None, options: RenderOptions
) -> None:
    """Render `report` into each output (`-` is stdout). `fmt` forces one format for all of them; otherwise
    each file's extension decides, and stdout gets the terminal view."""
    rendered: list[tuple[str, str]] = []
    for output in outputs:
        chosen = fmt or (DEFAULT_STDOUT_FORMAT if output == STDOUT else format_for_path(output))
        rendered.append((output, render(report, chosen, options)))
    for output, content in rendered:
        if output == STDOUT:
            sys.stdout.write(content)
            sys.stdout.flush()
        else:
            write_atomic(Path(output), content)


def write_atomic(path: Path, content: str) -> None:
    """Write `content` to `path` so that readers see the old file or the complete new one, never a part."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
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
