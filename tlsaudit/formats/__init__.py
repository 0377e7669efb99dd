"""Output formats, one module each, registered in FORMATS."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tlsaudit.errors import UsageError
from tlsaudit.formats.text import render_text


def render_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[Mapping[str, Any]], str]] = {"json": render_json, "text": render_text}
EXTENSIONS = {".json": "json", ".txt": "text"}


def format_for_path(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise UsageError(f"cannot tell the format of {path!r} from its extension; use --format")
    return EXTENSIONS[suffix]


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written report."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_outputs(report: Mapping[str, Any], outputs: Sequence[str], fmt: str | None) -> None:
    for out in outputs:
        name = fmt or ("text" if out == "-" else format_for_path(out))
        text = FORMATS[name](report)
        if out == "-":
            sys.stdout.write(text)
        else:
            write_atomic(Path(out), text)
