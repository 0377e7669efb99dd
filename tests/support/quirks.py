"""Quirk proxies: loopback TCP proxies in front of a real TLS server that misbehave the way real middleboxes
and small TLS stacks do, decided from the ClientHello bytes alone (parsed by `wire.read_client_hello`).

Each is a context manager taking the backend's `ServerAddress` and yielding the proxy's:

    many_suites_closing_proxy(backend)           closes (or answers decode_error) on > 128 cipher suites
    mid_size_hello_hanging_proxy(backend)        never answers a hello whose record is 256-511 bytes (F5)
    unsupported_version_resetting_proxy(backend, supported)
                                                 TCP RST, no bytes, when the hello's highest version is
                                                 not in `supported` (SChannel, some balancers)
    reset_everything_proxy(backend)              TCP RST on every hello
    one_connection_at_a_time_proxy(backend)      serves connections one after another (inetd "wait")
    delayed_answer_proxy(backend)                forwards every hello only after 2 s

Anything the proxy forwards travels unchanged in both directions until either side closes; a reset on one
side is passed on as a reset. A hello the proxy cannot parse is forwarded as it is.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Callable, Collection, Iterator
from enum import Enum

from .acceptor import CONNECTION_TIMEOUT, Handler, ServerAddress, check_loopback, serve
from .wire import ALERT_DECODE_ERROR, ClientHelloInfo, HelloError, alert, read_client_hello

POLL = 0.2
"""Seconds between checks of the stop event while a proxy waits."""


class Action(Enum):
    FORWARD = "forward"
    CLOSE = "close"
    DECODE_ERROR = "decode-error"
    HANG = "hang"
    RESET = "reset"


Decide = Callable[[ClientHelloInfo], Action]


def reset(conn: socket.socket) -> None:
    """Close `conn` with a TCP RST (SO_LINGER 0) instead of a FIN."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def wait_until_closed(conn: socket.socket, stop: threading.Event) -> None:
    """Read and drop whatever the peer sends until it closes (or resets), or the server stops."""
    while not stop.is_set():
        readable, _, _ = select.select([conn], [], [], POLL)
        if readable:
            try:
                if not conn.recv(65536):
                    return
            except OSError:
                return


def client_gone(conn: socket.socket) -> bool:
    """True when the client has already closed or reset (checked without blocking)."""
    readable, _, _ = select.select([conn], [], [], 0)
    if not readable:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def pump(client: socket.socket, upstream: socket.socket, stop: threading.Event) -> None:
    """Copy bytes both ways until both sides closed; a reset on one side resets the other."""
    peer = {client: upstream, upstream: client}
    reading = {client, upstream}
    while reading and not stop.is_set():
        readable, _, _ = select.select(list(reading), [], [], POLL)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                reset(peer[sock])
                return
            if not data:
                reading.discard(sock)
                with contextlib.suppress(OSError):
                    peer[sock].shutdown(socket.SHUT_WR)
                continue
            try:
                peer[sock].sendall(data)
            except OSError:
                reset(sock)
                return


def _proxy_handler(backend: ServerAddress, decide: Decide, delay: float) -> Handler:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        try:
            first, hello = read_client_hello(conn)
        except HelloError:
            return  # nothing parseable arrived: the connection is simply closed
        action = decide(hello)
        if action is Action.RESET:
            reset(conn)
            return
        if action is Action.CLOSE:
            return
        if action is Action.DECODE_ERROR:
            conn.sendall(alert(ALERT_DECODE_ERROR))
            wait_until_closed(conn, stop)
            return
        if action is Action.HANG:
            wait_until_closed(conn, stop)
            return
        if delay and (client_gone(conn) or stop.wait(delay)):
            return
        try:
            upstream = socket.create_connection((backend.host, backend.port), timeout=CONNECTION_TIMEOUT)
        except OSError:
            reset(conn)
            return
        with upstream:
            upstream.sendall(first)
            pump(conn, upstream, stop)

    return handle


