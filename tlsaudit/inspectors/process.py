"""The only place inspectors start programs: argv lists, no shell, a timeout, bounded output, explicit env.

A program is named by an absolute path (never looked up in the current directory), runs in a fresh empty
directory (PHP reads a php.ini from its working directory, Python puts it on sys.path), with stdin closed.
What it printed comes back as `Evidence`, secrets redacted. Failures (timeout, not executable, killed by a
signal, output that is not text) are recorded in the result, never raised.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tlsaudit.inspectors.redact import redact_argv, redact_text
from tlsaudit.models import Evidence

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_OUTPUT = 256 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """What one program run gave: the redacted evidence and, when it did not finish normally, why."""

    evidence: Evidence
    failure: str | None = None

    @property
    def stdout(self) -> str:
        return self.evidence.stdout

    @property
    def stderr(self) -> str:
        return self.evidence.stderr

    @property
    def output(self) -> str:
        """stdout then stderr (java -version writes to stderr)."""
        return "\n".join(part for part in (self.evidence.stdout, self.evidence.stderr) if part)

    @property
    def ok(self) -> bool:
        return self.failure is None and self.evidence.exit_code == 0


class _Reader(threading.Thread):
    """Drains one pipe, keeping at most `limit` bytes (the rest is drained: the child never blocks)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self._limit = limit
        self.data = bytearray()
        self.truncated = False

    def run(self) -> None:
        try:
            while chunk := self._stream.read(65536):
                room = self._limit - len(self.data)
                if room > 0:
                    self.data.extend(chunk[:room])
                if len(chunk) > max(room, 0):
                    self.truncated = True
        except (OSError, ValueError):
            pass


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _textual(text: str) -> tuple[str, bool]:
    """Text and whether it looked like text at all (NUL bytes or mostly undecodable bytes mean garbage)."""
    bad = text.count("\ufffd") + text.count("\x00")
    return text.replace("\x00", "\ufffd"), bad <= max(8, len(text) // 20)


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT,
    max_output: int = DEFAULT_MAX_OUTPUT,
    note: str = "",
) -> RunResult:
    """Run `argv` (argv[0] an absolute path) and return its redacted evidence; program failures are data."""
    if not argv or not os.path.isabs(argv[0]):
        raise ValueError(f"program must be an absolute path, got {argv[0] if argv else '(empty argv)'!r}")
    program = Path(argv[0])
    if not program.is_file() or not os.access(program, os.X_OK):
        reason = "not found" if not program.exists() else "not an executable file"
        return not_started(argv, f"{program}: {reason}", note)
    with tempfile.TemporaryDirectory(prefix="tlsaudit-run-") as workdir:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                cwd=workdir,
                shell=False,
                start_new_session=sys.platform != "win32",
            )
        except OSError as exc:
            return not_started(argv, f"cannot run {program}: {exc.strerror or exc}", note)
        assert proc.stdout is not None and proc.stderr is not None
        readers = (_Reader(proc.stdout, max_output), _Reader(proc.stderr, max_output))
        for reader in readers:
            reader.start()
        failure: str | None = None
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            code = None
            failure = f"timed out after {timeout:g}s"
        for reader in readers:
            reader.join(timeout=5)
        proc.stdout.close()
        proc.stderr.close()
    truncated = [name for name, r in zip(("stdout", "stderr"), readers, strict=True) if r.truncated]
    return finished(
        argv,
        exit_code=code,
        stdout=_decode(bytes(readers[0].data)),
        stderr=_decode(bytes(readers[1].data)),
        failure=failure,
        truncated=truncated,
        note=note,
        max_output=max_output,
    )


def not_started(argv: Sequence[str], failure: str, note: str = "") -> RunResult:
    """A program that could not be started (not found, not executable, exec failed)."""
    return RunResult(
        evidence=Evidence(argv=redact_argv(argv), exit_code=None, note=_join(note, failure)), failure=failure
    )


def finished(
    argv: Sequence[str],
    *,
    exit_code: int | None,
    stdout: str,
    stderr: str,
    failure: str | None,
    truncated: Sequence[str] = (),
    note: str = "",
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> RunResult:
    """The result of a program that ran, from its output decoded as UTF-8 (undecodable bytes replaced), here
    or on a fleet host (tlsaudit.fleet.observed): redacted evidence, and why it did not finish normally."""
    out, out_is_text = _textual(stdout)
    err, err_is_text = _textual(stderr)
    if failure is None and exit_code is not None and exit_code < 0:
        failure = f"killed by signal {_signal_name(-exit_code)}"
    if failure is None and not (out_is_text and err_is_text):
        failure = "printed binary or undecodable output"
    extra = f"output truncated at {max_output} bytes ({', '.join(truncated)})" if truncated else ""
    evidence = Evidence(
        argv=redact_argv(argv),
        exit_code=exit_code,
        stdout=redact_text(out),
        stderr=redact_text(err),
        note=_join(note, failure or "", extra),
    )
    return RunResult(evidence=evidence, failure=failure)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def find_program(name: str, env: Mapping[str, str]) -> Path | None:
    """`name` on the PATH of `env`, skipping empty and relative entries (never the current directory)."""
    for entry in env.get("PATH", "").split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            continue
        candidate = Path(entry) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None
