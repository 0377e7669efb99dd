"""TLS server child processes: start one, learn or pick its port, wait until it listens, stop it.

The JSSE and Node servers bind an ephemeral port of the loopback host themselves and print one line
`LISTENING <port> <detail>` on stdout when they accept connections, so there is no port race
(`child_server`). Servers that cannot say their port (lighttpd) get one that was free a moment ago
(`free_port`), and the caller retries when it was taken meanwhile (`wait_listening` says whether the
child listens).
"""

from __future__ import annotations

import contextlib
import queue
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .acceptor import ServerAddress
from .tls_servers import START_TIMEOUT

_LISTENING = re.compile(r"^LISTENING (\d+)(?: (.*))?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildServer:
    """A running child server: its port, what it said about itself on the LISTENING line, its output."""

    port: int
    detail: str
    lines: list[str]

    def output(self) -> str:
        return "\n".join(self.lines)


def free_port(host: str) -> int:
    """A port of `host` that was free a moment ago (the child must bind it itself: retry on a clash)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as holder:
        holder.bind((host, 0))
        return int(holder.getsockname()[1])


def wait_listening(
    address: ServerAddress, process: subprocess.Popen[bytes], timeout: float = START_TIMEOUT
) -> bool:
    """Whether `process` is alive and `address` accepts TCP connections within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((address.host, address.port), timeout=0.5):
                return process.poll() is None
        except OSError:
            time.sleep(0.05)
    return False


def stop_process(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after five seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def child_server(
    argv: Sequence[str | Path],
    *,
    name: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    start_timeout: float = START_TIMEOUT,
) -> Iterator[ChildServer]:
    """Run `argv` until its `LISTENING <port>` line, yield the port, and stop the process on exit."""
    lines: list[str] = []
    found: queue.Queue[tuple[int, str] | None] = queue.Queue()
    process = subprocess.Popen(
        [str(a) for a in argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=None if env is None else dict(env),
        cwd=cwd,
    )

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            match = _LISTENING.match(line.strip())
            if match:
                found.put((int(match.group(1)), match.group(2) or ""))
        found.put(None)

    reader = threading.Thread(target=drain, daemon=True, name=f"{name}-output")
    reader.start()
    try:
        try:
            listening = found.get(timeout=start_timeout)
        except queue.Empty:
            listening = None
        if listening is None:
            raise RuntimeError(f"{name} did not start: {[str(a) for a in argv]}\n" + "\n".join(lines))
        port, detail = listening
        yield ChildServer(port=port, detail=detail, lines=lines)
    finally:
        stop_process(process)
        reader.join(5)
