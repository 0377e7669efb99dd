"""Tiny TLS wire helpers for scripted peers and quirk proxies, written apart from tlsaudit's own `tls/`.

Reading: `read_client_hello(conn)` reads one whole ClientHello (TLS records or an SSLv2-format hello) and
returns its raw bytes with a `ClientHelloInfo`. Building: records, handshake messages, a ServerHello, a
TLS 1.2 Certificate, ServerHelloDone, alerts, an SSLv2 SERVER-HELLO. Only what the test peers need.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

# --- constants (from the RFCs, not from tlsaudit) -------------------------------------------------------

CONTENT_ALERT = 21
CONTENT_HANDSHAKE = 22

HANDSHAKE_SERVER_HELLO = 2
HANDSHAKE_CERTIFICATE = 11
HANDSHAKE_SERVER_HELLO_DONE = 14

ALERT_DECODE_ERROR = 50
ALERT_PROTOCOL_VERSION = 70
ALERT_HANDSHAKE_FAILURE = 40

EXT_SUPPORTED_GROUPS = 10
EXT_SUPPORTED_VERSIONS = 43
EXT_KEY_SHARE = 51
EXT_RENEGOTIATION_INFO = 0xFF01
SCSV_RENEGOTIATION = 0x00FF

SSL2 = 0x0002
SSL3 = 0x0300
TLS10 = 0x0301
TLS11 = 0x0302
TLS12 = 0x0303
TLS13 = 0x0304

VERSION_NAMES: dict[int, str] = {
    SSL2: "SSLv2",
    SSL3: "SSLv3",
    TLS10: "TLSv1.0",
    TLS11: "TLSv1.1",
    TLS12: "TLSv1.2",
    TLS13: "TLSv1.3",
}
"""Wire version -> the JSON key of `endpoints[].protocols`."""

HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
"""RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest (in TLS 1.3 only)."""

TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009C
TLS_AES_128_GCM_SHA256 = 0x1301
RSA_KEY_EXCHANGE_SUITES: tuple[int, ...] = (0x009C, 0x009D, 0x002F, 0x0035, 0x003C, 0x003D, 0x000A)
"""TLS 1.2 suites whose server flight is exactly ServerHello, Certificate, ServerHelloDone."""

SSL2_RC4_128_WITH_MD5 = bytes([0x01, 0x00, 0x80])
SSL2_DES_192_EDE3_CBC_WITH_MD5 = bytes([0x07, 0x00, 0xC0])

KEY_SHARE_LENGTHS: dict[int, int] = {0x001D: 32, 0x001E: 56, 0x0017: 65, 0x0018: 97, 0x0019: 133}
"""Named group -> length of its key_share (x25519, x448, P-256, P-384, P-521 uncompressed points)."""

MAX_HELLO = 1 << 17
"""Bytes a peer reads at most while waiting for one ClientHello."""


def _is_grease(value: int) -> bool:
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


# --- reading a ClientHello ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyShare:
    group: int
    length: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientHelloInfo:
    """What a peer needs to know about one ClientHello."""

    sslv2_format: bool
    record_length: int
    """Payload length of the first record (TLS), or the SSLv2 record's length."""
    legacy_version: int
    cipher_suites: tuple[int, ...]
    """TLS suites (2 bytes each), or SSLv2 cipher specs as 3-byte integers for an SSLv2-format hello."""
    session_id: bytes = b""
    supported_versions: tuple[int, ...] | None = None
    key_shares: tuple[KeyShare, ...] = ()
    extension_types: tuple[int, ...] = ()

    @property
    def offered_versions(self) -> tuple[int, ...]:
        """supported_versions (without GREASE) when present, else the legacy version alone."""
        if self.supported_versions is not None:
            return tuple(v for v in self.supported_versions if not _is_grease(v))
        return (self.legacy_version,)

    @property
    def highest_version(self) -> int:
        return max(self.offered_versions, default=self.legacy_version)

    def negotiate(self, server_versions: Sequence[int]) -> int | None:
        """The version a conventional server accepting exactly `server_versions` would pick, or None."""
        if self.supported_versions is not None:
            common = set(self.offered_versions) & set(server_versions)
            return max(common) if common else None
        if self.legacy_version == SSL2:
            return SSL2 if SSL2 in server_versions else None
        # Without supported_versions the client offers every version up to legacy_version (TLS <= 1.2).
        below = [v for v in server_versions if SSL3 <= v <= min(self.legacy_version, TLS12)]
        return max(below) if below else None


