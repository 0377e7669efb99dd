"""The client process runner: timeouts kill the whole process group, missing binaries are reported."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from tlsaudit.capture.process import run_process


def test_timeout_kills_the_client_and_its_children(tmp_path: Path) -> None:
    """The client leaves a grandchild holding its pipes; the timeout must end both."""
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    result = asyncio.run(run_process([sys.executable, "-c", code], dict(os.environ), 2.0))
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 4  # no waiting for the grandchild's pipes
    grandchild = int(pid_file.read_text())
    time.sleep(0.2)
    status = Path(f"/proc/{grandchild}/status")
    assert not status.exists() or "\nState:\tZ" in status.read_text()


def test_missing_binary_is_a_start_error_not_a_crash() -> None:
    result = asyncio.run(run_process(["/nonexistent/tlsaudit-client"], {}, 5))
    assert "not found" in result.start_error
    assert result.exit_code is None and not result.timed_out


def test_output_is_kept_and_bounded() -> None:
    result = asyncio.run(run_process([sys.executable, "-c", "print('x' * 100000)"], dict(os.environ), 30))
    assert result.exit_code == 0
    assert result.stdout.startswith("xxx") and len(result.stdout) == 4000
