"""Run child processes with a hard timeout and sample the peak RSS of their whole process trees."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_INTERVAL = 0.005
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class TreeMemorySampler:
    """Polls the summed RSS of registered processes and all their descendants; keeps the maximum.

    Several roots may be alive at once (a pool of one-process-per-endpoint scanners): the sum over
    all of them at one instant is what the machine had to hold, so that is what is maximised.
    """

    def __init__(self, interval: float = SAMPLE_INTERVAL) -> None:
        self._interval = interval
        self._roots: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.peak_bytes = 0
        self.samples = 0

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def add(self, pid: int) -> None:
        with self._lock:
            self._roots.add(pid)
        self.sample()  # catch very short-lived children at least once

    def remove(self, pid: int) -> None:
        with self._lock:
            self._roots.discard(pid)

    def sample(self) -> None:
        with self._lock:
            roots = list(self._roots)
        seen: set[int] = set()
        total = 0
        for root in roots:
            for pid in _tree(root):
                if pid not in seen:
                    seen.add(pid)
                    total += _rss(pid)
        with self._lock:
            self.samples += 1
            self.peak_bytes = max(self.peak_bytes, total)

    def _run(self) -> None:
        # dense at first (short runs), sparser later so the sampler does not compete for the CPUs
        start = time.monotonic()
        while not self._stop.is_set():
            self.sample()
            elapsed = time.monotonic() - start
            self._stop.wait(self._interval if elapsed < 1 else self._interval * 4 if elapsed < 10 else 0.1)


def _tree(root: int) -> list[int]:
    """root and its descendants, read from /proc/PID/task/TID/children (no scan of all of /proc)."""
    pids = []
    pending = [root]
    while pending:
        pid = pending.pop()
        pids.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as handle:
                    pending.extend(int(child) for child in handle.read().split())
            except (OSError, ValueError):
                continue
    return pids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    seconds: float
    timed_out: bool
    stderr_tail: str
    # user + system CPU of the process and its reaped descendants (less sensitive to a busy machine)
    cpu_seconds: float


def run_measured(
    argv: list[str],
    *,
    timeout: float,
    sampler: TreeMemorySampler,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout_path: Path | None = None,
) -> Completed:
    """Run argv (no shell) in its own process group; on timeout kill exactly that group."""
    with (
        tempfile.TemporaryFile() as stderr,
        open(stdout_path or os.devnull, "wb") as stdout,
    ):
        start = time.perf_counter()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        sampler.add(process.pid)
        deadline = start + timeout
        timed_out = False
        try:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline and not timed_out:
                    timed_out = True
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                time.sleep(0.001)
        finally:
            sampler.remove(process.pid)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, keep Popen consistent
        stderr.seek(0)
        tail = stderr.read()[-4000:].decode(errors="replace")
    return Completed(
        argv=tuple(argv),
        returncode=process.returncode,
        seconds=seconds,
        timed_out=timed_out,
        stderr_tail=tail,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU consumed so far by a live process tree (e.g. the nginx serving the lab)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, ValueError, IndexError):
            continue
    return total / ticks
