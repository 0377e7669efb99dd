"""This checkout's tlsaudit against a baseline checkout: runs paired by repetition, ratios after/before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import median
from typing import Any

from bench.model import ToolRun
from bench.report import MB, Outcome

METRICS: tuple[tuple[str, str, Callable[[ToolRun], float]], ...] = (
    ("wall s", "wall_seconds", lambda r: r.wall_seconds),
    ("cpu s", "cpu_seconds", lambda r: r.cpu_seconds),
    ("peak MB", "peak_mb", lambda r: r.peak_rss_bytes / MB),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Paired:
    """Repetition i of `after` ran next to repetition i of `before` (order alternating)."""

    mode: str
    after: tuple[ToolRun, ...]
    before: tuple[ToolRun, ...]
    after_outcome: Outcome
    before_outcome: Outcome

    def ratios(self, value: Callable[[ToolRun], float]) -> list[float]:
        return [
            value(a) / value(b) if value(b) else 0.0 for a, b in zip(self.after, self.before, strict=False)
        ]

    def lines(self) -> list[str]:
        pairs = min(len(self.after), len(self.before))
        lines = [
            f"after/before ({self.mode}): {self.after_outcome.run.tool} / {self.before_outcome.run.tool}, "
            f"{pairs} alternating run{'s' if pairs != 1 else ''} each; medians, ratio: median of the pairs"
        ]
        for label, _, value in METRICS:
            ratios = self.ratios(value)
            lines.append(
                f"  {label:<8} after {median(map(value, self.after)):>7.2f}  "
                f"before {median(map(value, self.before)):>7.2f}  ratio x{median(ratios):.2f}  "
                f"(runs: {' '.join(f'x{r:.2f}' for r in ratios)})"
            )
        lines.append(
            f"  verdicts right: after {_right(self.after_outcome)}, before {_right(self.before_outcome)}"
        )
        return lines

    def record(self) -> dict[str, Any]:
        data: dict[str, Any] = {"mode": self.mode, "pairs": min(len(self.after), len(self.before))}
        for _, key, value in METRICS:
            data[key] = {
                "after_median": round(median(map(value, self.after)), 4),
                "before_median": round(median(map(value, self.before)), 4),
                "ratio_median": round(median(self.ratios(value)), 4),
                "ratios": [round(r, 4) for r in self.ratios(value)],
            }
        data["verdicts_right"] = {"after": _right(self.after_outcome), "before": _right(self.before_outcome)}
        return data


def _right(o: Outcome) -> str:
    text = f"{o.tls.right}/{o.tls.cells}"
    if o.silent is not None:
        text += f" (silent endpoints: {o.silent.right}/{o.silent.cells} unknown)"
    return text
