"""Where inspection looks: the I/O an inspector does after discovery, behind one small interface.

`LocalHost` runs programs and reads files on this machine. `tlsaudit.fleet.observed.ObservedHost` answers
the same questions from what the fleet collector recorded on another host, so one inspector turns either
into the same facts. Discovery (which programs exist) stays with each side: the inspectors' `discover` here,
the collector's on a fleet host (kept equal by tests/fleet/test_collector_drift.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from tlsaudit.inspectors.process import DEFAULT_TIMEOUT, RunResult, run

FILES_DIR = "{files}"
"""In an argv: the directory the run's `files` were written to (a fresh one per run)."""


class Host(Protocol):
    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        timeout: float = DEFAULT_TIMEOUT,
        note: str = "",
        files: Mapping[str, bytes] | None = None,
    ) -> RunResult:
        """Run a program (see tlsaudit.inspectors.process.run); `files` are written to a fresh directory that
        replaces FILES_DIR in argv."""
        ...

    def is_file(self, path: Path) -> bool: ...

    def is_dir(self, path: Path) -> bool: ...

    def read_text(self, path: Path) -> str:
        """The file's text (UTF-8, undecodable bytes replaced); OSError when it cannot be read."""
        ...

    def glob(self, directory: Path, pattern: str) -> list[Path]:
        """Entries of `directory` matching a one-level pattern (`*.cnf`), sorted."""
        ...

    def glob_all(self, patterns: Sequence[str]) -> list[Path]:
        """Matches of absolute patterns (`**` for any depth), each pattern's sorted, in pattern order."""
        ...


class LocalHost:
    """This machine."""

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        timeout: float = DEFAULT_TIMEOUT,
        note: str = "",
        files: Mapping[str, bytes] | None = None,
    ) -> RunResult:
        if not files:
            return run(argv, env=env, timeout=timeout, note=note)
        with tempfile.TemporaryDirectory(prefix="tlsaudit-files-") as directory:
            for name, data in files.items():
                (Path(directory) / name).write_bytes(data)
            real = [directory if arg == FILES_DIR else arg for arg in argv]
            return run(real, env=env, timeout=timeout, note=note)

    def is_file(self, path: Path) -> bool:
        return path.is_file()

    def is_dir(self, path: Path) -> bool:
        return path.is_dir()

    def read_text(self, path: Path) -> str:
        return path.read_text(encoding="utf-8", errors="replace")

    def glob(self, directory: Path, pattern: str) -> list[Path]:
        return sorted(directory.glob(pattern))

    def glob_all(self, patterns: Sequence[str]) -> list[Path]:
        out: list[Path] = []
        for pattern in patterns:
            anchor = Path(pattern).anchor or "/"
            out.extend(sorted(Path(anchor).glob(pattern[len(anchor) :])))
        return out


LOCAL = LocalHost()
