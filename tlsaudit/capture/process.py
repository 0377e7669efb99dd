"""Run a client process for the capture probe, through the inspectors' process runner."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tlsaudit.inspectors.process import run

OUTPUT_LIMIT = 4000  # characters of stdout/stderr kept: enough for any error message, bounded for reports


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessResult:
    argv: tuple[str, ...]
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    start_error: str = ""


async def run_process(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> ProcessResult:
    """Run argv with the project's one process runner (no shell, an empty working directory, a timeout that
    kills the whole process group, redacted output), in a thread so the capture listener keeps serving."""
    result = await asyncio.to_thread(run, argv, env=env, timeout=timeout)
    evidence = result.evidence
    timed_out = result.failure is not None and result.failure.startswith("timed out")
    start_error = result.failure or "" if evidence.exit_code is None and not timed_out else ""
    return ProcessResult(
        argv=evidence.argv,
        exit_code=evidence.exit_code,
        stdout=evidence.stdout[:OUTPUT_LIMIT],
        stderr=evidence.stderr[:OUTPUT_LIMIT],
        timed_out=timed_out,
        start_error=start_error,
    )
