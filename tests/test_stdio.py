"""A large report on stdout arrives whole, also under PYTHONUNBUFFERED=1 (containers, CI), when the reader
is slow to start reading (a full pipe)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.big_certs import many_sans_cert
from tests.support.servers import openssl_s_server
from tlsaudit.stdio import with_whole_writes


def test_an_unbuffered_stream_gets_a_buffered_layer() -> None:
    raw = io.FileIO(os.devnull, "w")
    unbuffered = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    wrapped = with_whole_writes(unbuffered)
    assert wrapped is not unbuffered and isinstance(wrapped.buffer, io.BufferedWriter)
    assert wrapped.buffer.raw is raw and wrapped.line_buffering
    buffered = io.TextIOWrapper(io.BufferedWriter(io.FileIO(os.devnull, "w")), encoding="utf-8")
    assert with_whole_writes(buffered) is buffered


def _waiting_in(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/wchan", encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


@pytest.mark.slow
def test_a_large_report_reaches_a_slow_reader_whole(tmp_path: Path) -> None:
    files = many_sans_cert(tmp_path, count=10_000)  # a 300 kB report: the leaf's names are listed
    with openssl_s_server(["-tls1_2"], cert=files) as server:
        argv = [sys.executable, "-m", "tlsaudit", "scan", server.target, "--ca-file", str(files.ca)]
        process = subprocess.Popen(
            [*argv, "--format", "json", "-o", "-", "-q"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        # read only once the process is blocked writing into the full pipe (or has already exited, as it
        # did when the rest of the report was lost)
        deadline = time.monotonic() + 120
        while process.poll() is None and "pipe_write" not in _waiting_in(process.pid):  # anon_pipe_write too
            assert time.monotonic() < deadline, "the scan never started writing its report"
            time.sleep(0.1)
        out, err = process.communicate(timeout=120)
    report = json.loads(out)
    assert len(out) > 200_000 and report["endpoints"][0]["port"] == server.port, err[-500:]
