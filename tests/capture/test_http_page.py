"""`capture --http`: a browser opens the local page over HTTPS and sees what it offered, driven here with
real headless Chromium and Firefox ESR."""

from __future__ import annotations

import contextlib
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tlsaudit.capture.listener import Capture
from tlsaudit.capture.page import http_page
from tlsaudit.capture.profile_capture import headless_chromium
from tlsaudit.models import TlsVersion
from tlsaudit.tls.client_hello import probe_hello
from tlsaudit.tls.client_hello_parse import parse_client_hello

pytestmark = pytest.mark.slow

_LISTENING = re.compile(r"listening on https://\S+:(\d+)/")
_CA = re.compile(r"trust the CA in (\S+)")


@dataclass
class Listener:
    port: int
    ca: Path
    lines: list[str]


@contextlib.contextmanager
def capture_http() -> Iterator[Listener]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tlsaudit", "capture", "--port", "0", "--http"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    ready: queue.Queue[tuple[int, Path]] = queue.Queue()

    def read_err() -> None:
        assert process.stderr is not None
        port = 0
        for line in process.stderr:
            if match := _LISTENING.search(line):
                port = int(match.group(1))
            if (match := _CA.search(line)) and port:
                ready.put((port, Path(match.group(1))))

    def read_out() -> None:
        assert process.stdout is not None
        lines.extend(line.rstrip("\n") for line in process.stdout)

    threading.Thread(target=read_err, daemon=True).start()
    threading.Thread(target=read_out, daemon=True).start()
    try:
        port, ca = ready.get(timeout=60)
        yield Listener(port=port, ca=ca, lines=lines)
    finally:
        process.terminate()
        process.wait(10)


def test_page_escapes_what_the_client_sent() -> None:
    hello = probe_hello(TlsVersion.TLSv1_2, "a.test")
    info = parse_client_hello(hello)
    hostile = Capture(peer="<script>x</script>", hello=info, outcome="completed", raw_hello=hello)
    page = http_page(hostile).decode()
    assert page.startswith("HTTP/1.1 200 OK")
    assert "<script>" not in page
    assert "TLSv1.2" in page


def test_headless_chromium_sees_its_own_offer() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed (Debian package chromium, make system-deps)")
    with capture_http() as listener, contextlib.ExitStack() as stack:
        profile = stack.enter_context(tempfile.TemporaryDirectory())
        done = subprocess.run(
            [
                *headless_chromium(chromium, Path(profile)),
                "--dump-dom",
                f"https://localhost:{listener.port}/",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    dom = done.stdout
    assert "What your client offered" in dom, done.stderr[-2000:]
    assert "TLSv1.3" in dom and "X25519MLKEM768" in dom  # Chromium's default hybrid post-quantum group


def test_headless_firefox_completes_a_handshake_with_the_listener(tmp_path: Path) -> None:
    firefox, certutil = shutil.which("firefox-esr"), shutil.which("certutil")
    if firefox is None or certutil is None:
        pytest.fail(
            "firefox-esr and certutil are needed (Debian firefox-esr, libnss3-tools; make system-deps)"
        )
    profile = tmp_path / "profile"
    profile.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{profile}", "--empty-password"], check=True, timeout=60)
    with capture_http() as listener:
        subprocess.run(
            [certutil, "-A", "-n", "capture-ca", "-t", "C,,", "-i", str(listener.ca), "-d", f"sql:{profile}"],
            check=True,
            timeout=60,
        )
        subprocess.run(
            [
                firefox,
                "--headless",
                "-no-remote",
                "-profile",
                str(profile),
                "--screenshot",
                str(tmp_path / "page.png"),
                f"https://localhost:{listener.port}/",
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        lines = list(listener.lines)
    completed = [line for line in lines if "completed TLSv1.3" in line]
    assert completed, lines
    assert (tmp_path / "page.png").stat().st_size > 0
