"""Read a client's first flight: bytes in, a parsed ClientHello out. No sockets here.

`ClientHelloReader` takes the bytes a client sends, in whatever pieces they arrive, and returns a
`ClientHelloInfo` once the whole ClientHello is in (it may span several TLS records). It also recognises
an SSLv2-format ClientHello (the 2-byte-header "compatible" hello of old clients). Anything malformed
raises `PeerError`, and nothing else: what a client sends is a fact about the client, never a crash.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tlsaudit.errors import PeerError
from tlsaudit.models import TlsVersion
from tlsaudit.tls.constants import (
    ContentType,
    ExtensionType,
    HandshakeType,
    alert_name,
    version_from_code,
)

SSL2_MT_CLIENT_HELLO = 1

MAX_RECORD_PAYLOAD = 16384 + 2048  # plaintext limit plus slack some stacks use
MAX_CLIENT_HELLO = 1 << 17  # far above any real ClientHello (post-quantum key shares are ~1.5 KiB)

_VERSION_ORDER: tuple[TlsVersion, ...] = tuple(TlsVersion)


def version_label(code: int) -> str:
    """`TLSv1.2` for 0x0303; an unknown code (a draft, GREASE) keeps its hex form."""
    version = version_from_code(code)
    return version.value if version is not None else f"0x{code:04X}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientHelloInfo:
    """Everything tlsaudit records from one ClientHello. Codes are kept raw (GREASE included)."""

    sslv2_format: bool
    record_version: int
    legacy_version: int
    supported_versions: tuple[int, ...] = ()
    cipher_suites: tuple[int, ...] = ()
    sslv2_cipher_kinds: tuple[int, ...] = ()  # 3-byte SSLv2 cipher specs (SSLv2 format only)
    compression_methods: tuple[int, ...] = ()
    extensions: tuple[int, ...] = ()
    sni: str | None = None
    groups: tuple[int, ...] = ()
    signature_algorithms: tuple[int, ...] = ()
    alpn: tuple[str, ...] = ()
    key_share_groups: tuple[int, ...] = ()
    padding_length: int | None = None
    records: int = 1
    wire_length: int = 0  # bytes of the first flight up to the end of the ClientHello (records included)

    @property
    def format_name(self) -> str:
        return "SSLv2-format ClientHello" if self.sslv2_format else "TLS ClientHello"

    @property
    def versions_offered(self) -> tuple[str, ...]:
        """Named versions the client offers, lowest first.

        With `supported_versions` the list is exact. Without it the hello only states a maximum; the
        minimum the client would accept is not on the wire, so only the maximum is listed (see
        `versions_exact`). An SSLv2-format hello adds SSLv2 when it carries SSLv2 cipher kinds.
        """
        codes = self.supported_versions or (self.legacy_version,)
        named = {v for v in map(version_from_code, codes) if v is not None}
        if self.sslv2_format and self.sslv2_cipher_kinds:
            named.add(TlsVersion.SSLv2)
        return tuple(v.value for v in _VERSION_ORDER if v in named)

    @property
    def versions_exact(self) -> bool:
        """True when the hello lists every version it accepts (supported_versions, or a TLS 1.0/SSL max)."""
        if self.supported_versions:
            return True
        return self.legacy_version <= 0x0301

    @property
    def highest_offered(self) -> str | None:
        offered = self.versions_offered
        return offered[-1] if offered else None


def printable(raw: bytes) -> str:
    """Peer-chosen bytes as inert text: printable ASCII kept, anything else as a \\xNN escape (so a
    name can never carry a terminal control sequence into a report)."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in raw)