@contextlib.contextmanager
def quirk_proxy(
    backend: ServerAddress, decide: Decide, *, host: str = "127.0.0.1", delay: float = 0.0
) -> Iterator[ServerAddress]:
    """A proxy to `backend` that does `decide(hello)` with each ClientHello; FORWARD waits `delay` s first."""
    with serve(_proxy_handler(backend, decide, delay), host) as address:
        yield address


def _forward(hello: ClientHelloInfo) -> Action:
    return Action.FORWARD


@contextlib.contextmanager
def many_suites_closing_proxy(
    backend: ServerAddress, *, limit: int = 128, answer: Action = Action.CLOSE, host: str = "127.0.0.1"
) -> Iterator[ServerAddress]:
    """Closes (`answer=Action.CLOSE`) or answers a decode_error alert (`Action.DECODE_ERROR`) when the hello
    lists more than `limit` cipher suites, like wolfSSL and the appliances built on it; else forwards."""

    def decide(hello: ClientHelloInfo) -> Action:
        return answer if len(hello.cipher_suites) > limit else Action.FORWARD

    with quirk_proxy(backend, decide, host=host) as address:
        yield address


@contextlib.contextmanager
def mid_size_hello_hanging_proxy(
    backend: ServerAddress, *, low: int = 256, high: int = 511, host: str = "127.0.0.1"
) -> Iterator[ServerAddress]:
    """Never answers (and keeps the connection open) when the hello's first TLS record carries `low`-`high`
    bytes, the F5 bug RFC 7685 pads around; forwards every other hello."""

    def decide(hello: ClientHelloInfo) -> Action:
        if not hello.sslv2_format and low <= hello.record_length <= high:
            return Action.HANG
        return Action.FORWARD

    with quirk_proxy(backend, decide, host=host) as address:
        yield address


@contextlib.contextmanager
def unsupported_version_resetting_proxy(
    backend: ServerAddress, supported: Collection[int], *, host: str = "127.0.0.1"
) -> Iterator[ServerAddress]:
    """Resets (RST, no bytes) a hello whose highest offered version (supported_versions included) is not in
    `supported` (wire values, e.g. `{wire.TLS12, wire.TLS13}`), like SChannel; forwards the others."""

    def decide(hello: ClientHelloInfo) -> Action:
        return Action.FORWARD if hello.highest_version in supported else Action.RESET

    with quirk_proxy(backend, decide, host=host) as address:
        yield address


@contextlib.contextmanager
def reset_everything_proxy(backend: ServerAddress, *, host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """Resets (RST, no bytes) every connection once its ClientHello has arrived."""
    with unsupported_version_resetting_proxy(backend, (), host=host) as address:
        yield address


@contextlib.contextmanager
def delayed_answer_proxy(
    backend: ServerAddress, *, delay: float = 2.0, host: str = "127.0.0.1"
) -> Iterator[ServerAddress]:
    """Forwards every hello only `delay` seconds after it arrived (many connections at once)."""
    with quirk_proxy(backend, _forward, host=host, delay=delay) as address:
        yield address


@contextlib.contextmanager
def one_connection_at_a_time_proxy(
    backend: ServerAddress, *, service_delay: float = 1.0, host: str = "127.0.0.1"
) -> Iterator[ServerAddress]:
    """Accepts the next connection only after the previous one closed, and takes `service_delay` seconds
    before answering each hello (a slow single-threaded daemon). Connections whose client left while they
    queued are dropped without the delay."""
    check_loopback(host)
    handler = _proxy_handler(backend, _forward, service_delay)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, 0), family=family, backlog=128)
    listener.settimeout(POLL)
    stop = threading.Event()

    def serve_one_by_one() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(CONNECTION_TIMEOUT)
            try:
                handler(conn, stop)
            except OSError:
                pass  # the client went away: ordinary for a test peer
            finally:
                conn.close()

    worker = threading.Thread(target=serve_one_by_one, daemon=True, name="one-at-a-time-proxy")
    worker.start()
    try:
        yield ServerAddress(host=host, port=listener.getsockname()[1])
    finally:
        stop.set()
        worker.join(CONNECTION_TIMEOUT + 1)
        listener.close()
