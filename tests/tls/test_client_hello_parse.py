"""The sans-I/O ClientHello parser: recorded hellos of real clients, GREASE, padding, split records,
SSLv2-format hellos, and arbitrary bytes (which may only ever raise PeerError)."""

from __future__ import annotations

import contextlib
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsaudit.capture.naming import labels, weak_suites
from tlsaudit.errors import PeerError
from tlsaudit.models import TlsVersion
from tlsaudit.tls.client_hello import build_client_hello, build_sslv2_client_hello
from tlsaudit.tls.client_hello_parse import ClientHelloReader, parse_client_hello

RECORDED = Path(__file__).parents[1] / "data" / "client_hellos"


def recorded(name: str) -> bytes:
    return (RECORDED / f"{name}.bin").read_bytes()


def reframe(first_flight: bytes, fragment: int) -> bytes:
    """The same handshake message cut into records of at most `fragment` bytes."""
    (length,) = struct.unpack(">H", first_flight[3:5])
    message = first_flight[5 : 5 + length]
    header = first_flight[:3]
    return b"".join(
        header + struct.pack(">H", len(message[i : i + fragment])) + message[i : i + fragment]
        for i in range(0, len(message), fragment)
    )


def extension(ext_type: int, body: bytes) -> bytes:
    return struct.pack(">HH", ext_type, len(body)) + body


def tls_hello(
    *,
    suites: list[int],
    extensions: bytes = b"",
    legacy_version: int = 0x0303,
    compression: bytes = b"\x00",
) -> bytes:
    body = struct.pack(">H", legacy_version) + bytes(32) + b"\x00"
    body += struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", s) for s in suites)
    body += bytes([len(compression)]) + compression
    if extensions:
        body += struct.pack(">H", len(extensions)) + extensions
    message = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(message)) + message


# ---------------------------------------------------------------- recorded hellos of real clients

EXPECTED_VERSIONS = {
    # OpenSSL 3.0 clients list TLS 1.0 and 1.1 in supported_versions (security level 2 only stops them
    # later, at the signature), Python's default context and Node start at TLS 1.2, and JDK 17's
    # java.security disables TLS 1.0/1.1 while JDK 11.0.10 still offers them.
    "curl": ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "openssl_s_client": ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "php_curl": ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "php_stream_tls": ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "python_urllib": ("TLSv1.2", "TLSv1.3"),
    "node_https": ("TLSv1.2", "TLSv1.3"),
    "java17_https": ("TLSv1.2", "TLSv1.3"),
    "jdk11010_https": ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_VERSIONS))
def test_recorded_hellos_of_real_clients(name: str) -> None:
    data = recorded(name)
    info = parse_client_hello(data)
    assert info.versions_offered == EXPECTED_VERSIONS[name]
    assert info.versions_exact
    assert info.legacy_version == 0x0303
    assert info.wire_length == len(data)
    assert 0x1301 in info.cipher_suites  # TLS_AES_128_GCM_SHA256, every TLS 1.3 client has it
    assert info.groups and info.signature_algorithms and info.key_share_groups
    # Java omits SNI for a dotless name like "localhost"; the others send it.
    assert info.sni == (None if name.startswith(("java", "jdk")) else "localhost")
    names = labels(info.extensions, kind="extension")
    assert "supported_versions" in names and "key_share" in names


def test_recorded_pinned_hellos() -> None:
    """curl --tls-max 1.1 drops supported_versions (only the maximum is on the wire); JDK 11.0.10 under
    JAVA_TOOL_OPTIONS=-Djdk.tls.client.protocols=TLSv1 lists TLS 1.0 alone in supported_versions."""
    curl = parse_client_hello(recorded("curl_tls_max_1.1"))
    assert curl.legacy_version == 0x0302 and curl.supported_versions == ()
    assert curl.versions_offered == ("TLSv1.1",) and not curl.versions_exact
    assert curl.alpn == ("h2", "http/1.1")
    java = parse_client_hello(recorded("jdk11010_tlsv1_pinned"))
    assert java.legacy_version == 0x0301 and java.supported_versions == (0x0301,)
    assert java.versions_offered == ("TLSv1.0",) and java.versions_exact
    assert 0x1301 not in java.cipher_suites


def test_openssl_clients_pad_their_hello_to_512_bytes() -> None:
    info = parse_client_hello(recorded("curl"))
    assert info.padding_length is not None and info.padding_length > 0
    assert len(recorded("curl")) == 512 + 5
    assert labels(info.extensions, kind="extension")[-1] == "padding"