class _Cursor:
    """Bounds-checked reads over a bytes object; every overrun is a PeerError."""

    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, n: int) -> bytes:
        if n > self.remaining:
            raise PeerError(f"{self._what}: truncated (wanted {n} bytes, {self.remaining} left)")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> _Cursor:
        return _Cursor(self.take(self.uint(length_size)), self._what)

    def end(self) -> None:
        if self.remaining:
            raise PeerError(f"{self._what}: {self.remaining} unexpected trailing bytes")

    def uint16_list(self) -> tuple[int, ...]:
        if self.remaining % 2:
            raise PeerError(f"{self._what}: odd length for a list of 16-bit values")
        return tuple(self.uint(2) for _ in range(self.remaining // 2))


def _describe_non_tls(data: bytes) -> str:
    head = data[:8]
    if head[:4] in (b"GET ", b"POST", b"HEAD", b"PUT ", b"OPTI", b"CONN", b"DELE", b"PATC"):
        return "not TLS: plain HTTP request"
    if head[:5] in (b"SSH-2", b"SSH-1"):
        return "not TLS: SSH banner"
    if head[:1] == bytes([ContentType.alert]):
        if len(data) >= 7:
            return f"no ClientHello: client sent alert {alert_name(data[6])} instead"
        return "no ClientHello: client sent an alert instead"
    return f"not TLS: first bytes {head.hex()}"


class ClientHelloReader:
    """Incremental reader of a client's first flight.

    Call `feed` with each piece received; it returns the `ClientHelloInfo` once complete and `None`
    while more bytes are needed. `buffered` holds every byte fed so far (to hand on to a TLS engine).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._result: ClientHelloInfo | None = None

    @property
    def buffered(self) -> bytes:
        return bytes(self._buffer)

    @property
    def result(self) -> ClientHelloInfo | None:
        return self._result

    def feed(self, data: bytes) -> ClientHelloInfo | None:
        if self._result is not None:
            self._buffer += data
            return self._result
        self._buffer += data
        self._result = _try_parse(bytes(self._buffer))
        return self._result


def parse_client_hello(data: bytes) -> ClientHelloInfo:
    """Parse a complete first flight; incomplete input is a PeerError too."""
    info = _try_parse(data)
    if info is None:
        raise PeerError("ClientHello incomplete: the client stopped sending before the end of it")
    return info


def _try_parse(data: bytes) -> ClientHelloInfo | None:
    if not data:
        return None
    first = data[0]
    if first == ContentType.handshake:
        return _try_parse_records(data)
    if first & 0x80:
        return _try_parse_sslv2(data)
    raise PeerError(_describe_non_tls(data))


def _try_parse_records(data: bytes) -> ClientHelloInfo | None:
    """Gather handshake records until the ClientHello message is complete."""
    pos = 0
    handshake = bytearray()
    record_version = 0
    records = 0
    while True:
        if len(data) - pos < 5:
            return None
        content_type = data[pos]
        version = int.from_bytes(data[pos + 1 : pos + 3], "big")
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if content_type != ContentType.handshake:
            if records == 0:
                raise PeerError(_describe_non_tls(data[pos:]))
            raise PeerError(f"record of content type {content_type} in the middle of the ClientHello")
        if version >> 8 != 3:
            raise PeerError(f"record version 0x{version:04X} is not TLS")
        if length == 0 or length > MAX_RECORD_PAYLOAD:
            raise PeerError(f"record length {length} out of range")
        if records == 0:
            record_version = version
        if len(data) - pos - 5 < length:
            return None
        handshake += data[pos + 5 : pos + 5 + length]
        pos += 5 + length
        records += 1
        if len(handshake) >= 4:
            if handshake[0] != HandshakeType.client_hello:
                raise PeerError(f"first handshake message is type {handshake[0]}, not ClientHello")
            body_length = int.from_bytes(handshake[1:4], "big")
            if body_length > MAX_CLIENT_HELLO:
                raise PeerError(f"ClientHello of {body_length} bytes is implausibly large")
            if len(handshake) >= 4 + body_length:
                body = bytes(handshake[4 : 4 + body_length])
                info = _parse_body(body, record_version=record_version, records=records)
                return dataclasses.replace(info, wire_length=pos)


def _parse_body(body: bytes, *, record_version: int, records: int) -> ClientHelloInfo:
    c = _Cursor(body, "ClientHello")
    legacy_version = c.uint(2)
    if legacy_version >> 8 != 3:
        raise PeerError(f"ClientHello version 0x{legacy_version:04X} is not TLS")
    c.take(32)  # random
    session_id = c.vector(1)
    if session_id.remaining > 32:
        raise PeerError("ClientHello session id longer than 32 bytes")
    suites = c.vector(2)
    if suites.remaining == 0:
        raise PeerError("ClientHello offers no cipher suite")
    cipher_suites = suites.uint16_list()
    compression = c.vector(1)
    compression_methods = tuple(compression.take(compression.remaining))
    if not compression_methods:
        raise PeerError("ClientHello offers no compression method")
    fields = _ExtensionFields()
    extension_types: list[int] = []
    if c.remaining:
        extensions = c.vector(2)
        c.end()
        while extensions.remaining:
            ext_type = extensions.uint(2)
            ext_data = extensions.vector(2)
            if ext_type in extension_types:
                raise PeerError(f"extension {ext_type} appears twice")
            extension_types.append(ext_type)
            _parse_extension(ext_type, ext_data, fields)
    return ClientHelloInfo(
        sslv2_format=False,
        record_version=record_version,
        legacy_version=legacy_version,
        cipher_suites=cipher_suites,
        compression_methods=compression_methods,
        extensions=tuple(extension_types),
        records=records,
        sni=fields.sni,
        groups=fields.groups,
        signature_algorithms=fields.signature_algorithms,
        supported_versions=fields.supported_versions,
        alpn=fields.alpn,
        key_share_groups=fields.key_share_groups,
        padding_length=fields.padding_length,
    )


@dataclass(slots=True)
class _ExtensionFields:
    sni: str | None = None
    groups: tuple[int, ...] = ()
    signature_algorithms: tuple[int, ...] = ()
    supported_versions: tuple[int, ...] = ()
    alpn: tuple[str, ...] = ()
    key_share_groups: tuple[int, ...] = ()
    padding_length: int | None = None


def _parse_extension(ext_type: int, data: _Cursor, fields: _ExtensionFields) -> None:
    if ext_type == ExtensionType.server_name:
        fields.sni = _parse_sni(data)
    elif ext_type == ExtensionType.supported_groups:
        fields.groups = _single_vector(data, 2).uint16_list()
    elif ext_type == ExtensionType.signature_algorithms:
        fields.signature_algorithms = _single_vector(data, 2).uint16_list()
    elif ext_type == ExtensionType.supported_versions:
        versions = _single_vector(data, 1).uint16_list()
        if not versions:
            raise PeerError("supported_versions extension is empty")
        fields.supported_versions = versions
    elif ext_type == ExtensionType.application_layer_protocol_negotiation:
        names = _single_vector(data, 2)
        alpn: list[str] = []
        while names.remaining:
            name = names.vector(1)
            if not name.remaining:
                raise PeerError("empty ALPN protocol name")
            alpn.append(printable(name.take(name.remaining)))
        fields.alpn = tuple(alpn)
    elif ext_type == ExtensionType.key_share:
        shares = _single_vector(data, 2)
        groups: list[int] = []
        while shares.remaining:
            groups.append(shares.uint(2))
            shares.vector(2)
        fields.key_share_groups = tuple(groups)
    elif ext_type == ExtensionType.padding:
        fields.padding_length = data.remaining


def _single_vector(data: _Cursor, length_size: int) -> _Cursor:
    inner = data.vector(length_size)
    data.end()
    return inner


def _parse_sni(data: _Cursor) -> str | None:
    if not data.remaining:
        return None  # an empty server_name extension is legal (server side echo); tolerate it
    names = _single_vector(data, 2)
    host: str | None = None
    while names.remaining:
        name_type = names.uint(1)
        name = names.vector(2)
        raw = name.take(name.remaining)
        if name_type == 0 and host is None:
            host = printable(raw)
    return host


def _try_parse_sslv2(data: bytes) -> ClientHelloInfo | None:
    """SSLv2 record with a 2-byte header (RFC 6101 appendix E.1, draft-hickman SSL 2.0)."""
    if len(data) < 2:
        return None
    length = ((data[0] & 0x7F) << 8) | data[1]
    if length < 9:
        raise PeerError(f"SSLv2 record of {length} bytes is too short for a CLIENT-HELLO")
    if len(data) < 2 + length:
        return None
    c = _Cursor(data[2 : 2 + length], "SSLv2 CLIENT-HELLO")
    msg_type = c.uint(1)
    if msg_type != SSL2_MT_CLIENT_HELLO:
        raise PeerError(f"SSLv2 record of message type {msg_type}, not CLIENT-HELLO")
    version = c.uint(2)
    if version != 0x0002 and version >> 8 != 3:
        raise PeerError(f"SSLv2 CLIENT-HELLO version 0x{version:04X} unknown")
    spec_length = c.uint(2)
    session_length = c.uint(2)
    challenge_length = c.uint(2)
    if spec_length == 0 or spec_length % 3:
        raise PeerError("SSLv2 CLIENT-HELLO cipher specs length is not a positive multiple of 3")
    if session_length not in (0, 16):
        raise PeerError("SSLv2 CLIENT-HELLO session id must be 0 or 16 bytes")
    if not 16 <= challenge_length <= 32:
        raise PeerError("SSLv2 CLIENT-HELLO challenge must be 16 to 32 bytes")
    specs = c.take(spec_length)
    c.take(session_length)
    c.take(challenge_length)
    c.end()
    tls_suites: list[int] = []
    sslv2_kinds: list[int] = []
    for i in range(0, spec_length, 3):
        kind = int.from_bytes(specs[i : i + 3], "big")
        if kind >> 16 == 0:
            tls_suites.append(kind)
        else:
            sslv2_kinds.append(kind)
    return ClientHelloInfo(
        wire_length=2 + length,
        sslv2_format=True,
        record_version=0x0002,
        legacy_version=version,
        cipher_suites=tuple(tls_suites),
        sslv2_cipher_kinds=tuple(sslv2_kinds),
        compression_methods=(0,),
    )
