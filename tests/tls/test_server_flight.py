"""Byte-level tests of the ClientHello builder and the server-flight parser, against a real TLS stack."""

from __future__ import annotations

import contextlib
import ssl
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsaudit.models import TlsVersion
from tlsaudit.tls.client_hello import build_client_hello, build_sslv2_client_hello, probe_hello
from tlsaudit.tls.constants import VERSION_CODES
from tlsaudit.tls.server_flight import (
    Alert,
    CertificateChain,
    EncryptedFlight,
    Event,
    Malformed,
    ServerFlightParser,
    ServerHello,
    ServerHelloDone,
    SSLv2ServerHello,
)
from tlsaudit.tls.wire import encode_records, handshake_message, u8, u16, vec8, vec16, vec24

SSL_VERSIONS = {
    TlsVersion.TLSv1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLSv1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLSv1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLSv1_3: ssl.TLSVersion.TLSv1_3,
}


def server_answer(cert: tuple[Path, Path], hello: bytes, low: TlsVersion, high: TlsVersion) -> bytes:
    """What a real OpenSSL server (Python ssl, in memory) sends back to `hello`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = SSL_VERSIONS[low]
    ctx.maximum_version = SSL_VERSIONS[high]
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = ctx.wrap_bio(incoming, outgoing, server_side=True)
    incoming.write(hello)
    # SSLWantReadError (waiting for the client) or a refusal, which OpenSSL sends as an alert.
    with contextlib.suppress(ssl.SSLError):
        server.do_handshake()
    return outgoing.read()


def parse_all(data: bytes, chunk: int | None = None) -> list[Event]:
    parser = ServerFlightParser()
    if chunk is None:
        return parser.feed(data)
    events: list[Event] = []
    for start in range(0, len(data), chunk):
        events.extend(parser.feed(data[start : start + chunk]))
    return events


@pytest.mark.parametrize("version", [TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2])
def test_real_server_flight_accepts_the_offered_version(
    version: TlsVersion, rsa_cert: tuple[Path, Path]
) -> None:
    answer = server_answer(
        rsa_cert,
        build_client_hello(version, server_name="example.test"),
        TlsVersion.TLSv1_0,
        TlsVersion.TLSv1_3,
    )
    for chunk in (None, 1, 7):
        events = parse_all(answer, chunk)
        hello = next(e for e in events if isinstance(e, ServerHello))
        assert hello.selected_version == VERSION_CODES[version]
        chain = next(e for e in events if isinstance(e, CertificateChain))
        assert chain.der_certs and chain.der_certs[0][:1] == b"\x30"
        assert isinstance(events[-1], ServerHelloDone)


def test_real_tls13_server_hello_then_encrypted(rsa_cert: tuple[Path, Path]) -> None:
    answer = server_answer(
        rsa_cert,
        build_client_hello(TlsVersion.TLSv1_3, server_name="example.test"),
        TlsVersion.TLSv1_2,
        TlsVersion.TLSv1_3,
    )
    events = parse_all(answer, 1)
    hello = next(e for e in events if isinstance(e, ServerHello))
    assert hello.version == TlsVersion.TLSv1_3
    assert not hello.is_hello_retry
    assert any(isinstance(e, EncryptedFlight) for e in events)


def test_real_server_refusing_tls10_sends_protocol_version_alert(rsa_cert: tuple[Path, Path]) -> None:
    answer = server_answer(
        rsa_cert,
        build_client_hello(TlsVersion.TLSv1_0, server_name="example.test"),
        TlsVersion.TLSv1_2,
        TlsVersion.TLSv1_3,
    )
    events = parse_all(answer, 3)
    assert events == [Alert(level=2, description=70)]
    assert isinstance(events[0], Alert) and events[0].name == "protocol_version"


def test_real_tls12_server_answers_tls13_hello_with_lower_version(rsa_cert: tuple[Path, Path]) -> None:
    answer = server_answer(
        rsa_cert, build_client_hello(TlsVersion.TLSv1_3), TlsVersion.TLSv1_2, TlsVersion.TLSv1_2
    )
    events = parse_all(answer)
    # A TLS 1.2-only server either negotiates down or refuses: never TLS 1.3.
    hellos = [e for e in events if isinstance(e, ServerHello)]
    assert all(h.selected_version == VERSION_CODES[TlsVersion.TLSv1_2] for h in hellos)


def _server_hello(version: int = 0x0303, suite: int = 0xC02F, extensions: bytes = b"") -> bytes:
    body = u16(version) + b"\x11" * 32 + vec8(b"") + u16(suite) + u8(0)
    if extensions:
        body += vec16(extensions)
    return handshake_message(2, body)


def test_several_messages_in_one_record_and_one_message_across_records() -> None:
    cert = handshake_message(11, vec24(vec24(b"\x30\x03abc") + vec24(b"\x30\x01z")))
    done = handshake_message(14, b"")
    flight = _server_hello() + cert + done
    one_record = encode_records(22, 0x0303, flight)
    split = b"".join(encode_records(22, 0x0303, flight[i : i + 5]) for i in range(0, len(flight), 5))
    for data in (one_record, split):
        events = parse_all(data, 1)
        assert [type(e) for e in events] == [ServerHello, CertificateChain, ServerHelloDone]
        assert isinstance(events[1], CertificateChain)
        assert events[1].der_certs == (b"\x30\x03abc", b"\x30\x01z")


def test_supported_versions_extension_decides_the_version() -> None:
    ext = u16(43) + vec16(u16(0x0304))
    events = parse_all(encode_records(22, 0x0303, _server_hello(extensions=ext)))
    hello = events[0]
    assert isinstance(hello, ServerHello)
    assert hello.version == TlsVersion.TLSv1_3
    assert isinstance(events[1], EncryptedFlight)


def test_sslv2_server_hello() -> None:
    cert = b"\x30\x02ok"
    specs = (0x010080).to_bytes(3, "big") + (0x0700C0).to_bytes(3, "big")
    conn_id = b"\x01" * 16
    msg = (
        u8(4)
        + u8(0)
        + u8(1)
        + u16(2)
        + u16(len(cert))
        + u16(len(specs))
        + u16(len(conn_id))
        + cert
        + specs
        + conn_id
    )
    data = u16(0x8000 | len(msg)) + msg
    events = parse_all(data, 2)
    assert events == [SSLv2ServerHello(certificate=cert, cipher_kinds=(0x010080, 0x0700C0))]


def test_sslv2_client_hello_layout() -> None:
    hello = build_sslv2_client_hello(challenge=b"\x00" * 16)
    length = ((hello[0] & 0x7F) << 8) | hello[1]
    assert hello[0] & 0x80 and length == len(hello) - 2
    assert hello[2] == 1 and hello[3:5] == b"\x00\x02"
    specs_len = int.from_bytes(hello[5:7], "big")
    assert specs_len % 3 == 0 and specs_len >= 21


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "HTTP"),
        (b"SSH-2.0-OpenSSH_9.2\r\n", "SSH"),
        (b"\x16\x03\x03\xff\xff" + b"\x00" * 10, "record claims 65535"),
        (encode_records(22, 0x0303, handshake_message(2, b"\x03")), "truncated"),
        (encode_records(22, 0x0303, b"\x02\xff\xff\xff"), "claims"),
        (encode_records(21, 0x0303, b"\x02"), "alert"),
        (encode_records(22, 0x0303, handshake_message(11, b"")), "before ServerHello"),
    ],
)
def test_garbage_ends_in_one_malformed_event_with_a_reason(data: bytes, fragment: str) -> None:
    events = parse_all(data, 1)
    assert isinstance(events[-1], Malformed)
    assert fragment in events[-1].reason
    assert sum(isinstance(e, Malformed) for e in events) == 1


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=64))
def test_parser_on_arbitrary_bytes_never_raises(data: bytes, chunk: int) -> None:
    events = parse_all(data, chunk)
    assert all(not isinstance(e, Malformed) for e in events[:-1])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_parser_on_arbitrary_handshake_payload(payload: bytes) -> None:
    parse_all(encode_records(22, 0x0303, payload), 3)


@pytest.mark.parametrize("version", list(TlsVersion))
def test_client_hello_record_is_well_formed(version: TlsVersion) -> None:
    hello = build_client_hello(version, server_name="example.test")
    if version == TlsVersion.SSLv2:
        assert hello[0] & 0x80
        return
    assert hello[0] == 22
    assert int.from_bytes(hello[3:5], "big") == len(hello) - 5
    assert hello[5] == 1
    assert int.from_bytes(hello[6:9], "big") == len(hello) - 9
    client_version = int.from_bytes(hello[9:11], "big")
    expected = 0x0303 if version == TlsVersion.TLSv1_3 else VERSION_CODES[version]
    assert client_version == expected
    has_sni = b"example.test" in hello
    assert has_sni == (version != TlsVersion.SSLv3)


def test_no_sni_for_ip_literals() -> None:
    assert b"127.0.0.1" not in build_client_hello(TlsVersion.TLSv1_2, server_name="127.0.0.1")


@pytest.mark.parametrize("version", [v for v in TlsVersion if v != TlsVersion.SSLv2])
def test_probe_hello_matches_the_builder_but_for_the_random(version: TlsVersion) -> None:
    first = probe_hello(version, "example.test")
    second = probe_hello(version, "example.test")
    built = build_client_hello(version, server_name="example.test", random=first[11:43])
    assert first[11:43] != second[11:43]
    if version == TlsVersion.TLSv1_3:  # the session id is random per template too
        assert len(first) == len(built) and first[:44] == built[:44]
    else:
        assert first == built


def test_heartbeat_records_become_events_without_their_bytes() -> None:
    from tlsaudit.tls.heartbeat import CLAIMED_LENGTH, heartbleed_probe
    from tlsaudit.tls.server_flight import Heartbeat, ServerFlightParser
    from tlsaudit.tls.wire import encode_records, handshake_message, u8, u16, vec8, vec16

    hello = u16(0x0303) + bytes(32) + vec8(b"") + u16(0x002F) + u8(0) + vec16(b"")
    reply = u8(2) + u16(CLAIMED_LENGTH) + b"secret" * 20
    wire = encode_records(22, 0x0303, handshake_message(2, hello)) + encode_records(24, 0x0303, reply)
    events = ServerFlightParser().feed(wire)
    beat = events[-1]
    assert beat == Heartbeat(message_type=2, payload_length=CLAIMED_LENGTH, record_length=len(reply))
    assert "secret" not in repr(events)
    # Before a ServerHello a heartbeat record is not TLS a server may send.
    assert "unexpected record type 24" in repr(ServerFlightParser().feed(encode_records(24, 0x0303, reply)))
    probe = heartbleed_probe(0x0303)
    # The over-long request claims more than it carries, the well-formed one carries 16 bytes of padding,
    # then close_notify.
    assert probe[5] == 1 and int.from_bytes(probe[6:8], "big") == CLAIMED_LENGTH
    assert int.from_bytes(probe[3:5], "big") < CLAIMED_LENGTH + 3
    assert probe.endswith(bytes.fromhex("15030300020100"))