def test_recorded_names_come_from_the_registries() -> None:
    info = parse_client_hello(recorded("node_https"))
    assert labels(info.cipher_suites, kind="suite")[:3] == (
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
    )
    assert "x25519" in labels(info.groups, kind="group")
    assert "rsa_pss_rsae_sha256" in labels(info.signature_algorithms, kind="signature_scheme")
    assert info.alpn == ()


@pytest.mark.parametrize("fragment", [1, 7, 100, 300])
def test_hello_split_across_records(fragment: int) -> None:
    whole = recorded("jdk11010_https")
    split = reframe(whole, fragment)
    info = parse_client_hello(split)
    assert info.records > 1
    assert info.wire_length == len(split)
    assert info == parse_client_hello_records_ignored(whole, info.records, len(split))


def parse_client_hello_records_ignored(data: bytes, records: int, wire_length: int) -> object:
    import dataclasses

    return dataclasses.replace(parse_client_hello(data), records=records, wire_length=wire_length)


def test_reader_fed_byte_by_byte_waits_then_answers_once_complete() -> None:
    data = reframe(recorded("python_urllib"), 64)
    reader = ClientHelloReader()
    results = [reader.feed(data[i : i + 1]) for i in range(len(data))]
    assert all(r is None for r in results[:-1])
    assert results[-1] is not None
    assert results[-1].versions_offered == ("TLSv1.2", "TLSv1.3")
    assert reader.buffered == data


def test_bytes_after_the_hello_stay_buffered_for_the_tls_engine() -> None:
    data = recorded("curl") + b"\x14\x03\x03\x00\x01\x01"  # a ChangeCipherSpec right behind it
    reader = ClientHelloReader()
    info = reader.feed(data)
    assert info is not None and info.wire_length == len(data) - 6
    assert reader.buffered == data


# ---------------------------------------------------------------- GREASE and padding


