"""The CI gate: which findings make the run exit non-zero, and with which code.

One decision, used by the exit code and by every format that marks failures (JUnit, SARIF):
`makes_nonzero(finding, fail_on)` is true exactly for the findings that make `exit_code` non-zero;
`fails` (exit code 1: a JUnit <failure>) and `not_assessed` (exit code 3: a JUnit <error>) split it.

`--fail-on` takes a status threshold (`fail`: fail findings; `warn`: fail and warn findings), a severity
threshold (`critical`, `high`, `medium`, `low`, `info`: fail findings of that severity or worse), or
`never` (the exit code is always 0, whatever was found or not assessed). Under a severity threshold an
`error` finding (not assessed) counts only at that severity or worse too: `--fail-on high` is not held up
by a low-severity check that could not run.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from tlsaudit.models import SEVERITY_ORDER, Severity

STATUS_THRESHOLDS = ("fail", "warn")
SEVERITY_THRESHOLDS = tuple(s.value for s in Severity)
FAIL_ON_CHOICES = (*STATUS_THRESHOLDS, "never", *SEVERITY_THRESHOLDS)
DEFAULT_FAIL_ON = "fail"


class ExitCode(IntEnum):
    OK = 0  # everything assessed, nothing at or above --fail-on
    FINDINGS = 1  # a finding at or above --fail-on
    USAGE = 2  # usage error, bad targets file, bad rule file
    INCOMPLETE = 3  # nothing failed, but something was not assessed
    INTERNAL = 4  # an internal error (a bug): never read as a normal result


def _severity_at_least(finding: Mapping[str, Any], threshold: str) -> bool:
    severity = Severity(str(finding.get("severity", "info")))
    return SEVERITY_ORDER[severity] >= SEVERITY_ORDER[Severity(threshold)]


def fails(finding: Mapping[str, Any], fail_on: str = DEFAULT_FAIL_ON) -> bool:
    """This finding alone makes the exit code 1."""
    status = finding.get("status")
    if fail_on == "never":
        return False
    if fail_on == "fail":
        return status == "fail"
    if fail_on == "warn":
        return status in ("fail", "warn")
    return status == "fail" and _severity_at_least(finding, fail_on)


def not_assessed(finding: Mapping[str, Any], fail_on: str = DEFAULT_FAIL_ON) -> bool:
    """This finding alone makes the exit code 3 (when nothing makes it 1)."""
    if fail_on == "never" or finding.get("status") != "error":
        return False
    return fail_on in STATUS_THRESHOLDS or _severity_at_least(finding, fail_on)


def makes_nonzero(finding: Mapping[str, Any], fail_on: str = DEFAULT_FAIL_ON) -> bool:
    """The one question JUnit and SARIF ask: does this finding make the exit code non-zero?"""
    return fails(finding, fail_on) or not_assessed(finding, fail_on)


def exit_code(report: Mapping[str, Any], fail_on: str = DEFAULT_FAIL_ON) -> ExitCode:
    """1 when a finding reaches --fail-on; else 3 when anything could not be assessed; else 0.

    Besides `error` findings, a report is incomplete when it was interrupted, when a runtime's readiness
    is unknown, when `audit` could not tell what a local service speaks, or when it assessed nothing at
    all (its verdict is then `error` with no finding).
    """
    if fail_on == "never":
        return ExitCode.OK
    findings = report.get("findings", [])
    if any(fails(f, fail_on) for f in findings):
        return ExitCode.FINDINGS
    incomplete = (
        any(not_assessed(f, fail_on) for f in findings)
        or report.get("interrupted", False)
        or any(rt.get("readiness") == "unknown" for rt in report.get("runtimes", []))
        or any(s.get("status") == "unknown" for s in report.get("local_services", []))  # audit: not told
        or (not findings and report.get("summary", {}).get("verdict") == "error")
    )
    return ExitCode.INCOMPLETE if incomplete else ExitCode.OK