class HelloError(ValueError):
    """The client's first bytes are no complete, well-formed ClientHello."""


def read_client_hello(conn: socket.socket, timeout: float = 3.0) -> tuple[bytes, ClientHelloInfo]:
    """Read until one whole ClientHello arrived; return every byte read and what the hello says.

    Raises `HelloError` when the bytes are not a ClientHello, and `OSError`/`TimeoutError` on the socket's.
    """
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        info = _parse_if_complete(data)
        if info is not None:
            return data, info
        if len(data) > MAX_HELLO:
            raise HelloError("no complete ClientHello within the size limit")
        conn.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = conn.recv(65536)
        if not chunk:
            raise HelloError(f"the client closed after {len(data)} bytes")
        data += chunk


def _parse_if_complete(data: bytes) -> ClientHelloInfo | None:
    if len(data) < 5:
        return None
    if data[0] & 0x80:
        length = ((data[0] & 0x7F) << 8) | data[1]
        if len(data) < 2 + length:
            return None
        return _parse_sslv2_hello(data[2 : 2 + length], length)
    if data[0] != CONTENT_HANDSHAKE:
        raise HelloError(f"first byte {data[0]:#04x} is no handshake record")
    handshake = b""
    offset = 0
    first_length = struct.unpack("!H", data[3:5])[0]
    while offset + 5 <= len(data):
        if data[offset] != CONTENT_HANDSHAKE:
            raise HelloError("a non-handshake record inside the ClientHello")
        length = struct.unpack("!H", data[offset + 3 : offset + 5])[0]
        if offset + 5 + length > len(data):
            break
        handshake += data[offset + 5 : offset + 5 + length]
        offset += 5 + length
        if len(handshake) >= 4 and len(handshake) >= 4 + int.from_bytes(handshake[1:4], "big"):
            if handshake[0] != 1:
                raise HelloError(f"handshake type {handshake[0]} is no ClientHello")
            return _parse_tls_hello(handshake[4 : 4 + int.from_bytes(handshake[1:4], "big")], first_length)
    return None


def _parse_sslv2_hello(body: bytes, length: int) -> ClientHelloInfo:
    if len(body) < 9 or body[0] != 1:
        raise HelloError("an SSLv2 record that is no CLIENT-HELLO")
    version = struct.unpack("!H", body[1:3])[0]
    specs_length, session_length, _challenge_length = struct.unpack("!HHH", body[3:9])
    specs = body[9 : 9 + specs_length]
    session = body[9 + specs_length : 9 + specs_length + session_length]
    return ClientHelloInfo(
        sslv2_format=True,
        record_length=length,
        legacy_version=version,
        cipher_suites=tuple(int.from_bytes(specs[i : i + 3], "big") for i in range(0, len(specs) - 2, 3)),
        session_id=session,
    )


