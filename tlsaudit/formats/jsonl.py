"""JSONL: one line per endpoint, each exactly an object of the report's `endpoints[]` (the schema's
endpoint definition). Nothing else is written: no header, no findings; `tlsaudit report` judges the
endpoints again (and merges any number of such files) to make a report.

`render` writes a finished report's endpoints; `EndpointStream` is what `scan` uses to write each endpoint
as soon as it is finished, one complete line per write, so that a killed scan leaves a valid file.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from tlsaudit.errors import UsageError
from tlsaudit.formats.base import RenderOptions
from tlsaudit.report_types import Report

STDOUT = "-"


def endpoint_line(endpoint: Mapping[str, Any]) -> str:
    """One endpoint object on one line of ASCII: every other character escaped, so that no reader finds a
    line break inside it (Python's str.splitlines also splits at U+2028, U+0085, ...)."""
    return json.dumps(endpoint, ensure_ascii=True, separators=(",", ":")) + "\n"


def render(report: Report, options: RenderOptions) -> str:
    return "".join(endpoint_line(ep) for ep in report.get("endpoints", []))


class EndpointStream:
    """Lines written straight to a file descriptor (no buffer that a Ctrl-C could leave half-flushed).

    `append`: continue an existing stream (scan --resume into the same file); a last line cut short by a
    killed run is removed first (`keep` bytes are kept), so the next line starts on a line of its own.
    """

    def __init__(self, output: str, *, append: bool = False, keep: int | None = None) -> None:
        self.output = output
        self.count = 0
        self.broken = False
        self._owned = output != STDOUT
        if not self._owned:
            sys.stdout.flush()
            self._fd = sys.stdout.fileno()
            return
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        try:
            self._fd = os.open(output, flags, 0o644)
            if append and keep is not None and Path(output).is_file():
                os.ftruncate(self._fd, keep)
                if keep and _last_byte(output) != b"\n":
                    self._write(b"\n")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc

    def write(self, endpoint: Mapping[str, Any]) -> None:
        if self.broken:
            return
        try:
            self._write(endpoint_line(endpoint).encode("ascii"))
        except BrokenPipeError:
            # The reader went away (`scan ... -o - | head`): stop writing; the scan and the exit code go on.
            self.broken = True
            if not self._owned:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._fd)  # nothing else written to stdout may fail at exit
                os.close(devnull)
            return
        self.count += 1

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def close(self) -> None:
        if self._owned and self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> EndpointStream:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


def _last_byte(path: str) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)
