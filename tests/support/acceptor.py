"""A threaded TCP accept loop shared by the in-process test servers.

Each accepted connection runs `handler(conn, stop)` in its own daemon thread; `stop` is set when the
server shuts down, and every socket is shut down then, so no handler can outlive its test.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

CONNECTION_TIMEOUT = 5.0
"""Seconds any single socket operation of a test server may block."""

STOP_GRACE = 2.0
"""Seconds a stopping server waits, in all, for its connection handlers to finish."""

Handler = Callable[[socket.socket, threading.Event], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerAddress:
    """Where a loopback test server listens."""

    host: str
    port: int

    @property
    def target(self) -> str:
        """`host:port`, with IPv6 hosts in brackets: the form the tlsaudit CLI takes."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET


class ActiveHandlers:
    """How many connection handlers are inside a TLS library right now: a server driven through ctypes
    frees the library's objects only when none is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def enter(self) -> None:
        with self._lock:
            self._count += 1

    def leave(self) -> None:
        with self._lock:
            self._count -= 1

    def busy(self) -> bool:
        with self._lock:
            return self._count > 0


def check_loopback(host: str) -> None:
    """Refuse anything but a loopback address: test servers never listen elsewhere."""
    if host != "::1" and not host.startswith("127."):
        raise ValueError(f"test servers bind to loopback only, not {host!r}")


def recv_some(conn: socket.socket, limit: int = 16384, timeout: float = 2.0) -> bytes:
    """Read what the peer sent within `timeout` seconds (b"" on timeout or close)."""
    conn.settimeout(timeout)
    try:
        return conn.recv(limit)
    except (TimeoutError, OSError):
        return b""


@contextlib.contextmanager
def serve(
    handler: Handler, host: str = "127.0.0.1", *, timeout: float = CONNECTION_TIMEOUT
) -> Iterator[ServerAddress]:
    """Listen on an ephemeral port of `host` and hand each connection to `handler` in a thread."""
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, 0), family=family, backlog=128)
    listener.settimeout(0.1)
    stop = threading.Event()
    lock = threading.Lock()
    live: set[socket.socket] = set()
    workers: list[threading.Thread] = []

    def run_one(conn: socket.socket) -> None:
        try:
            handler(conn, stop)
        except OSError:
            pass  # the client went away: ordinary for a test peer
        finally:
            with lock:
                live.discard(conn)
            conn.close()

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(timeout)
            with lock:
                live.add(conn)
            worker = threading.Thread(target=run_one, args=(conn,), daemon=True, name="test-server-conn")
            workers.append(worker)
            worker.start()

    acceptor = threading.Thread(target=accept_loop, daemon=True, name="test-server-accept")
    acceptor.start()
    try:
        yield ServerAddress(host=host, port=listener.getsockname()[1])
    finally:
        stop.set()
        acceptor.join(timeout)
        listener.close()
        with lock:
            remaining = list(live)
        for conn in remaining:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        # Handlers blocked inside a TLS handshake end by their own socket timeout; wait a little for
        # them, in total, not per connection, so teardown stays quick after many connections.
        deadline = time.monotonic() + STOP_GRACE
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
