"""Run the real `tlsaudit scan` command line and read its JSON report (the public contract).

`scan_cli(address.target, "--timeout", "2")` returns a `ScanRun`: its exit code, the report, the cells of
the only endpoint (`run.protocols["TLSv1.2"]["status"]`), and `describe()` for assertion messages.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

CLI_TIMEOUT = 110.0
"""Seconds one scan may take before the test fails (under pytest's 120 s limit)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanRun:
    """One finished `tlsaudit scan --format json -o -` run."""

    argv: list[str]
    returncode: int
    report: dict[str, Any]
    stderr: str
    elapsed: float
    """Wall-clock seconds of the whole command, interpreter start-up included."""

    @property
    def endpoint(self) -> dict[str, Any]:
        """The only endpoint of a one-target scan."""
        endpoints = self.report["endpoints"]
        assert len(endpoints) == 1, self.describe()
        return dict(endpoints[0])

    @property
    def protocols(self) -> dict[str, dict[str, str]]:
        return dict(self.endpoint["protocols"])

    def statuses(self) -> dict[str, str]:
        return {version: cell["status"] for version, cell in self.protocols.items()}

    def findings(self, prefix: str = "") -> list[dict[str, Any]]:
        """The findings whose rule id starts with `prefix`."""
        return [f for f in self.report.get("findings", []) if str(f["rule_id"]).startswith(prefix)]

    def describe(self) -> str:
        """What a failing assertion should show: exit code, time, each cell and the endpoint's errors."""
        lines = [f"exit {self.returncode} after {self.elapsed:.1f} s: {' '.join(self.argv[3:])}"]
        for endpoint in self.report.get("endpoints", []):
            for version, cell in endpoint.get("protocols", {}).items():
                lines.append(f"  {version}: {json.dumps(cell, sort_keys=True)}")
            lines.append(f"  errors: {endpoint.get('errors')}")
            for key in ("client_certificate", "verdict"):
                if key in endpoint:
                    lines.append(f"  {key}: {endpoint[key]}")
        lines.append(f"  summary.verdict: {self.report.get('summary', {}).get('verdict')}")
        if self.stderr.strip():
            lines.append("  stderr: " + self.stderr.strip()[-800:])
        return "\n".join(lines)


def scan_cli(*args: str, timeout: float = CLI_TIMEOUT) -> ScanRun:
    """`tlsaudit scan --format json -o - -q ARGS...`; the JSON on stdout must parse."""
    argv = [sys.executable, "-m", "tlsaudit", "scan", "--format", "json", "-o", "-", "-q", *args]
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    elapsed = time.monotonic() - started
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise AssertionError(
            f"exit {result.returncode}: no JSON report ({error})\nstdout: {result.stdout[-800:]}\n"
            f"stderr: {result.stderr[-1500:]}"
        ) from error
    return ScanRun(
        argv=argv, returncode=result.returncode, report=report, stderr=result.stderr, elapsed=elapsed
    )
