"""Run a client process: argv list (no shell), the environment given, a timeout that kills it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
    """Run argv (no shell) with a timeout. The client runs in a session of its own so that, when it
    runs over, it is killed together with any helper it spawned (dotnet, javac servers)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            start_new_session=True,
        )
    except OSError as exc:
        return ProcessResult(argv=tuple(argv), exit_code=None, start_error=f"{exc.__class__.__name__}: {exc}")
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = b"", b""
        with contextlib.suppress(TimeoutError):
            out, err = await asyncio.wait_for(proc.communicate(), 5)
        return ProcessResult(
            argv=tuple(argv), exit_code=None, stdout=_text(out), stderr=_text(err), timed_out=True
        )
    return ProcessResult(argv=tuple(argv), exit_code=proc.returncode, stdout=_text(out), stderr=_text(err))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")[:OUTPUT_LIMIT]
