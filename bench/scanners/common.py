"""What every scanner runner gets and returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.model import Endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSpec:
    """One measured run: which endpoints, where to write files, how long it may take."""

    endpoints: list[Endpoint]
    mode: str
    workdir: Path
    timeout: float
    connect_timeout: float

    @property
    def targets(self) -> list[str]:
        return [e.target for e in self.endpoints]

    def write_targets(self, name: str = "targets.txt") -> Path:
        path = self.workdir / name
        path.write_text("".join(f"{t}\n" for t in self.targets))
        return path


class ScannerUnavailable(RuntimeError):
    """The scanner cannot be run here; the message says what is missing."""
