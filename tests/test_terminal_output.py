"""The terminal view through the real CLI against real loopback servers (a Python `ssl` server accepting
TLS 1.0 and 1.2, an aiosmtpd server speaking STARTTLS): width, colour rules (`--color`, NO_COLOR), findings
grouped per endpoint, certificate and suites shown, STARTTLS marked; progress included, under a real pty."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import pty
import re
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.support.certs import make_cert
from tests.support.servers import python_tls_server
from tlsaudit.models import TlsVersion

ANY_ESCAPE = "\x1b"
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour and text attributes
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # any control sequence (cursor movement included)


@contextlib.contextmanager
def smtp_starttls_server() -> Iterator[int]:
    """aiosmtpd on 127.0.0.1 offering STARTTLS with the test certificate, in a thread of its own."""
    aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp", reason="aiosmtpd (PyPI) is not installed")
    from aiosmtpd.handlers import Sink

    files = make_cert()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.chain, files.key)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, asyncio.Server] = {}

    async def start() -> None:
        holder["server"] = await loop.create_server(
            lambda: aiosmtpd_smtp.SMTP(Sink(), tls_context=context), "127.0.0.1", 0
        )
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True, name="aiosmtpd")
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    started.wait(10)
    server = holder["server"]
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:

        async def stop() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def targets() -> Iterator[list[str]]:
    with (
        python_tls_server({TlsVersion.TLSv1_0, TlsVersion.TLSv1_2}) as server,
        smtp_starttls_server() as smtp_port,
    ):
        yield [f"localhost:{server.port}", f"smtp://127.0.0.1:{smtp_port}"]


def argv(targets: list[str], *extra: str) -> list[str]:
    ca = str(make_cert().ca)
    return [sys.executable, "-m", "tlsaudit", "scan", *targets, "--ciphers", "--ca-file", ca, *extra]


def env(**changes: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "FORCE_COLOR", "TERM")}
    return {**base, "TERM": "xterm-256color", **changes}


def widest(text: str) -> int:
    """The widest line on screen: lines end at \\n or \\r; control sequences take no room."""
    return max((cell_len(CSI.sub("", line)) for line in re.split(r"[\r\n]", text)), default=0)


def run_piped(targets: list[str], *extra: str, **environ: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv(targets, *extra), capture_output=True, text=True, env=env(**environ), timeout=120, check=False
    )


def run_in_pty(targets: list[str], *extra: str, **environ: str) -> tuple[int, str]:
    """stdout and stderr on a real terminal (so colour 'auto' and the progress bar are live)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        argv(targets, *extra), stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env(**environ)
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return process.wait(60), b"".join(chunks).decode("utf-8", "replace")


def test_80_columns_no_colour_codes_grouped_with_certificate_suites_and_starttls(targets: list[str]) -> None:
    result = run_piped(targets, COLUMNS="80", NO_COLOR="1")
    out = result.stdout
    assert result.returncode == 1, result.stderr  # TLS 1.0 is accepted
    assert ANY_ESCAPE not in out and ANY_ESCAPE not in result.stderr
    assert widest(out) <= 80 and widest(result.stderr) <= 80, out
    smtp = targets[1].removeprefix("smtp://")
    assert f"{smtp} [STARTTLS smtp]" in out.replace("\n", " ")
    # One section per endpoint: its certificate, its suites, then its findings.
    section = out.index("localhost:" + targets[0].rsplit(":", 1)[1] + " (127.0.0.1)  FAIL")
    assert out.index("Certificate", section) < out.index("endpoint.tls10-accepted", section)
    assert "CN=localhost, issued by" in out
    assert "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" in out
    assert "trusted" in out


@pytest.mark.parametrize("columns", ["60", "132"])
def test_other_widths_are_honoured(targets: list[str], columns: str) -> None:
    out = run_piped(targets, COLUMNS=columns).stdout
    assert widest(out) <= int(columns)


def test_color_choices(targets: list[str]) -> None:
    assert SGR.search(run_piped(targets, "--color", "always", COLUMNS="80").stdout)
    assert ANY_ESCAPE not in run_piped(targets, "--color", "never", COLUMNS="80").stdout
    assert ANY_ESCAPE not in run_piped(targets, COLUMNS="80").stdout  # auto, not a terminal


def test_terminal_with_progress_fits_80_columns_and_no_color_means_no_colour(targets: list[str]) -> None:
    code, screen = run_in_pty(targets, COLUMNS="80", NO_COLOR="1")
    assert code == 1, screen
    assert "Verdict: FAIL" in screen
    assert not SGR.search(screen), "NO_COLOR: no colour or attribute codes, progress included"
    assert widest(screen) <= 80, screen
    code, screen = run_in_pty(targets, COLUMNS="80")
    assert code == 1
    assert SGR.search(screen), "a terminal without NO_COLOR gets colour"
    assert "scanned" in CSI.sub("", screen), "the progress line was shown"
    assert widest(screen) <= 80, screen
    code, screen = run_in_pty(targets, "--color", "never", COLUMNS="80")
    assert not SGR.search(screen)


def test_text_file_output_has_no_escape_codes(targets: list[str], tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    result = run_piped(targets, "-o", str(out), "--color", "always", COLUMNS="80")
    assert result.returncode == 1
    text = out.read_text(encoding="utf-8")
    assert ANY_ESCAPE not in text and "Verdict: FAIL" in text
    assert widest(text) <= 80
