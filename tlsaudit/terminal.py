"""The terminal around a run: whether to colour (`--color`, NO_COLOR) and the progress line on stderr."""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

COLOR_CHOICES = ("auto", "always", "never")


def color_wanted(choice: str, stream: IO[str]) -> bool:
    """`always` and `never` are what they say; `auto` colours a terminal unless NO_COLOR is set to anything
    but the empty string (https://no-color.org: an explicit command-line choice overrides the variable)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR", ""):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Endpoints scanned so far, on stderr, only when it is a terminal and not --quiet; never wider than the
    console (COLUMNS, else the terminal's width)."""

    def __init__(self, enabled: bool, *, color: bool = False, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = enabled and self._stream.isatty()
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        if self.enabled:
            # rich is imported only when there is a terminal to draw on: a piped run starts faster.
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            from tlsaudit.formats.text import make_console

            console = make_console(color, stderr=True)
            self._bar = RichProgress(
                TextColumn("scanned"),
                BarColumn(bar_width=None),
                MofNCompleteColumn(),
                TextColumn("endpoints"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                expand=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("scan", total=0)

    def planned(self, count: int) -> None:
        if self._bar is not None and self._task is not None:
            total = (self._bar.tasks[0].total or 0) + count
            self._bar.update(self._task, total=total)

    def finished(self, _facts: object) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