def _parse_tls_hello(body: bytes, record_length: int) -> ClientHelloInfo:
    try:
        version = struct.unpack("!H", body[0:2])[0]
        at = 34
        session_id = body[at + 1 : at + 1 + body[at]]
        at += 1 + body[at]
        suites_length = struct.unpack("!H", body[at : at + 2])[0]
        suites = body[at + 2 : at + 2 + suites_length]
        at += 2 + suites_length
        at += 1 + body[at]  # compression methods
        extensions: list[tuple[int, bytes]] = []
        if at + 2 <= len(body):
            end = at + 2 + struct.unpack("!H", body[at : at + 2])[0]
            at += 2
            while at + 4 <= end:
                kind, size = struct.unpack("!HH", body[at : at + 4])
                extensions.append((kind, body[at + 4 : at + 4 + size]))
                at += 4 + size
    except (IndexError, struct.error) as error:
        raise HelloError(f"truncated ClientHello: {error}") from error
    supported: tuple[int, ...] | None = None
    shares: list[KeyShare] = []
    for kind, data in extensions:
        if kind == EXT_SUPPORTED_VERSIONS and data:
            listed = data[1 : 1 + data[0]]
            supported = tuple(struct.unpack("!H", listed[i : i + 2])[0] for i in range(0, len(listed) - 1, 2))
        elif kind == EXT_KEY_SHARE and len(data) >= 2:
            at = 2
            while at + 4 <= len(data):
                group, size = struct.unpack("!HH", data[at : at + 4])
                shares.append(KeyShare(group=group, length=size))
                at += 4 + size
    return ClientHelloInfo(
        sslv2_format=False,
        record_length=record_length,
        legacy_version=version,
        cipher_suites=tuple(struct.unpack("!H", suites[i : i + 2])[0] for i in range(0, len(suites) - 1, 2)),
        session_id=session_id,
        supported_versions=supported,
        key_shares=tuple(shares),
        extension_types=tuple(kind for kind, _ in extensions),
    )


# --- building server messages ---------------------------------------------------------------------------


def record(content_type: int, payload: bytes, version: int = TLS12) -> bytes:
    """`payload` as TLS records of at most 2^14 bytes each."""
    chunks = [payload[i : i + 16384] for i in range(0, len(payload), 16384)] or [b""]
    return b"".join(struct.pack("!BHH", content_type, version, len(c)) + c for c in chunks)


def handshake(msg_type: int, body: bytes) -> bytes:
    """One handshake message (type, 3-byte length, body)."""
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def extension(kind: int, data: bytes) -> bytes:
    return struct.pack("!HH", kind, len(data)) + data


def server_hello(
    *,
    version: int = TLS12,
    suite: int = TLS_RSA_WITH_AES_128_GCM_SHA256,
    session_id: bytes = b"",
    random: bytes | None = None,
    extensions: Sequence[bytes] | None = None,
) -> bytes:
    """A ServerHello handshake message; `extensions` are already encoded (see `extension`)."""
    body = (
        struct.pack("!H", version)
        + (random if random is not None else os.urandom(32))
        + bytes([len(session_id)])
        + session_id
        + struct.pack("!H", suite)
        + b"\x00"
    )
    if extensions is not None:
        joined = b"".join(extensions)
        body += struct.pack("!H", len(joined)) + joined
    return handshake(HANDSHAKE_SERVER_HELLO, body)


def certificate_tls12(ders: Sequence[bytes]) -> bytes:
    """A TLS <= 1.2 Certificate handshake message carrying `ders` (leaf first)."""
    entries = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    return handshake(HANDSHAKE_CERTIFICATE, len(entries).to_bytes(3, "big") + entries)


def server_hello_done() -> bytes:
    return handshake(HANDSHAKE_SERVER_HELLO_DONE, b"")


def alert(description: int, *, version: int = TLS12) -> bytes:
    """A fatal alert record."""
    return record(CONTENT_ALERT, bytes([2, description]), version)


