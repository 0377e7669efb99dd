"""The benchmark's console table and JSON record."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.model import Endpoint, ToolRun
from bench.score import Score, combined, score

MB = 1024 * 1024
SHOWN_MISMATCHES = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One run, scored on the TLS endpoints and (if it saw them) on the silent ones."""

    run: ToolRun
    tls: Score
    silent: Score | None
    silent_targets: tuple[str, ...] = field(default=())

    @property
    def rate(self) -> float:
        return self.run.targets / self.run.wall_seconds if self.run.wall_seconds > 0 else 0.0

    @property
    def label(self) -> str:
        return f"{self.run.tool} ({self.run.mode})"


def outcome(runs: list[ToolRun], tls: list[Endpoint], silent: list[Endpoint]) -> Outcome:
    """Repetitions of one run: the median wall time is reported, the peak memory is the largest,
    and every repetition's verdicts are scored."""
    ordered = sorted(runs, key=lambda r: r.wall_seconds)
    median = ordered[(len(ordered) - 1) // 2]
    run = replace(
        median,
        peak_rss_bytes=max(r.peak_rss_bytes for r in runs),
        timed_out=any(r.timed_out for r in runs),
        all_wall_seconds=tuple(r.wall_seconds for r in runs),
    )
    seen_silent = [e for e in silent if run.mode.startswith("mixed")]
    return Outcome(
        run=run,
        tls=combined([score(r, tls) for r in runs]),
        silent=combined([score(r, seen_silent) for r in runs]) if seen_silent else None,
        silent_targets=tuple(e.target for e in seen_silent),
    )


def table(outcomes: list[Outcome], startup: dict[str, float]) -> str:
    width = max([34, *(len(o.label) for o in outcomes)])
    header = (
        f"{'tool (mode)':<{width}} {'endpoints':>9} {'wall s':>7} {'start s':>7} {'cpu s':>6} "
        f"{'srv cpu':>7} {'ep/s':>7} "
        f"{'peak MB':>7} "
        f"{'verdicts right':>16}"
    )
    lines = [header, "-" * len(header)]
    for o in outcomes:
        flag = "  TIMED OUT" if o.run.timed_out else ""
        lines.append(
            f"{o.label:<{width}} {o.run.targets:>9} {o.run.wall_seconds:>7.2f} "
            f"{startup.get(o.run.tool, 0.0):>7.2f} {o.run.cpu_seconds:>6.2f} "
            f"{o.run.server_cpu_seconds:>7.2f} {o.rate:>7.1f} "
            f"{o.run.peak_rss_bytes / MB:>7.1f} {o.tls.percent:>7.2f}% "
            f"{o.tls.right:>4}/{o.tls.cells:<4}{flag}"
        )
    return "\n".join(lines)


def ratios(outcomes: list[Outcome]) -> list[str]:
    mine = [o for o in outcomes if o.run.tool == "tlsaudit" and o.run.mode == "tls"]
    if not mine:
        return ["tlsaudit did not run: no ratios"]
    base = mine[0]
    lines = []
    for other in outcomes:
        if other.run.tool.startswith("tlsaudit") or other.run.mode.startswith("mixed") or other.rate == 0:
            continue
        memory = base.run.peak_rss_bytes / other.run.peak_rss_bytes if other.run.peak_rss_bytes else 0.0
        lines.append(
            f"tlsaudit / {other.label}: throughput x{base.rate / other.rate:.2f}, peak memory x{memory:.2f}"
        )
    return lines


def silent_section(outcomes: list[Outcome], budgets: dict[str, str]) -> list[str]:
    tls_only = {o.run.tool: o.run.wall_seconds for o in outcomes if o.run.mode == "tls"}
    slowest_tls = {
        o.run.tool: max(o.run.per_target_seconds.values())
        for o in outcomes
        if o.run.mode == "tls" and o.run.per_target_seconds
    }
    lines = []
    for o in outcomes:
        if o.silent is None:
            continue
        base = tls_only.get(o.run.tool)
        extra = f", +{o.run.wall_seconds - base:.2f}s over the TLS-only run" if base is not None else ""
        tls_count = o.run.targets - len(o.silent_targets)
        lines.append(
            f"{o.label}: {len(o.silent_targets)} silent + {tls_count} TLS endpoints "
            f"in {o.run.wall_seconds:.2f}s{extra} (timeout budget: {budgets.get(o.run.tool, '?')})"
        )
        per_target = [o.run.per_target_seconds[t] for t in o.silent_targets if t in o.run.per_target_seconds]
        if per_target:
            lines.append(f"    each silent endpoint took {', '.join(f'{s:.2f}s' for s in per_target)}")
            others = [s for t, s in o.run.per_target_seconds.items() if t not in o.silent_targets]
            alone = slowest_tls.get(o.run.tool)
            if others:
                lines.append(
                    f"    slowest TLS endpoint in this run: {max(others):.2f}s"
                    + (f" (TLS-only run: {alone:.2f}s)" if alone is not None else "")
                )
        wrong = o.silent.mismatches  # the truth is unknown: any other answer is false
        if o.tls.right != o.tls.cells:
            lines.append(f"    TLS endpoints in this run: {o.tls.right}/{o.tls.cells} verdicts right")
        if wrong:
            lines.append(
                f"    FALSE verdicts on silent endpoints (a timeout is not a rejection): {len(wrong)}"
            )
            lines += [f"      {m}" for m in wrong[:SHOWN_MISMATCHES]]
        else:
            lines.append(f"    silent endpoints: {o.silent.right}/{o.silent.cells} cells reported unknown")
    return lines


def mismatch_section(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        for problem in o.run.problems[:SHOWN_MISMATCHES]:
            lines.append(f"{o.label}: {problem}")
        if o.tls.mismatches:
            lines.append(f"{o.label}: {len(o.tls.mismatches)} wrong cells on TLS endpoints")
            lines += [f"    {m}" for m in o.tls.mismatches[:SHOWN_MISMATCHES]]
            if len(o.tls.mismatches) > SHOWN_MISMATCHES:
                lines.append(f"    ... {len(o.tls.mismatches) - SHOWN_MISMATCHES} more in the JSON record")
    return lines


def record(
    *, meta: dict[str, Any], endpoints: list[Endpoint], outcomes: list[Outcome], skipped: dict[str, str]
) -> dict[str, Any]:
    return {
        "meta": meta,
        "endpoints": [
            {
                "target": e.target,
                "profile": e.profile,
                "key_type": e.key_type,
                "silent": e.silent,
                "accepted": sorted(e.accepted),
            }
            for e in endpoints
        ],
        "skipped": skipped,
        "runs": [
            {
                "tool": o.run.tool,
                "mode": o.run.mode,
                "targets": o.run.targets,
                "wall_seconds": round(o.run.wall_seconds, 4),
                "all_wall_seconds": [round(w, 4) for w in o.run.all_wall_seconds],
                "cpu_seconds": round(o.run.cpu_seconds, 4),
                "server_cpu_seconds": round(o.run.server_cpu_seconds, 4),
                "endpoints_per_second": round(o.rate, 2),
                "peak_rss_bytes": o.run.peak_rss_bytes,
                "exit_codes": list(o.run.exit_codes),
                "timed_out": o.run.timed_out,
                "problems": list(o.run.problems),
                "accuracy_percent": round(o.tls.percent, 3),
                "cells": o.tls.cells,
                "cells_right": o.tls.right,
                "mismatches": list(o.tls.mismatches),
                "silent": None
                if o.silent is None
                else {
                    "targets": list(o.silent_targets),
                    "cells_unknown": o.silent.right,
                    "false_verdicts": list(o.silent.mismatches),
                    "per_target_seconds": {
                        t: round(o.run.per_target_seconds[t], 3)
                        for t in o.silent_targets
                        if t in o.run.per_target_seconds
                    },
                },
                "verdicts": {t: {v: s.value for v, s in row.items()} for t, row in o.run.verdicts.items()},
            }
            for o in outcomes
        ],
    }


def write_record(directory: Path, stamp: str, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bench-{stamp}.json"
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    return path
