"""Every hello tlsaudit sends is valid for the versions it offers, bounded in suites and padded out of
256-511 bytes; the server-flight parser refuses malformed ServerHellos and is split-independent.

The hellos are read back with tlsaudit's own ClientHello parser and, for TLS 1.3, answered by
tlslite-ng, a strict RFC 8446 implementation.
"""

from __future__ import annotations

import itertools
import os
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.tls_servers import tlslite_server
from tlsaudit.models import TlsVersion
from tlsaudit.tls.client_hello import build_client_hello, conventional_hello, probe_hello
from tlsaudit.tls.client_hello_parse import parse_client_hello
from tlsaudit.tls.constants import (
    CIPHER_SUITES,
    HELLO_RETRY_REQUEST_RANDOM,
    SCSV_EMPTY_RENEGOTIATION_INFO,
    SIGNATURE_SCHEMES,
    TLS13_GROUPS,
    suites_for_version,
)
from tlsaudit.tls.server_flight import (
    CertificateChain,
    CertificateRequest,
    Event,
    Malformed,
    ServerFlightParser,
    ServerHello,
    ServerHelloDone,
)
from tlsaudit.tls.suite_offers import (
    MAX_OFFERED_SUITES,
    probe_suites,
    ranked_suites,
    remaining_suite_chunks,
)
from tlsaudit.tls.wire import encode_records, handshake_message, u8, u16, vec8, vec16, vec24

TLS_VERSIONS = [v for v in TlsVersion if v != TlsVersion.SSLv2]
NAMES = [None, "a.example", "x" * 40 + ".example", "y" * 90 + ".example"]


def _handshake_length(hello: bytes) -> int:
    return int.from_bytes(hello[6:9], "big") + 4


@pytest.mark.parametrize("version", TLS_VERSIONS)
@pytest.mark.parametrize("name", NAMES)
def test_no_hello_is_256_to_511_bytes(version: TlsVersion, name: str | None) -> None:
    for hello in (probe_hello(version, name), conventional_hello(version, name)):
        assert not 256 <= _handshake_length(hello) <= 511, (version, name, _handshake_length(hello))
    for chunk in remaining_suite_chunks(version):
        hello = build_client_hello(version, cipher_suites=chunk, server_name=name)
        assert not 256 <= _handshake_length(hello) <= 511


@pytest.mark.parametrize("version", TLS_VERSIONS)
def test_at_most_128_suites_and_every_candidate_offered_somewhere(version: TlsVersion) -> None:
    info = parse_client_hello(probe_hello(version, "a.example"))
    assert len(info.cipher_suites) <= MAX_OFFERED_SUITES
    offered = set(probe_suites(version))
    for chunk in remaining_suite_chunks(version):
        assert len(chunk) < MAX_OFFERED_SUITES
        offered |= set(chunk)
    assert offered == set(suites_for_version(version)) == set(ranked_suites(version))


def test_tls13_hello_offers_only_what_tls13_allows() -> None:
    info = parse_client_hello(probe_hello(TlsVersion.TLSv1_3, "a.example"))
    assert info.supported_versions == (0x0304,)
    assert info.groups and set(info.groups) <= TLS13_GROUPS
    assert info.key_share_groups and set(info.key_share_groups) <= set(info.groups)
    assert all(code in SIGNATURE_SCHEMES for code in info.signature_algorithms)
    assert info.compression_methods == (0,)
    # TLS 1.3 suites, and the renegotiation SCSV every real client's hello carries (OpenSSL's
    # TLS 1.3-only hello too): a server may require it (GnuTLS %SAFE_RENEGOTIATION).
    assert info.cipher_suites[-1] == SCSV_EMPTY_RENEGOTIATION_INFO
    assert all(CIPHER_SUITES[s].tls13 for s in info.cipher_suites[:-1])
    # legacy_session_id: 32 bytes (middlebox compatibility mode, RFC 8446 D.4)
    hello = probe_hello(TlsVersion.TLSv1_3, "a.example")
    assert hello[43] == 32


