"""Hand-built TLS 1.2 ClientHellos as raw bytes, independent of tlsaudit's own hello builder, and what a
server answers to one (the first record, or how the connection ended).

Used to document stack limits that a scanner must live with, e.g. wolfSSL's refusal of hellos that list
more than about 150 cipher suites.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from enum import StrEnum

from .acceptor import ServerAddress
from .wire import CONTENT_HANDSHAKE, TLS10, extension, handshake, record

CONVENTIONAL_SUITES: tuple[int, ...] = (
    0xC02F,  # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    0xC030,  # TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    0xC02B,  # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    0xC013,  # TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    0x009C,  # TLS_RSA_WITH_AES_128_GCM_SHA256
    0x002F,  # TLS_RSA_WITH_AES_128_CBC_SHA
)
"""Suites every TLS 1.2 server here can pick with an RSA certificate."""

_SKIP = frozenset({0x00FF, 0x5600, *CONVENTIONAL_SUITES})  # SCSVs, and no duplicates


def filler_suites(count: int) -> list[int]:
    """`count` distinct suite code points after the conventional ones: 0x0001, 0x0002, ... (the low range
    holds the registered SSL/TLS-era suites; a server ignores the values it does not know)."""
    suites: list[int] = []
    value = 1
    while len(suites) < count:
        if value not in _SKIP:
            suites.append(value)
        value += 1
    return suites


def _vector16(items: list[int]) -> bytes:
    data = b"".join(struct.pack("!H", i) for i in items)
    return struct.pack("!H", len(data)) + data


def client_hello_tls12(suites: list[int], server_name: str = "localhost") -> bytes:
    """One TLS record holding a TLS 1.2 ClientHello offering `suites` in that order, with the usual
    extensions of a TLS 1.2 client (SNI, groups, point formats, signature algorithms, renegotiation)."""
    name = server_name.encode()
    extensions = b"".join(
        [
            extension(0x0000, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name),
            extension(0x000A, _vector16([0x001D, 0x0017, 0x0018])),  # x25519, secp256r1, secp384r1
            extension(0x000B, b"\x01\x00"),  # uncompressed points
            extension(0x000D, _vector16([0x0804, 0x0805, 0x0401, 0x0501, 0x0403, 0x0201])),
            extension(0xFF01, b"\x00"),  # empty renegotiation_info
        ]
    )
    body = (
        b"\x03\x03"
        + os.urandom(32)
        + b"\x00"  # no session id
        + _vector16(suites)
        + b"\x01\x00"  # null compression only
        + struct.pack("!H", len(extensions))
        + extensions
    )
    return record(CONTENT_HANDSHAKE, handshake(1, body), version=TLS10)


class AnswerKind(StrEnum):
    SERVER_HELLO = "server_hello"
    ALERT = "alert"
    CLOSED = "closed"
    RESET = "reset"
    TIMEOUT = "timeout"
    OTHER = "other"


ALERT_NAMES: dict[int, str] = {
    10: "unexpected_message",
    20: "bad_record_mac",
    40: "handshake_failure",
    47: "illegal_parameter",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """How a server answered one hello: a ServerHello (with the suite it chose), an alert, or an end."""

    kind: AnswerKind
    suite: int | None = None
    alert: str | None = None

    def __str__(self) -> str:
        if self.kind is AnswerKind.SERVER_HELLO:
            return f"ServerHello suite {self.suite:#06x}"
        if self.kind is AnswerKind.ALERT:
            return f"alert {self.alert}"
        return self.kind.value


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def send_hello(address: ServerAddress, hello: bytes, timeout: float = 5.0) -> Answer:
    """Send `hello` and classify the first record the server answers with."""
    with socket.create_connection((address.host, address.port), timeout=timeout) as conn:
        conn.sendall(hello)
        try:
            header = _read_exactly(conn, 5)
            if len(header) < 5:
                return Answer(kind=AnswerKind.CLOSED)
            body = _read_exactly(conn, struct.unpack("!H", header[3:5])[0])
        except ConnectionResetError:
            return Answer(kind=AnswerKind.RESET)
        except TimeoutError:
            return Answer(kind=AnswerKind.TIMEOUT)
    if header[0] == 0x15 and len(body) >= 2:
        return Answer(kind=AnswerKind.ALERT, alert=ALERT_NAMES.get(body[1], str(body[1])))
    if header[0] == 0x16 and body[:1] == b"\x02" and len(body) >= 39:
        session_id_length = body[38]
        offset = 39 + session_id_length
        return Answer(kind=AnswerKind.SERVER_HELLO, suite=struct.unpack("!H", body[offset : offset + 2])[0])
    return Answer(kind=AnswerKind.OTHER)
