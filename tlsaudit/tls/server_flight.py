"""Parse what a server sends back to a ClientHello: ServerHello, Certificate, alerts, SSLv2 SERVER-HELLO.

Feed bytes as they arrive in any split; events come out once complete. Anything that is not valid TLS
ends the stream with one `Malformed` event carrying the reason; the events parsed before the bad bytes
are delivered first, so any split of the same bytes gives the same events.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsaudit.errors import NotTlsError, PeerError
from tlsaudit.models import TlsVersion
from tlsaudit.tls.constants import (
    ALERT_CLOSE_NOTIFY,
    ALERT_LEVEL_WARNING,
    CIPHER_SUITES,
    HELLO_RETRY_REQUEST_RANDOM,
    ContentType,
    ExtensionType,
    HandshakeType,
    alert_name,
    version_from_code,
)
from tlsaudit.tls.wire import Reader, RecordBuffer, describe_non_tls

TLS12_CODE = 0x0303
TLS13_CODE = 0x0304
# A certificate chain beyond this is not something a real server sends in a hello flight
# (a 200-certificate chain or a leaf with 10,000 names stays well below it).
MAX_HANDSHAKE_MESSAGE = 4 * 1024 * 1024
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
class CertificateRequest:
    """The server asked for a client certificate (TLS 1.0-1.2; TLS 1.3 asks inside the encrypted flight)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    level: int
    description: int

    @property
    def name(self) -> str:
        return alert_name(self.description)

    @property
    def fatal(self) -> bool:
        return self.level != ALERT_LEVEL_WARNING

    @property
    def ends_handshake(self) -> bool:
        """A fatal alert, or close_notify: either way the server will not go on."""
        return self.fatal or self.description == ALERT_CLOSE_NOTIFY


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerKeyExchange:
    """TLS 1.2 and below: the server's ephemeral key-exchange parameters (the signature is not read).

    `kex` is the selected suite's key exchange (DHE, ECDHE, RSA for export suites, ...); for DHE the
    prime `dh_p` (its bit length is the group's size), for ECDHE the `named_group` (None for an explicit
    curve, which `explicit_curve` then says)."""

    kex: str
    dh_p: bytes = b""
    named_group: int | None = None
    explicit_curve: bool = False

    @property
    def dh_bits(self) -> int | None:
        return int.from_bytes(self.dh_p, "big").bit_length() if self.dh_p else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerHelloDone:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """A HeartbeatMessage record (RFC 6520) in the clear: its type (1 request, 2 response), the payload
    length it claims and the length of the record. Its bytes are never kept: a Heartbleed reply carries
    the server's memory."""

    message_type: int
    payload_length: int
    record_length: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SSLv2ServerHello:
    certificate: bytes
    cipher_kinds: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptedFlight:
    """TLS 1.3: the rest of the server's flight is encrypted; nothing more can be read without keys."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Malformed:
    """The peer sent something that is not valid TLS; nothing after it is parsed. `not_tls`: the very
    first bytes were no TLS at all (another protocol speaking, or noise)."""

    reason: str
    not_tls: bool = False


Event = (
    ServerHello
    | CertificateChain
    | CertificateRequest
    | ServerKeyExchange
    | Alert
    | ServerHelloDone
    | Heartbeat
    | SSLv2ServerHello
    | EncryptedFlight
    | Malformed
)


def parse_server_hello(body: bytes) -> ServerHello:
    """A ServerHello as RFC 8446 4.1.3 / RFC 5246 7.4.1.3 allow it; raises PeerError otherwise."""
    r = Reader(body)
    legacy_version = r.u16()
    random = r.take(32)
    session_id = r.vector(1)
    if len(session_id) > 32:
        raise PeerError(f"ServerHello session id of {len(session_id)} bytes (at most 32)")
    cipher_suite = r.u16()
    compression = r.u8()
    extensions = r.extensions()
    r.expect_end("ServerHello")
    if legacy_version >> 8 != 3:
        raise PeerError(f"ServerHello carries an impossible version 0x{legacy_version:04x}")
    seen: set[int] = set()
    for ext_type, _data in extensions:
        if ext_type in seen:
            raise PeerError(f"ServerHello repeats extension {ext_type} (RFC 8446 4.2)")
        seen.add(ext_type)
    selected = legacy_version
    for ext_type, data in extensions:
        if ext_type == ExtensionType.supported_versions:
            if len(data) != 2:
                raise PeerError("malformed supported_versions in ServerHello")
            selected = (data[0] << 8) | data[1]
            if selected < TLS13_CODE:
                raise PeerError(
                    f"supported_versions selects 0x{selected:04x}, below TLS 1.3 (RFC 8446 4.2.1)"
                )
    if legacy_version > TLS12_CODE:
        # TLS 1.3 is only ever selected through supported_versions; legacy_version stays 0x0303.
        raise PeerError(
            f"ServerHello legacy_version 0x{legacy_version:04x} is above TLS 1.2"
            + ("" if ExtensionType.supported_versions in seen else " and no supported_versions selects it")
        )
    return ServerHello(
        legacy_version=legacy_version,
        selected_version=selected,
        cipher_suite=cipher_suite,
        compression=compression,
        session_id=session_id,
        extensions=tuple(extensions),
        # The HelloRetryRequest random means a retry only in a TLS 1.3 ServerHello (RFC 8446 4.1.3).
        is_hello_retry=random == HELLO_RETRY_REQUEST_RANDOM and selected == TLS13_CODE,
    )


def parse_certificate(body: bytes) -> CertificateChain:
    r = Reader(body)
    chain = Reader(r.vector(3))
    r.expect_end("Certificate")
    certs: list[bytes] = []
    while chain.remaining:
        cert = chain.vector(3)
        if not cert:
            raise PeerError("Certificate message holds an empty certificate")
        certs.append(cert)
    return CertificateChain(der_certs=tuple(certs))


_EC_NAMED_CURVE = 3
_EC_EXPLICIT_CURVES = (1, 2)


def parse_server_key_exchange(body: bytes, kex: str) -> ServerKeyExchange:
    """The parameters at the start of a ServerKeyExchange (RFC 5246 7.4.3, RFC 8422 5.4)."""
    r = Reader(body)
    if kex in ("DHE", "DHE_PSK"):
        if kex == "DHE_PSK":
            r.vector(2)  # psk_identity_hint
        p = r.vector(2)
        if not p:
            raise PeerError("ServerKeyExchange with an empty DH prime")
        return ServerKeyExchange(kex=kex, dh_p=p.lstrip(b"\x00"))
    if kex in ("ECDHE", "ECDHE_PSK"):
        if kex == "ECDHE_PSK":
            r.vector(2)
        curve_type = r.u8()
        if curve_type == _EC_NAMED_CURVE:
            return ServerKeyExchange(kex=kex, named_group=r.u16())
        if curve_type in _EC_EXPLICIT_CURVES:
            return ServerKeyExchange(kex=kex, explicit_curve=True)
        raise PeerError(f"ServerKeyExchange with unknown ECParameters curve type {curve_type}")
    return ServerKeyExchange(kex=kex)


def _heartbeat(payload: bytes) -> Heartbeat:
    if len(payload) < 3:
        raise PeerError("heartbeat record shorter than its header")
    return Heartbeat(
        message_type=payload[0],
        payload_length=int.from_bytes(payload[1:3], "big"),
        record_length=len(payload),
    )


class ServerFlightParser:
    """Turns the server's bytes into events. Detects an SSLv2 reply by its first byte."""

    def __init__(self) -> None:
        self._records = RecordBuffer()
        self._handshake = bytearray()
        self._mode: str | None = None  # "tls" | "sslv2"
        self._sslv2 = bytearray()
        self._encrypted = False
        self._seen_server_hello = False
        self._suite = 0
        self._failed = False
        self._seen_record = False
        self.received = 0

    @property
    def mid_message(self) -> bool:
        """Bytes are buffered that do not yet form a complete record or message (the answer was cut)."""
        if self._mode == "sslv2":
            return bool(self._sslv2)
        return bool(self._records.pending) or (bool(self._handshake) and not self._encrypted)

    @property
    def failed(self) -> bool:
        return self._failed

    def feed(self, data: bytes) -> list[Event]:
        if not data or self._failed:
            return []
        self.received += len(data)
        if self._mode is None:
            self._mode = "sslv2" if data[0] & 0x80 else "tls"
        events: list[Event] = []
        try:
            if self._mode == "sslv2":
                events.extend(self._feed_sslv2(data))
            else:
                self._feed_tls(data, events)
        except PeerError as exc:
            self._failed = True
            first = isinstance(exc, NotTlsError) and not self._seen_record
            events.append(Malformed(reason=str(exc), not_tls=first))
        return events

    def _feed_tls(self, data: bytes, events: list[Event]) -> None:
        for record in self._records.feed(data):
            self._seen_record = True
            if self._encrypted:
                continue
            if record.content_type == ContentType.alert:
                events.extend(self._alerts(record.payload))
            elif record.content_type == ContentType.handshake:
                self._handshake += record.payload
                self._messages(events)
            elif record.content_type == ContentType.change_cipher_spec:
                continue
            elif record.content_type == ContentType.heartbeat and self._seen_server_hello:
                events.append(_heartbeat(record.payload))
            elif record.content_type == ContentType.application_data and self._seen_server_hello:
                self._encrypted = True
                events.append(EncryptedFlight())
            else:
                raise PeerError(f"unexpected record type {record.content_type} before the handshake")

    def _alerts(self, payload: bytes) -> list[Event]:
        if len(payload) % 2 or not payload:
            raise PeerError("malformed alert record")
        return [Alert(level=payload[i], description=payload[i + 1]) for i in range(0, len(payload), 2)]

    def _messages(self, events: list[Event]) -> None:
        while len(self._handshake) >= 4:
            msg_type = self._handshake[0]
            length = int.from_bytes(self._handshake[1:4], "big")
            if length > MAX_HANDSHAKE_MESSAGE:
                raise PeerError(f"handshake message {msg_type} claims {length} bytes")
            if len(self._handshake) < 4 + length:
                break
            body = bytes(self._handshake[4 : 4 + length])
            del self._handshake[: 4 + length]
            if msg_type == HandshakeType.server_hello:
                if self._seen_server_hello:
                    raise PeerError("a second ServerHello in one flight")
                hello = parse_server_hello(body)
                self._seen_server_hello = True
                self._suite = hello.cipher_suite
                events.append(hello)
                if hello.selected_version == TLS13_CODE and not hello.is_hello_retry:
                    self._encrypted = True
                    self._handshake.clear()
                    events.append(EncryptedFlight())
                    return
                if hello.is_hello_retry:
                    return  # the server waits for a second ClientHello
            elif not self._seen_server_hello:
                raise PeerError(f"handshake message {msg_type} arrived before ServerHello")
            elif msg_type == HandshakeType.certificate:
                events.append(parse_certificate(body))
            elif msg_type == HandshakeType.server_key_exchange:
                suite = CIPHER_SUITES.get(self._suite)
                events.append(parse_server_key_exchange(body, suite.kex if suite else "unknown"))
            elif msg_type == HandshakeType.certificate_request:
                events.append(CertificateRequest())
            elif msg_type == HandshakeType.server_hello_done:
                if body:
                    raise PeerError("ServerHelloDone with a body")
                events.append(ServerHelloDone())

    def _feed_sslv2(self, data: bytes) -> list[Event]:
        self._sslv2 += data
        if len(self._sslv2) < 2:
            return []
        if not self._sslv2[0] & 0x80:
            raise NotTlsError(describe_non_tls(bytes(self._sslv2)))
        length = ((self._sslv2[0] & 0x7F) << 8) | self._sslv2[1]
        if len(self._sslv2) < 2 + length:
            return []
        message = bytes(self._sslv2[2 : 2 + length])
        self._sslv2.clear()
        self._failed = True  # one SSLv2 message is all a probe reads; anything after is not parsed
        r = Reader(message)
        msg_type = r.u8()
        if msg_type == SSL2_ERROR:
            return [Alert(level=2, description=40)]
        if msg_type != SSL2_SERVER_HELLO:
            raise NotTlsError(describe_non_tls(message))
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