def tls13_server_hello(hello: ClientHelloInfo, *, extra: Sequence[bytes] = (), legacy: int = TLS12) -> bytes:
    """A TLS 1.3 ServerHello answering `hello`: supported_versions 0x0304 and a key_share, then `extra`."""
    share = hello.key_shares[0] if hello.key_shares else KeyShare(group=0x001D, length=32)
    length = KEY_SHARE_LENGTHS.get(share.group, share.length)
    key_share = extension(EXT_KEY_SHARE, struct.pack("!HH", share.group, length) + os.urandom(length))
    versions = [extension(EXT_SUPPORTED_VERSIONS, struct.pack("!H", TLS13))] if legacy == TLS12 else []
    return server_hello(
        version=legacy,
        suite=TLS_AES_128_GCM_SHA256,
        session_id=hello.session_id,
        extensions=[*versions, key_share, *extra],
    )


def pick_rsa_suite(hello: ClientHelloInfo) -> int:
    """An offered suite whose TLS 1.2 flight is ServerHello, Certificate, ServerHelloDone."""
    for suite in RSA_KEY_EXCHANGE_SUITES:
        if suite in hello.cipher_suites:
            return suite
    return TLS_RSA_WITH_AES_128_GCM_SHA256


def sslv2_server_hello(
    certificate_der: bytes, *, cipher_specs: Sequence[bytes] = (SSL2_RC4_128_WITH_MD5,)
) -> bytes:
    """An SSLv2 SERVER-HELLO record (2-byte header) offering `cipher_specs`, with a 16-byte connection id."""
    specs = b"".join(cipher_specs)
    connection_id = os.urandom(16)
    body = (
        bytes([4, 0, 1])  # SERVER-HELLO, no session-id hit, X.509 certificate
        + struct.pack("!HHHH", SSL2, len(certificate_der), len(specs), len(connection_id))
        + certificate_der
        + specs
        + connection_id
    )
    return struct.pack("!H", 0x8000 | len(body)) + body


def sslv2_client_hello() -> bytes:
    """A conventional SSLv2 CLIENT-HELLO (version 2, two cipher specs, 16-byte challenge)."""
    specs = SSL2_RC4_128_WITH_MD5 + SSL2_DES_192_EDE3_CBC_WITH_MD5
    challenge = os.urandom(16)
    body = bytes([1]) + struct.pack("!HHHH", SSL2, len(specs), 0, len(challenge)) + specs + challenge
    return struct.pack("!H", 0x8000 | len(body)) + body


# --- certificates as DER --------------------------------------------------------------------------------


def pem_file_to_ders(path: Path) -> list[bytes]:
    """Every certificate in a PEM file, as DER, in file order."""
    return [
        c.public_bytes(serialization.Encoding.DER) for c in x509.load_pem_x509_certificates(path.read_bytes())
    ]


EXT_PADDING = 21


def client_hello(
    *,
    version: int = TLS12,
    suites: Sequence[int] = (0xC02F, TLS_RSA_WITH_AES_128_GCM_SHA256),
    supported_versions: Sequence[int] = (),
    record_length: int | None = None,
) -> bytes:
    """A minimal ClientHello record (no key_share: for checking the peers, not for finishing handshakes);
    `record_length` pads it (RFC 7685 padding extension) to exactly that many bytes after the header."""
    extensions = b""
    if supported_versions:
        listed = b"".join(struct.pack("!H", v) for v in supported_versions)
        extensions += extension(EXT_SUPPORTED_VERSIONS, bytes([len(listed)]) + listed)
    extensions += extension(EXT_RENEGOTIATION_INFO, b"\x00")
    body = (
        struct.pack("!H", version)
        + os.urandom(32)
        + b"\x00"
        + struct.pack("!H", 2 * len(suites))
        + b"".join(struct.pack("!H", s) for s in suites)
        + b"\x01\x00"
    )
    if record_length is not None:
        unpadded = 4 + len(body) + 2 + len(extensions) + 4
        if record_length < unpadded:
            raise ValueError(f"a ClientHello this small needs at least {unpadded} bytes")
        extensions += extension(EXT_PADDING, bytes(record_length - unpadded))
    message = handshake(1, body + struct.pack("!H", len(extensions)) + extensions)
    return record(CONTENT_HANDSHAKE, message, version=TLS10)