def test_grease_values_are_kept_raw_but_dropped_from_names() -> None:
    ext = extension(0x0A0A, b"")
    ext += extension(10, struct.pack(">H", 6) + struct.pack(">HHH", 0x2A2A, 29, 23))
    ext += extension(43, bytes([6]) + struct.pack(">HHH", 0x3A3A, 0x0304, 0x0303))
    ext += extension(13, struct.pack(">H", 4) + struct.pack(">HH", 0x0403, 0x0804))
    ext += extension(51, struct.pack(">H", 5) + struct.pack(">HH", 0x4A4A, 1) + b"\x00")
    ext += extension(21, bytes(200))
    ext += extension(0xFAFA, b"\x00")
    info = parse_client_hello(tls_hello(suites=[0x1A1A, 0x1301, 0xC02F], extensions=ext))
    assert info.cipher_suites == (0x1A1A, 0x1301, 0xC02F)
    assert labels(info.cipher_suites, kind="suite") == (
        "TLS_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    )
    assert info.versions_offered == ("TLSv1.2", "TLSv1.3")
    assert labels(info.groups, kind="group") == ("x25519", "secp256r1")
    assert info.key_share_groups == (0x4A4A,)
    assert info.padding_length == 200
    assert labels(info.extensions, kind="extension") == (
        "supported_groups",
        "supported_versions",
        "signature_algorithms",
        "key_share",
        "padding",
    )


def test_project_probe_hellos_parse_back() -> None:
    for version in (TlsVersion.SSLv3, TlsVersion.TLSv1_0, TlsVersion.TLSv1_2, TlsVersion.TLSv1_3):
        info = parse_client_hello(build_client_hello(version, server_name="example.test"))
        assert info.versions_offered == (version.value,)
        if version != TlsVersion.SSLv3:
            assert info.sni == "example.test"


def test_hello_without_supported_versions_only_states_its_maximum() -> None:
    info = parse_client_hello(tls_hello(suites=[0x002F], legacy_version=0x0303))
    assert info.versions_offered == ("TLSv1.2",)
    assert not info.versions_exact
    assert info.extensions == ()
    info10 = parse_client_hello(tls_hello(suites=[0x002F], legacy_version=0x0301))
    assert info10.versions_offered == ("TLSv1.0",) and info10.versions_exact


def test_weak_suites_are_named() -> None:
    info = parse_client_hello(tls_hello(suites=[0xC02F, 0x0005, 0x000A, 0x0003, 0x0018, 0x0002, 0x00FF]))
    assert weak_suites(info.cipher_suites) == (
        "TLS_RSA_WITH_RC4_128_SHA",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
        "TLS_DH_anon_WITH_RC4_128_MD5",
        "TLS_RSA_WITH_NULL_SHA",
    )


# ---------------------------------------------------------------- SSLv2-format hellos


def test_sslv2_format_hello_of_the_project_prober() -> None:
    info = parse_client_hello(build_sslv2_client_hello())
    assert info.sslv2_format
    assert info.format_name == "SSLv2-format ClientHello"
    assert info.versions_offered == ("SSLv2",)
    assert info.sslv2_cipher_kinds and not info.cipher_suites
    assert "SSL_CK_RC4_128_WITH_MD5" in labels(info.sslv2_cipher_kinds, kind="sslv2_cipher")


def test_sslv2_compatible_hello_announcing_tls10() -> None:
    """What OpenSSL 0.9.8 and Java 6 sent by default: SSLv2 framing, version 3.1, TLS suites inside."""
    specs = (
        bytes.fromhex("010080") + bytes.fromhex("000035") + bytes.fromhex("00002f") + bytes.fromhex("00000a")
    )
    challenge = bytes(range(16))
    msg = b"\x01\x03\x01" + struct.pack(">HHH", len(specs), 0, len(challenge)) + specs + challenge
    data = struct.pack(">H", 0x8000 | len(msg)) + msg
    info = parse_client_hello(data)
    assert info.sslv2_format and info.legacy_version == 0x0301
    assert info.versions_offered == ("SSLv2", "TLSv1.0")
    assert info.cipher_suites == (0x0035, 0x002F, 0x000A)
    assert weak_suites(info.cipher_suites) == ("TLS_RSA_WITH_3DES_EDE_CBC_SHA",)
    assert info.wire_length == len(data)


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "plain HTTP"),
        (b"SSH-2.0-OpenSSH_9.2\r\n", "SSH"),
        (b"\x15\x03\x03\x00\x02\x02\x46", "alert protocol_version"),
        (b"\x16\x02\x00\x00\x05\x01\x00\x00\x01\x00", "not TLS"),
        (b"\x16\x03\x01\x00\x00", "length 0"),
        (b"\x16\x03\x01\x00\x04\x02\x00\x00\x00", "not ClientHello"),
        (b"\x16\x03\x01\x00\x04\x01\xff\xff\xff", "implausibly large"),
        (b"\x80\x03\x01\x00\x02", "too short"),
    ],
)
def test_malformed_first_flights_raise_peer_error(data: bytes, message: str) -> None:
    with pytest.raises(PeerError, match=message):
        ClientHelloReader().feed(data)


def test_duplicate_extension_and_truncated_vectors() -> None:
    dup = extension(23, b"") + extension(23, b"")
    with pytest.raises(PeerError, match="twice"):
        parse_client_hello(tls_hello(suites=[0x1301], extensions=dup))
    bad_groups = extension(10, struct.pack(">H", 9) + b"\x00\x1d")
    with pytest.raises(PeerError, match="truncated"):
        parse_client_hello(tls_hello(suites=[0x1301], extensions=bad_groups))
    with pytest.raises(PeerError, match="no cipher suite"):
        parse_client_hello(tls_hello(suites=[]))
    with pytest.raises(PeerError, match="incomplete"):
        parse_client_hello(recorded("curl")[:-1])


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_only_ever_raise_peer_error(data: bytes) -> None:
    reader = ClientHelloReader()
    with contextlib.suppress(PeerError):
        reader.feed(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=5, max_value=516), st.binary(min_size=1, max_size=8))
def test_corrupted_real_hellos_only_ever_raise_peer_error(offset: int, junk: bytes) -> None:
    data = bytearray(recorded("curl"))
    data[offset : offset + len(junk)] = junk
    with contextlib.suppress(PeerError):
        parse_client_hello(bytes(data))


def test_names_the_peer_chose_stay_inert() -> None:
    hostile = b"evil\x1b[31m\\.example"
    sni = extension(
        0, struct.pack(">H", len(hostile) + 3) + b"\x00" + struct.pack(">H", len(hostile)) + hostile
    )
    alpn = extension(16, struct.pack(">H", 4) + b"\x03h\x072")
    info = parse_client_hello(tls_hello(suites=[0x1301], extensions=sni + alpn))
    assert info.sni == "evil\\x1b[31m\\x5c.example"
    assert info.alpn == ("h\\x072",)
    assert all(0x20 <= ord(c) < 0x7F for c in info.sni)
