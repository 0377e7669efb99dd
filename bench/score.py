"""Compare a tool's verdicts with the known truth, cell by cell (endpoint x version)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.model import VERSIONS, Endpoint, Status, ToolRun


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    cells: int
    right: int
    mismatches: tuple[str, ...]

    @property
    def percent(self) -> float:
        return 100.0 * self.right / self.cells if self.cells else 0.0


def score(run: ToolRun, endpoints: list[Endpoint]) -> Score:
    """A cell is right when the tool's status equals the truth; a missing answer counts as unknown."""
    right = 0
    mismatches = []
    for endpoint in endpoints:
        row = run.verdicts.get(endpoint.target, {})
        for version in VERSIONS:
            truth = endpoint.truth(version)
            said = row.get(version, Status.UNKNOWN)
            if said == truth:
                right += 1
            else:
                missing = "" if version in row else " (no answer)"
                mismatches.append(
                    f"{endpoint.target} [{endpoint.profile}/{endpoint.key_type}] {version}: "
                    f"truth {truth.value}, {run.tool} says {said.value}{missing}"
                )
    return Score(cells=len(endpoints) * len(VERSIONS), right=right, mismatches=tuple(mismatches))


def combined(scores: list[Score]) -> Score:
    """Repetitions of one run scored together: every cell of every repetition counts."""
    mismatches: list[str] = []
    for item in scores:
        mismatches += [m for m in item.mismatches if m not in mismatches]
    return Score(
        cells=sum(s.cells for s in scores),
        right=sum(s.right for s in scores),
        mismatches=tuple(mismatches),
    )
