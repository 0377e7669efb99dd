"""tlsaudit's own version sweep, run from this checkout, read from its JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.measure import TreeMemorySampler, run_measured
from bench.model import VERSIONS, Status, ToolRun, Verdicts
from bench.scanners.common import RunSpec, ScannerUnavailable

REPO = Path(__file__).resolve().parents[2]
# 1: findings at or above --fail-on, 3: something could not be assessed; both are results here
RESULT_EXIT_CODES = frozenset({0, 1, 3})


def command() -> tuple[list[str], dict[str, str]]:
    """argv prefix and environment that run this checkout's tlsaudit."""
    env = dict(os.environ)
    console = REPO / ".venv" / "bin" / "tlsaudit"
    if console.exists():
        return [str(console)], env
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    if (REPO / "tlsaudit" / "__main__.py").exists():
        return [sys.executable, "-m", "tlsaudit"], env
    return [sys.executable, "-c", "import sys; from tlsaudit.cli import main; sys.exit(main())"], env


def check_available() -> None:
    argv, env = command()
    try:
        done = subprocess.run(
            [*argv, "scan", "--help"], capture_output=True, text=True, timeout=60, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ScannerUnavailable(f"tlsaudit could not be started: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ScannerUnavailable(f"`tlsaudit scan` is not available in this checkout ({tail[0]})")


def parse_json(path: Path) -> tuple[Verdicts, str]:
    """Target -> version -> status, and the tool version the report names."""
    verdicts: Verdicts = {}
    if not path.exists():
        return verdicts, "unknown"
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        return verdicts, "unknown"
    for endpoint in document.get("endpoints", []):
        target = f"{endpoint.get('ip') or endpoint.get('host')}:{endpoint.get('port')}"
        protocols = endpoint.get("protocols") or {}
        row: dict[str, Status] = {}
        for version_name in VERSIONS:
            status = (protocols.get(version_name) or {}).get("status")
            row[version_name] = Status(status) if status in set(Status) else Status.UNKNOWN
        verdicts[target] = row
    tool = document.get("tool") or {}
    return verdicts, str(tool.get("version", "unknown"))


def run(spec: RunSpec, extra_args: list[str]) -> tuple[ToolRun, str]:
    argv, env = command()
    targets = spec.write_targets()
    out = spec.workdir / "tlsaudit.json"
    argv = [*argv, "scan", "-f", str(targets), "--format", "json", "-o", str(out), "--quiet", *extra_args]
    with TreeMemorySampler() as sampler:
        done = run_measured(argv, timeout=spec.timeout, sampler=sampler, env=env, cwd=REPO)
    problems = []
    if done.timed_out:
        problems.append(f"timed out after {done.seconds:.1f}s")
    elif done.returncode not in RESULT_EXIT_CODES:
        problems.append(f"exit {done.returncode}: {done.stderr_tail.strip()[-500:]}")
    verdicts, tool_version = parse_json(out)
    run_result = ToolRun(
        tool="tlsaudit",
        mode=spec.mode,
        targets=len(spec.endpoints),
        wall_seconds=done.seconds,
        peak_rss_bytes=sampler.peak_bytes,
        verdicts=verdicts,
        exit_codes=(done.returncode,),
        timed_out=done.timed_out,
        problems=tuple(problems),
    )
    return run_result, tool_version
