"""Each hostile peer misbehaves exactly as documented, and promptly."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

from tests.support.hostile import NON_TLS_PREFIX
from tests.support.servers import (
    ALERT_HANDSHAKE_FAILURE,
    HUGE_RECORD,
    SERVER_HELLO_TLS12,
    ServerAddress,
    close_server,
    drip_server,
    garbage_server,
    http_server,
    huge_record_server,
    reset_server,
    silent_server,
)

HELLO = b"\x16\x03\x01\x00\x05hello"


def connect(address: ServerAddress, timeout: float = 3.0) -> socket.socket:
    sock = socket.create_connection((address.host, address.port), timeout=timeout)
    sock.sendall(HELLO)
    return sock


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_silent_server_never_answers(loopback_host: str, servers: contextlib.ExitStack) -> None:
    address = servers.enter_context(silent_server(loopback_host))
    with connect(address, timeout=0.5) as sock, pytest.raises(TimeoutError):
        sock.recv(1)


def test_garbage_server_answers_non_tls(servers: contextlib.ExitStack) -> None:
    address = servers.enter_context(garbage_server(size=300))
    with connect(address) as sock:
        data = read_all(sock)
    assert len(data) == 300
    assert data.startswith(NON_TLS_PREFIX)
    assert data[0] not in range(20, 25)  # no TLS content type


def test_http_server_answers_http(servers: contextlib.ExitStack) -> None:
    address = servers.enter_context(http_server())
    with connect(address) as sock:
        assert read_all(sock).startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_close_server_closes_at_once(loopback_host: str, servers: contextlib.ExitStack) -> None:
    address = servers.enter_context(close_server(loopback_host))
    with socket.create_connection((address.host, address.port), timeout=3) as sock:
        assert sock.recv(1) == b""


def test_reset_server_sends_rst(servers: contextlib.ExitStack) -> None:
    address = servers.enter_context(reset_server())
    with connect(address) as sock, pytest.raises(ConnectionResetError):
        sock.recv(1)


def test_huge_record_server_claims_more_than_it_sends(servers: contextlib.ExitStack) -> None:
    address = servers.enter_context(huge_record_server())
    with connect(address) as sock:
        received = b""
        while len(received) < len(HUGE_RECORD):
            received += sock.recv(64)
        assert received == HUGE_RECORD
        assert int.from_bytes(HUGE_RECORD[3:5], "big") > 2**14
        assert int.from_bytes(HUGE_RECORD[6:9], "big") == 2**24 - 1
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(1)


@pytest.mark.parametrize(
    ("payload", "interval"),
    [(ALERT_HANDSHAKE_FAILURE, 0.05), (SERVER_HELLO_TLS12, 0.01)],
    ids=["alert", "server-hello"],
)
def test_drip_server_sends_one_byte_at_a_time(
    payload: bytes, interval: float, servers: contextlib.ExitStack
) -> None:
    address = servers.enter_context(drip_server(payload=payload, interval=interval))
    chunks: list[bytes] = []
    with connect(address) as sock:
        started = time.monotonic()
        while sum(map(len, chunks)) < len(payload):
            chunks.append(sock.recv(1024))
    elapsed = time.monotonic() - started
    assert b"".join(chunks) == payload
    assert len(chunks) >= 3  # several separate arrivals, not one burst (a busy reader may merge a few)
    assert elapsed >= interval * (len(payload) - 1) * 0.9  # the server paced every byte


def test_server_hello_constant_is_well_formed() -> None:
    record_length = int.from_bytes(SERVER_HELLO_TLS12[3:5], "big")
    assert SERVER_HELLO_TLS12[0] == 0x16
    assert len(SERVER_HELLO_TLS12) == 5 + record_length
    assert SERVER_HELLO_TLS12[5] == 0x02
    assert int.from_bytes(SERVER_HELLO_TLS12[6:9], "big") == record_length - 4


def test_hostile_servers_stop_cleanly() -> None:
    started = time.monotonic()
    with silent_server() as address:
        sockets = [connect(address) for _ in range(5)]
    for sock in sockets:
        sock.settimeout(2)
        try:
            ended = sock.recv(1) == b""  # the server shut the held connections on exit...
        except ConnectionResetError:
            ended = True  # ...or reset them, having left the client's bytes unread
        assert ended
        sock.close()
    assert time.monotonic() - started < 5
