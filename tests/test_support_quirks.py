"""Each quirk proxy and scripted broken peer misbehaves exactly as documented (checked with hand-built hellos
and real clients), so the end-to-end tests in tests/probe/ judge the scanner, not the fixtures."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.support.acceptor import ServerAddress
from tests.support.broken_peers import (
    TRUNCATED_AT,
    sslv2_server_hello_peer,
    truncated_answer_then_fin_peer,
    truncated_answer_then_reset_peer,
)
from tests.support.clients import python_handshake
from tests.support.quirks import (
    Action,
    delayed_answer_proxy,
    many_suites_closing_proxy,
    mid_size_hello_hanging_proxy,
    one_connection_at_a_time_proxy,
    unsupported_version_resetting_proxy,
)
from tests.support.servers import VERSION_SETS, TlsServer, python_tls_server
from tests.support.wire import TLS10, TLS12, TLS13, client_hello, read_client_hello, sslv2_client_hello
from tlsaudit.models import TlsVersion


@pytest.fixture(scope="module")
def backend() -> Iterator[TlsServer]:
    with python_tls_server(VERSION_SETS["tls10-13"]) as server:
        yield server


def exchange(address: ServerAddress, hello: bytes, *, timeout: float = 3.0) -> bytes:
    """Send `hello`; everything that comes back until the peer closes or goes quiet for `timeout` s."""
    data = b""
    with socket.create_connection((address.host, address.port), timeout=timeout) as sock:
        sock.sendall(hello)
        try:
            while chunk := sock.recv(65536):
                data += chunk
                if (data[:1] == b"\x16" and len(data) >= 5) or (data[0] & 0x80 and len(data) >= 3):
                    break  # the start of a TLS (or SSLv2) answer is enough
        except TimeoutError:
            pass
    return data


def test_hand_built_hello_parses_back() -> None:
    hello = client_hello(suites=list(range(1, 200)), supported_versions=[TLS13, TLS12], record_length=600)
    assert len(hello) == 5 + 600

    class Feed:
        def __init__(self) -> None:
            self.data = hello

        def settimeout(self, value: float) -> None:
            pass

        def recv(self, limit: int) -> bytes:
            chunk, self.data = self.data[:7], self.data[7:]
            return chunk

    raw, info = read_client_hello(Feed())  # type: ignore[arg-type]
    assert raw == hello
    assert (info.record_length, len(info.cipher_suites), info.highest_version) == (600, 199, TLS13)


@pytest.mark.parametrize("answer", [Action.CLOSE, Action.DECODE_ERROR])
def test_many_suites_proxy_refuses_129_suites_and_forwards_128(backend: TlsServer, answer: Action) -> None:
    with many_suites_closing_proxy(backend, answer=answer) as proxy:
        refused = exchange(proxy, client_hello(suites=[0x009C, *range(0x0100, 0x0180)]))
        forwarded = exchange(proxy, client_hello(suites=[0x009C, *range(0x0100, 0x017F)]))
        assert python_handshake(proxy, TlsVersion.TLSv1_2).accepted
    assert refused == (b"" if answer is Action.CLOSE else bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 50]))
    assert forwarded[:1] == b"\x16"


def test_mid_size_hello_proxy_hangs_on_256_to_511_bytes_only(backend: TlsServer) -> None:
    with mid_size_hello_hanging_proxy(backend) as proxy:
        for size in (256, 511):
            started = time.monotonic()
            assert exchange(proxy, client_hello(record_length=size), timeout=1.0) == b""
            assert time.monotonic() - started >= 0.9
        for size in (255, 512):
            assert exchange(proxy, client_hello(record_length=size))[:1] == b"\x16"


def test_resetting_proxy_resets_unsupported_and_forwards_supported(backend: TlsServer) -> None:
    with unsupported_version_resetting_proxy(backend, {TLS12, TLS13}) as proxy:
        with pytest.raises(ConnectionResetError):
            exchange(proxy, client_hello(version=TLS10))
        with pytest.raises(ConnectionResetError):
            exchange(proxy, sslv2_client_hello())
        with pytest.raises(ConnectionResetError):  # highest offered decides: TLS 1.1 + 1.0 is unsupported
            exchange(proxy, client_hello(supported_versions=[0x0302, TLS10]))
        assert python_handshake(proxy, TlsVersion.TLSv1_2).accepted
        assert python_handshake(proxy, TlsVersion.TLSv1_3).accepted


def test_one_at_a_time_proxy_answers_the_second_client_after_the_first_closed(backend: TlsServer) -> None:
    with one_connection_at_a_time_proxy(backend, service_delay=0.0) as proxy:
        first = socket.create_connection((proxy.host, proxy.port), timeout=3)
        first.sendall(client_hello())
        assert first.recv(5)[:1] == b"\x16"
        second = socket.create_connection((proxy.host, proxy.port), timeout=0.5)
        second.sendall(client_hello())
        with pytest.raises(TimeoutError):
            second.recv(5)
        first.close()
        second.settimeout(3)
        assert second.recv(5)[:1] == b"\x16"
        second.close()


def test_delayed_proxy_answers_after_2_s(backend: TlsServer) -> None:
    with delayed_answer_proxy(backend, delay=2.0) as proxy:
        started = time.monotonic()
        assert exchange(proxy, client_hello())[:1] == b"\x16"
        assert 1.9 <= time.monotonic() - started < 4.0


def test_truncating_peers_send_part_of_a_record_then_fin_or_rst() -> None:
    with truncated_answer_then_fin_peer() as peer:
        assert len(exchange(peer, client_hello())) == TRUNCATED_AT
    with truncated_answer_then_reset_peer() as peer, socket.create_connection((peer.host, peer.port)) as sock:
        sock.sendall(client_hello())
        time.sleep(0.5)  # the RST has arrived: the bytes before it are still readable, then the reset
        assert len(sock.recv(65536)) == TRUNCATED_AT
        with pytest.raises(ConnectionResetError):
            sock.recv(65536)


def test_sslv2_peer_answers_tls_hellos_with_an_sslv2_server_hello() -> None:
    with sslv2_server_hello_peer() as peer:
        answer = exchange(peer, client_hello())
    assert answer[0] & 0x80 and answer[2] == 4
