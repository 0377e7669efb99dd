"""Parse what a server sends back to a ClientHello: ServerHello, Certificate, alerts, SSLv2 SERVER-HELLO.

Feed bytes as they arrive in any split; events come out once complete. Anything that is not valid TLS
raises `PeerError` with a reason fit for a report.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsaudit.errors import PeerError
from tlsaudit.models import TlsVersion
from tlsaudit.tls.constants import HELLO_RETRY_REQUEST_RANDOM, alert_name, version_from_code
from tlsaudit.tls.wire import (
    CONTENT_ALERT,
    CONTENT_APPLICATION_DATA,
    CONTENT_CHANGE_CIPHER_SPEC,
    CONTENT_HANDSHAKE,
    Reader,
    RecordBuffer,
    describe_non_tls,
)

HANDSHAKE_SERVER_HELLO = 2
HANDSHAKE_CERTIFICATE = 11
HANDSHAKE_SERVER_HELLO_DONE = 14
EXT_SUPPORTED_VERSIONS = 43

# A certificate chain beyond this is not something a real server sends in a hello flight.
MAX_HANDSHAKE_MESSAGE = 512 * 1024
SSL2_SERVER_HELLO = 4
SSL2_ERROR = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerHello:
    legacy_version: int
    selected_version: int
    cipher_suite: int
    compression: int
    session_id: bytes
    extensions: tuple[tuple[int, bytes], ...]
    is_hello_retry: bool

    @property
    def version(self) -> TlsVersion | None:
        return version_from_code(self.selected_version)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateChain:
    der_certs: tuple[bytes, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    level: int
    description: int

    @property
    def name(self) -> str:
        return alert_name(self.description)

    @property
    def fatal(self) -> bool:
        return self.level != 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerHelloDone:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SSLv2ServerHello:
    certificate: bytes
    cipher_kinds: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptedFlight:
    """TLS 1.3: the rest of the server's flight is encrypted; nothing more can be read without keys."""


Event = ServerHello | CertificateChain | Alert | ServerHelloDone | SSLv2ServerHello | EncryptedFlight


def parse_server_hello(body: bytes) -> ServerHello:
    r = Reader(body)
    legacy_version = r.u16()
    random = r.take(32)
    session_id = r.vector(1)
    cipher_suite = r.u16()
    compression = r.u8()
    extensions: list[tuple[int, bytes]] = []
    if r.remaining:
        ext_reader = Reader(r.vector(2))
        while ext_reader.remaining:
            ext_type = ext_reader.u16()
            extensions.append((ext_type, ext_reader.vector(2)))
    r.expect_end("ServerHello")
    selected = legacy_version
    for ext_type, data in extensions:
        if ext_type == EXT_SUPPORTED_VERSIONS:
            if len(data) != 2:
                raise PeerError("malformed supported_versions in ServerHello")
            selected = (data[0] << 8) | data[1]
    if legacy_version >> 8 != 3:
        raise PeerError(f"ServerHello carries an impossible version 0x{legacy_version:04x}")
    return ServerHello(
        legacy_version=legacy_version,
        selected_version=selected,
        cipher_suite=cipher_suite,
        compression=compression,
        session_id=session_id,
        extensions=tuple(extensions),
        is_hello_retry=random == HELLO_RETRY_REQUEST_RANDOM,
    )


def parse_certificate(body: bytes) -> CertificateChain:
    r = Reader(body)
    chain = Reader(r.vector(3))
    r.expect_end("Certificate")
    certs: list[bytes] = []
    while chain.remaining:
        certs.append(chain.vector(3))
    return CertificateChain(der_certs=tuple(certs))


