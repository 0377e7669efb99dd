"""`tlsaudit capture` stopped with SIGTERM (as a service manager or `timeout` stops it) removes its throwaway
CA, certificate and private key, as Ctrl-C does."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_capture_leaves_no_key_behind(signum: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tlsaudit", "capture", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        assert "listening on https://127.0.0.1:" in banner, banner
        trust = proc.stderr.readline()
        ca_file = Path(trust.rsplit(" ", 1)[1].strip())
        folder = ca_file.parent
        assert ca_file.is_file()
        keys = [p for p in folder.iterdir() if "key" in p.name]
        assert keys, sorted(p.name for p in folder.iterdir())
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert not folder.exists(), f"{folder} left behind with {sorted(p.name for p in folder.iterdir())}"
