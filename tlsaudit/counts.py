"""Every number a report shows, from one computation over the report's findings and subjects.

The JSON summary (`tlsaudit.report.summarize`) and every format take their counts from `tally`, so the
summary table, a rule's card, the cover and the verdict line cannot disagree. A check is one rule about one
subject: when a report holds several findings for the same rule and subject (e.g. merged inputs), the worst
status stands for it, so a rule is never both failed and passed for the same subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

STATUSES: tuple[str, ...] = ("fail", "error", "warn", "pass", "skipped")
PROBLEMS: tuple[str, ...] = ("fail", "error", "warn")
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
ENDPOINT_VERDICTS: tuple[str, ...] = ("pass", "fail", "warn", "error", "skipped")
READINESS: tuple[str, ...] = ("ready", "ready-with-config", "needs-upgrade", "unknown")
# worst first: a check with a failing finding is failed whatever else was recorded about it
_STATUS_RANK = {status: rank for rank, status in enumerate(STATUSES)}
_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def subject_of(finding: Mapping[str, Any]) -> tuple[str, str, str]:
    """The subject a finding is about: (kind, machine it was seen from, id)."""
    return (finding["subject_kind"], finding.get("source_host", ""), finding["subject"])


def resolve_checks(findings: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One finding per (rule, subject), the worst one, in the order the report lists them."""
    items = list(findings)
    chosen: dict[tuple[str, str, str, str], Mapping[str, Any]] = {}
    repeated = False
    for finding in items:
        # (rule, subject_of(finding)), flat: this runs for every finding of every report
        key = (
            finding["rule_id"],
            finding["subject_kind"],
            finding.get("source_host", ""),
            finding["subject"],
        )
        held = chosen.get(key)
        if held is None:
            chosen[key] = finding
        else:
            repeated = True
            if _STATUS_RANK[finding["status"]] < _STATUS_RANK[held["status"]]:
                chosen[key] = finding
    if not repeated:  # the usual case (one report, not merged): every finding is its own check
        return items
    keep = {id(f) for f in chosen.values()}
    return [f for f in items if id(f) in keep]


@dataclass(slots=True)
class RuleTally:
    """One rule: its checks grouped by status (one finding per subject, each with its own remediation)."""

    rule_id: str
    title: str
    severity: str
    references: tuple[str, ...]
    by_status: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return len(self.by_status.get(status, []))

    @property
    def problems(self) -> list[Mapping[str, Any]]:
        return [f for status in PROBLEMS for f in self.by_status.get(status, [])]

    @property
    def worst(self) -> str:
        return next(s for s in STATUSES if self.by_status.get(s))


@dataclass(frozen=True, slots=True)
class Counts:
    checks: dict[str, int]
    endpoints: dict[str, int]
    runtimes: dict[str, int]
    host_names: int
    captures: int
    findings: list[Mapping[str, Any]]
    rules: list[RuleTally]

    @property
    def problem_findings(self) -> list[Mapping[str, Any]]:
        return [f for f in self.findings if f["status"] in PROBLEMS]


def tally(report: Mapping[str, Any], *, unique: bool = False) -> Counts:
    """`unique`: the caller knows every finding is its own check (no rule has two findings about the same
    subject), so they need not be resolved."""
    findings = list(report.get("findings", [])) if unique else resolve_checks(report.get("findings", []))
    checks = dict.fromkeys(STATUSES, 0)
    rules: dict[str, RuleTally] = {}
    for finding in findings:
        checks[finding["status"]] += 1
        rule = rules.get(finding["rule_id"])
        if rule is None:
            rule = rules[finding["rule_id"]] = RuleTally(
                rule_id=finding["rule_id"],
                title=finding["title"],
                severity=finding["severity"],
                references=tuple(finding.get("references", [])),
            )
        elif _SEVERITY_RANK[finding["severity"]] < _SEVERITY_RANK[rule.severity]:
            rule.severity = finding["severity"]
        rule.by_status.setdefault(finding["status"], []).append(finding)
    endpoints: Sequence[Mapping[str, Any]] = report.get("endpoints", [])
    runtimes: Sequence[Mapping[str, Any]] = report.get("runtimes", [])
    endpoint_counts = {"total": len(endpoints), **dict.fromkeys(ENDPOINT_VERDICTS, 0)}
    for ep in endpoints:
        endpoint_counts[ep["verdict"]] += 1
    runtime_counts = {"total": len(runtimes), **dict.fromkeys(READINESS, 0)}
    for rt in runtimes:
        runtime_counts[rt["readiness"]] += 1
    ordered = sorted(rules.values(), key=lambda r: (_SEVERITY_RANK[r.severity], r.rule_id))
    return Counts(
        checks=checks,
        endpoints=endpoint_counts,
        runtimes=runtime_counts,
        host_names=len({ep["host"].lower() for ep in endpoints}),
        captures=len(report.get("captures", [])),
        findings=findings,
        rules=ordered,
    )


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 endpoint', '2 endpoints', '0 endpoints'."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def scope_phrase(counts: Counts) -> str:
    """'5 endpoints on 2 host names, 3 client runtimes' (the parts that are not zero; never empty)."""
    parts = []
    if counts.endpoints["total"] or not counts.runtimes["total"]:
        parts.append(
            plural(counts.endpoints["total"], "endpoint")
            + (f" on {plural(counts.host_names, 'host name')}" if counts.endpoints["total"] else "")
        )
    if counts.runtimes["total"]:
        parts.append(plural(counts.runtimes["total"], "client runtime"))
    if counts.captures:
        parts.append(plural(counts.captures, "captured client"))
    return ", ".join(parts)


def passed_title(title: str) -> str:
    """What a rule's title (which names the problem) becomes when the problem was not found."""
    return f"Not found: {title}"