class ServerFlightParser:
    """Turns the server's bytes into events. Detects an SSLv2 reply by its first byte."""

    def __init__(self) -> None:
        self._records = RecordBuffer()
        self._handshake = bytearray()
        self._mode: str | None = None  # "tls" | "sslv2"
        self._sslv2 = bytearray()
        self._encrypted = False
        self._seen_server_hello = False

    def feed(self, data: bytes) -> list[Event]:
        if not data:
            return []
        if self._mode is None:
            first = data[0]
            self._mode = "sslv2" if first & 0x80 else "tls"
        if self._mode == "sslv2":
            return self._feed_sslv2(data)
        events: list[Event] = []
        for record in self._records.feed(data):
            if self._encrypted:
                continue
            if record.content_type == CONTENT_ALERT:
                events.extend(self._alerts(record.payload))
            elif record.content_type == CONTENT_HANDSHAKE:
                self._handshake += record.payload
                events.extend(self._messages())
            elif record.content_type == CONTENT_CHANGE_CIPHER_SPEC:
                continue
            elif record.content_type == CONTENT_APPLICATION_DATA and self._seen_server_hello:
                self._encrypted = True
                events.append(EncryptedFlight())
            else:
                raise PeerError(f"unexpected record type {record.content_type} before the handshake")
        return events

    def _alerts(self, payload: bytes) -> list[Event]:
        if len(payload) % 2 or not payload:
            raise PeerError("malformed alert record")
        return [Alert(level=payload[i], description=payload[i + 1]) for i in range(0, len(payload), 2)]

    def _messages(self) -> list[Event]:
        events: list[Event] = []
        while len(self._handshake) >= 4:
            msg_type = self._handshake[0]
            length = int.from_bytes(self._handshake[1:4], "big")
            if length > MAX_HANDSHAKE_MESSAGE:
                raise PeerError(f"handshake message claims {length} bytes")
            if len(self._handshake) < 4 + length:
                break
            body = bytes(self._handshake[4 : 4 + length])
            del self._handshake[: 4 + length]
            if msg_type == HANDSHAKE_SERVER_HELLO:
                hello = parse_server_hello(body)
                self._seen_server_hello = True
                events.append(hello)
                if hello.selected_version >= 0x0304 and not hello.is_hello_retry:
                    self._encrypted = True
                    events.append(EncryptedFlight())
                    break
            elif not self._seen_server_hello:
                raise PeerError(f"handshake message {msg_type} arrived before ServerHello")
            elif msg_type == HANDSHAKE_CERTIFICATE:
                events.append(parse_certificate(body))
            elif msg_type == HANDSHAKE_SERVER_HELLO_DONE:
                events.append(ServerHelloDone())
        return events

    def _feed_sslv2(self, data: bytes) -> list[Event]:
        self._sslv2 += data
        if len(self._sslv2) < 2:
            return []
        if not self._sslv2[0] & 0x80:
            raise PeerError(describe_non_tls(bytes(self._sslv2)))
        length = ((self._sslv2[0] & 0x7F) << 8) | self._sslv2[1]
        if len(self._sslv2) < 2 + length:
            return []
        r = Reader(bytes(self._sslv2[2 : 2 + length]))
        msg_type = r.u8()
        if msg_type == SSL2_ERROR:
            return [Alert(level=2, description=40)]
        if msg_type != SSL2_SERVER_HELLO:
            raise PeerError(describe_non_tls(bytes(self._sslv2)))
        r.u8()  # session-id-hit
        r.u8()  # certificate type
        version = r.u16()
        if version != 0x0002:
            raise PeerError(f"SSLv2 SERVER-HELLO with version 0x{version:04x}")
        cert_len, specs_len, _conn_id_len = r.u16(), r.u16(), r.u16()
        certificate = r.take(cert_len)
        specs = r.take(specs_len)
        if specs_len % 3:
            raise PeerError("SSLv2 cipher specs not a multiple of 3 bytes")
        kinds = tuple(int.from_bytes(specs[i : i + 3], "big") for i in range(0, specs_len, 3))
        return [SSLv2ServerHello(certificate=certificate, cipher_kinds=kinds)]
