"""Misbehaving peers on loopback, for proving that the scanner records them without crashing or hanging.

Every server here waits (at most two seconds) for the client's first bytes, normally a ClientHello,
before misbehaving, except `close_server`, which closes at once, and `silent_server`, which never speaks.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

from .acceptor import ServerAddress, recv_some, serve

ALERT_HANDSHAKE_FAILURE = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
"""A well-formed TLS 1.2 record: fatal alert handshake_failure (40)."""

SERVER_HELLO_TLS12 = (
    bytes([0x16, 0x03, 0x03])
    + struct.pack("!H", 4 + 2 + 32 + 1 + 2 + 1)
    + bytes([0x02])
    + (2 + 32 + 1 + 2 + 1).to_bytes(3, "big")
    + bytes([0x03, 0x03])
    + bytes(range(32))
    + bytes([0x00])  # empty session id
    + bytes([0x00, 0x9C])  # TLS_RSA_WITH_AES_128_GCM_SHA256
    + bytes([0x00])  # null compression
)
"""A syntactically valid TLS 1.2 ServerHello record without extensions (no Certificate follows)."""

HUGE_RECORD = bytes([0x16, 0x03, 0x03, 0xFF, 0xFF, 0x02, 0xFF, 0xFF, 0xFF])
"""A handshake record claiming 65535 bytes (over the 2^14 limit) holding a ServerHello claiming 16 MB."""

NON_TLS_PREFIX = b"\x00\xffNOT-TLS\r\n"
"""First bytes of `garbage_server`'s answer: 0x00 is no TLS content type."""


@contextlib.contextmanager
def silent_server(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """Accepts connections and never sends a byte (until the test ends)."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        stop.wait()

    with serve(handle, host) as address:
        yield address


@contextlib.contextmanager
def garbage_server(host: str = "127.0.0.1", *, size: int = 512) -> Iterator[ServerAddress]:
    """Answers the first bytes with `size` bytes of non-TLS junk, then closes."""
    junk = (NON_TLS_PREFIX + bytes((i * 37 + 11) % 256 for i in range(size)))[:size]

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        recv_some(conn)
        conn.sendall(junk)

    with serve(handle, host) as address:
        yield address


@contextlib.contextmanager
def http_server(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """A plain-HTTP server: answers anything with an HTTP 400 response, then closes."""
    body = b"<html><body>plain HTTP here</body></html>\n"
    response = (
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        recv_some(conn)
        conn.sendall(response)

    with serve(handle, host) as address:
        yield address


@contextlib.contextmanager
def close_server(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """Closes every connection as soon as it is accepted (an orderly FIN, no data)."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.close()

    with serve(handle, host) as address:
        yield address


@contextlib.contextmanager
def reset_server(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """Resets (TCP RST, via SO_LINGER 0) each connection after its first bytes arrive."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        recv_some(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    with serve(handle, host) as address:
        yield address


@contextlib.contextmanager
def huge_record_server(host: str = "127.0.0.1", *, payload: bytes = HUGE_RECORD) -> Iterator[ServerAddress]:
    """Answers with a record header announcing far more data than follows (`HUGE_RECORD`), then stalls."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        recv_some(conn)
        conn.sendall(payload)
        stop.wait()

    with serve(handle, host) as address:
        yield address


@contextlib.contextmanager
def drip_server(
    host: str = "127.0.0.1", *, payload: bytes = ALERT_HANDSHAKE_FAILURE, interval: float = 1.0
) -> Iterator[ServerAddress]:
    """Sends `payload` (a valid alert by default, or `SERVER_HELLO_TLS12`) one byte per `interval` seconds."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        recv_some(conn)
        for index in range(len(payload)):
            if index and stop.wait(interval):
                return
            conn.sendall(payload[index : index + 1])
        stop.wait()

    with serve(handle, host) as address:
        yield address


ENDLESS_RECORD = (
    bytes([0x16, 0x03, 0x03, 0x40, 0x00]) + bytes([0x02]) + (0x3FFC).to_bytes(3, "big") + bytes(16380)
)
"""A handshake record of the full 2^14 bytes, a ServerHello claiming all of it: 16,389 bytes to drip."""


@contextlib.contextmanager
def endless_drip_server(host: str = "127.0.0.1", *, interval: float = 1.0) -> Iterator[ServerAddress]:
    """Drips `ENDLESS_RECORD` one byte per `interval` seconds: an answer that never completes in a scan."""
    with drip_server(host, payload=ENDLESS_RECORD, interval=interval) as address:
        yield address