def test_tls13_hello_with_no_keyed_group_sends_an_empty_key_share() -> None:
    info = parse_client_hello(build_client_hello(TlsVersion.TLSv1_3, groups=(0x0018,)))
    assert info.groups == (0x0018,)
    assert info.key_share_groups == ()


def test_tlslite_accepts_the_tls13_probe_hello() -> None:
    """tlslite-ng refuses a TLS 1.3 hello with groups TLS 1.3 forbids (illegal_parameter)."""
    with (
        tlslite_server({TlsVersion.TLSv1_3}) as server,
        socket.create_connection((server.host, server.port), timeout=5) as sock,
    ):
        sock.sendall(probe_hello(TlsVersion.TLSv1_3, "localhost"))
        answer = sock.recv(65536)
    events = _parse(answer)
    assert events and isinstance(events[0], ServerHello), events
    assert events[0].selected_version == 0x0304


def _server_hello(
    *,
    legacy: int = 0x0303,
    random: bytes | None = None,
    extensions: list[tuple[int, bytes]] | None = None,
) -> bytes:
    body = u16(legacy) + (random or os.urandom(32)) + vec8(b"") + u16(0x009C) + u8(0)
    if extensions is not None:
        body += vec16(b"".join(u16(t) + vec16(d) for t, d in extensions))
    return encode_records(22, 0x0303, handshake_message(2, body))


def _parse(data: bytes, chunk: int | None = None) -> list[Event]:
    parser = ServerFlightParser()
    if chunk is None:
        return parser.feed(data)
    out: list[Event] = []
    for i in range(0, len(data), chunk):
        out.extend(parser.feed(data[i : i + chunk]))
    return out


def test_duplicate_extensions_are_malformed() -> None:
    data = _server_hello(extensions=[(43, b"\x03\x04"), (43, b"\x03\x04")])
    events = _parse(data)
    assert len(events) == 1 and isinstance(events[0], Malformed)
    assert "repeats extension 43" in events[0].reason


def test_legacy_0304_without_supported_versions_is_malformed() -> None:
    events = _parse(_server_hello(legacy=0x0304))
    assert len(events) == 1 and isinstance(events[0], Malformed)


def test_hello_retry_random_in_a_tls12_server_hello_is_a_plain_server_hello() -> None:
    events = _parse(_server_hello(random=HELLO_RETRY_REQUEST_RANDOM))
    assert isinstance(events[0], ServerHello)
    assert not events[0].is_hello_retry and events[0].selected_version == 0x0303


def test_events_before_bad_bytes_are_delivered() -> None:
    data = _server_hello() + b"\x00garbage"
    for chunk in (None, 1, 3):
        events = _parse(data, chunk)
        assert isinstance(events[0], ServerHello)
        assert isinstance(events[-1], Malformed)


def test_certificate_request_is_an_event() -> None:
    data = (
        _server_hello()
        + encode_records(22, 0x0303, handshake_message(11, vec24(vec24(b"\x30\x00"))))
        + encode_records(22, 0x0303, handshake_message(13, u8(1) + u8(1) + vec16(b"") + vec16(b"")))
        + encode_records(22, 0x0303, handshake_message(14, b""))
    )
    kinds = [type(e) for e in _parse(data)]
    assert kinds == [ServerHello, CertificateChain, CertificateRequest, ServerHelloDone]


_FLIGHT = _server_hello(extensions=[(0xFF01, b"\x00")]) + encode_records(
    22,
    0x0303,
    handshake_message(11, vec24(vec24(b"\x30\x03\x02\x01\x00") + vec24(b"\x30\x00")))
    + handshake_message(14, b""),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=len(_FLIGHT) - 1), max_size=20, unique=True),
    st.binary(max_size=12),
)
def test_any_split_gives_the_same_events(cuts: list[int], tail: bytes) -> None:
    """The same bytes in any segmentation, good or followed by junk, give the same events."""
    data = _FLIGHT + tail
    whole = _parse(data)
    points = sorted({0, *cuts, len(data)})
    parser = ServerFlightParser()
    split: list[Event] = []
    for start, end in itertools.pairwise(points):
        split.extend(parser.feed(data[start:end]))
    assert split == whole
