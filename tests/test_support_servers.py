"""Each test TLS server accepts exactly the protocol versions it was configured with."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.certs import CertSpec, KeyType, make_cert
from tests.support.clients import python_handshake, tlslite_handshake
from tests.support.servers import (
    VERSION_SETS,
    NginxServerBlock,
    ServerAddress,
    nginx_server,
    openssl_s_server,
    python_tls_server,
    tls_server,
    tlslite_server,
)
from tlsaudit.models import TlsVersion

V = TlsVersion
OPENSSL_VERSIONS = (V.TLSv1_0, V.TLSv1_1, V.TLSv1_2, V.TLSv1_3)


def accepted_by_python_client(address: ServerAddress) -> set[TlsVersion]:
    return {v for v in OPENSSL_VERSIONS if python_handshake(address, v).accepted}


@pytest.mark.parametrize("name", sorted(VERSION_SETS))
def test_version_sets_accept_exactly_their_versions(
    name: str, loopback_host: str, servers: contextlib.ExitStack
) -> None:
    versions = VERSION_SETS[name]
    server = servers.enter_context(tls_server(versions, host=loopback_host))
    assert server.host == loopback_host
    if V.SSLv3 in versions:
        accepted = {v for v in (V.SSLv3, *OPENSSL_VERSIONS) if tlslite_handshake(server, v).accepted}
    else:
        accepted = accepted_by_python_client(server)
    assert accepted == set(versions)


def test_non_contiguous_versions(servers: contextlib.ExitStack) -> None:
    server = servers.enter_context(python_tls_server({V.TLSv1_0, V.TLSv1_2}))
    assert accepted_by_python_client(server) == {V.TLSv1_0, V.TLSv1_2}


def test_handshake_negotiates_the_pinned_version_and_verifies(servers: contextlib.ExitStack) -> None:
    server = servers.enter_context(python_tls_server({V.TLSv1_0, V.TLSv1_1}))
    result = python_handshake(server, V.TLSv1_1, ca=server.cert.ca)
    assert result.version is V.TLSv1_1, result.error
    refused = python_handshake(server, V.TLSv1_2, ca=server.cert.ca)
    assert refused.version is None
    assert refused.error is not None


def test_server_answers_a_request_then_closes(servers: contextlib.ExitStack) -> None:
    server = servers.enter_context(python_tls_server({V.TLSv1_3}))
    context = ssl.create_default_context(cafile=str(server.cert.ca))
    with (
        socket.create_connection((server.host, server.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := tls.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 OK")


def test_many_concurrent_handshakes(servers: contextlib.ExitStack) -> None:
    server = servers.enter_context(python_tls_server({V.TLSv1_2, V.TLSv1_3}))
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: python_handshake(server, V.TLSv1_2).version, range(48)))
    assert results == [V.TLSv1_2] * 48


def test_tls13_suites_are_restricted(servers: contextlib.ExitStack) -> None:
    server = servers.enter_context(
        python_tls_server({V.TLSv1_3}, tls13_suites="TLS_CHACHA20_POLY1305_SHA256")
    )
    assert python_handshake(server, V.TLSv1_3).cipher == "TLS_CHACHA20_POLY1305_SHA256"


def test_cipher_string_is_applied(servers: contextlib.ExitStack) -> None:
    server = servers.enter_context(python_tls_server({V.TLSv1_2}, ciphers="AES128-SHA:@SECLEVEL=0"))
    assert python_handshake(server, V.TLSv1_2).cipher == "AES128-SHA"


def test_missing_intermediate_breaks_verification(servers: contextlib.ExitStack) -> None:
    full = servers.enter_context(python_tls_server({V.TLSv1_2}))
    bare = servers.enter_context(python_tls_server({V.TLSv1_2}, send_intermediate=False))
    assert python_handshake(full, V.TLSv1_2, ca=full.cert.ca).accepted
    broken = python_handshake(bare, V.TLSv1_2, ca=bare.cert.ca)
    assert not broken.accepted
    assert "unable to get local issuer certificate" in str(broken.error)


def test_weak_key_certificate_is_served(servers: contextlib.ExitStack) -> None:
    cert = make_cert(CertSpec(key_type=KeyType.RSA_1024))
    server = servers.enter_context(python_tls_server({V.TLSv1_2}, cert=cert))
    assert python_handshake(server, V.TLSv1_2).accepted


def test_ec_certificate_over_ipv6(loopback_host: str, servers: contextlib.ExitStack) -> None:
    cert = make_cert(CertSpec(key_type=KeyType.EC_P256))
    server = servers.enter_context(python_tls_server({V.TLSv1_2}, cert=cert, host=loopback_host))
    result = python_handshake(server, V.TLSv1_2, ca=cert.ca)
    assert result.accepted, result.error
    assert "ECDSA" in str(result.cipher)


def test_ssl3_is_refused_by_python_server() -> None:
    with pytest.raises(ValueError, match="tlslite_server"), python_tls_server({V.SSLv3}):
        pass


def test_tlslite_refuses_gaps() -> None:
    with pytest.raises(ValueError, match="contiguous"), tlslite_server({V.SSLv3, V.TLSv1_2}):
        pass


def test_servers_bind_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"), python_tls_server({V.TLSv1_2}, host="0.0.0.0"):
        pass


def test_server_port_is_closed_after_exit() -> None:
    with python_tls_server({V.TLSv1_2}) as server:
        pass
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=2).close()


def test_openssl_s_server_versions(loopback_host: str, servers: contextlib.ExitStack) -> None:
    server = servers.enter_context(
        openssl_s_server(["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], host=loopback_host)
    )
    assert accepted_by_python_client(server) == {V.TLSv1_1}
    assert "ACCEPT" in server.output()


def test_openssl_s_server_www(servers: contextlib.ExitStack) -> None:
    server = servers.enter_context(openssl_s_server(["-tls1_3"], www=True))
    context = ssl.create_default_context(cafile=str(server.cert.ca))
    with (
        socket.create_connection((server.host, server.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        answer = tls.recv(4096)
    assert answer.startswith(b"HTTP/1.0 200 ok")


def test_nginx_blocks_and_listeners(loopback_host: str, servers: contextlib.ExitStack) -> None:
    legacy = NginxServerBlock(versions=frozenset({V.TLSv1_0, V.TLSv1_1}), listeners=2)
    modern = NginxServerBlock(
        versions=frozenset({V.TLSv1_3}), tls13_suites="TLS_AES_128_GCM_SHA256", listeners=3
    )
    nginx = servers.enter_context(nginx_server([legacy, modern], host=loopback_host))
    assert [len(block) for block in nginx.blocks] == [2, 3]
    assert len({a.port for a in nginx.addresses}) == 5
    for address in nginx.blocks[0]:
        assert accepted_by_python_client(address) == {V.TLSv1_0, V.TLSv1_1}
    for address in nginx.blocks[1]:
        assert accepted_by_python_client(address) == {V.TLSv1_3}
        assert python_handshake(address, V.TLSv1_3).cipher == "TLS_AES_128_GCM_SHA256"


def test_stop_is_quick_with_idle_clients_mid_handshake() -> None:
    with python_tls_server({V.TLSv1_2}) as server:
        idle = [socket.create_connection((server.host, server.port), timeout=5) for _ in range(10)]
        time.sleep(0.2)  # let the server accept them all and block in the handshake
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 4
    for sock in idle:
        sock.close()
