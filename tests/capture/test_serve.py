"""`tlsaudit capture`: the standalone listener, its lines and JSON lines, and a clean stop on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.capture.conftest import tool
from tlsaudit.capture.certs import CaptureCredentials, generate_credentials
from tlsaudit.capture.serve import capture_json, check_loopback, format_line, run_capture_server
from tlsaudit.errors import UsageError
from tlsaudit.models import CaptureFacts

REPO = Path(__file__).parents[2]


def test_run_capture_server_reports_each_connection(tmp_path: Path) -> None:
    curl = tool("curl")

    async def main() -> list[CaptureFacts]:
        seen: list[CaptureFacts] = []
        stop = asyncio.Event()
        listening: asyncio.Future[tuple[int, CaptureCredentials]] = asyncio.get_running_loop().create_future()
        server = asyncio.create_task(
            run_capture_server(
                "127.0.0.1",
                0,
                seen.append,
                on_listening=lambda port, creds: listening.set_result((port, creds)),
                stop=stop,
            )
        )
        port, creds = await asyncio.wait_for(listening, 30)
        assert creds.ca_file is not None and creds.ca_file.is_file()
        for extra in (
            ["--cacert", str(creds.ca_file)],
            ["--tls-max", "1.1", "-k"],
            ["--tls-max", "1.2", "-k", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256:NULL-SHA256:@SECLEVEL=0"],
        ):
            proc = await asyncio.create_subprocess_exec(
                curl,
                "-sS",
                "-o",
                os.devnull,
                *extra,
                f"https://localhost:{port}/",
                stderr=asyncio.subprocess.DEVNULL,
            )
            await asyncio.wait_for(proc.wait(), 30)
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait_for(server, 10)
        return seen

    modern, pinned, weak = asyncio.run(main())
    assert weak.weak_suites == ("TLS_RSA_WITH_NULL_SHA256",)
    assert "weak: TLS_RSA_WITH_NULL_SHA256" in format_line(weak)
    assert weak.versions_offered == ("TLSv1.2",) and not weak.versions_exact
    assert modern.client.startswith("curl (pid ")  # the process behind the connection, found by psutil
    line = format_line(modern)
    assert line.startswith(f"{modern.client} from 127.0.0.1:")
    assert "offers TLSv1.0,TLSv1.1,TLSv1.2,TLSv1.3" in line
    assert "survives TLS 1.2-only" in line and "completed TLSv1.3" in line and "sni=localhost" in line
    assert "FAILS a TLS 1.2-only server" in format_line(pinned)
    assert "up to TLSv1.1" in format_line(pinned)
    record = json.loads(json.dumps(capture_json(pinned)))
    assert record["versions_offered"] == ["TLSv1.1"]
    assert record["tls12_only_server"] == "FAILS a TLS 1.2-only server"
    assert record["peer"].startswith("127.0.0.1:")


def test_own_certificate_is_served(tmp_path: Path) -> None:
    creds = generate_credentials(tmp_path)
    curl = tool("curl")

    async def main() -> list[CaptureFacts]:
        seen: list[CaptureFacts] = []
        stop = asyncio.Event()
        ports: asyncio.Queue[int] = asyncio.Queue()
        own = CaptureCredentials(cert_file=creds.cert_file, key_file=creds.key_file)
        task = asyncio.create_task(
            run_capture_server(
                "127.0.0.1",
                0,
                seen.append,
                credentials=own,
                on_listening=lambda p, _c: ports.put_nowait(p),
                stop=stop,
            )
        )
        port = await asyncio.wait_for(ports.get(), 30)
        proc = await asyncio.create_subprocess_exec(
            curl, "-sS", "-o", os.devnull, "--cacert", str(creds.ca_file), f"https://localhost:{port}/"
        )
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        await asyncio.sleep(0.2)
        stop.set()
        await task
        return seen

    [cap] = asyncio.run(main())
    assert cap.completed


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com", "::"])
def test_only_loopback_addresses_are_accepted(host: str) -> None:
    with pytest.raises(UsageError):
        check_loopback(host)
    for ok in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_loopback(ok)


def test_ctrl_c_stops_cleanly_and_json_lines_go_to_stdout() -> None:
    code = (
        "from tlsaudit.capture.serve import serve_capture\n"
        "raise SystemExit(serve_capture('127.0.0.1', 0, json_lines=True))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        assert "listening on https://127.0.0.1:" in banner
        port = int(banner.split("127.0.0.1:")[1].split("/")[0])
        import socket

        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
            sock.recv(10)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "capture stopped" in err
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["outcome"] == "not TLS: plain HTTP request"
