"""TLS record framing and the byte-level readers and writers the rest of `tls/` is built on.

Sans-I/O: nothing here touches a socket. A malformed peer raises `PeerError`, never anything else.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from tlsaudit.errors import NotTlsError, PeerError
from tlsaudit.tls.constants import ContentType

# The record types a server may send around a handshake (RFC 8446 5.1, RFC 6520).
CONTENT_TYPES = frozenset(
    {
        ContentType.change_cipher_spec,
        ContentType.alert,
        ContentType.handshake,
        ContentType.application_data,
        ContentType.heartbeat,
    }
)

RECORD_HEADER_LEN = 5
MAX_PLAINTEXT_LEN = 2**14
# TLSCiphertext may exceed the plaintext limit by 2048 bytes (RFC 5246 6.2.3); more means a broken peer.
MAX_RECORD_LEN = MAX_PLAINTEXT_LEN + 2048


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    content_type: int
    version: int
    payload: bytes


def describe_non_tls(data: bytes) -> str:
    """A short, safe description of bytes that are not TLS, for a result's reason."""
    head = data[:16]
    for prefix, name in (
        (b"HTTP/", "HTTP"),
        (b"SSH-", "SSH"),
        (b"220", "SMTP/FTP banner"),
        (b"* OK", "IMAP"),
        (b"+OK", "POP3"),
        (b"<?xml", "XML"),
        (b"<", "HTML or XML"),
    ):
        if head.startswith(prefix):
            return f"not TLS: the peer spoke {name}"
    printable = "".join(chr(b) if 32 <= b < 127 else "." for b in head)
    return f"not TLS: unexpected bytes {head[:8].hex()} ({printable[:8]!r})"


class RecordBuffer:
    """Accumulates bytes from the wire and yields complete TLS records."""

    def __init__(self, *, max_record_len: int = MAX_RECORD_LEN) -> None:
        self._buf = bytearray()
        self._max = max_record_len

    def feed(self, data: bytes) -> Iterator[Record]:
        """Yield every complete record; raise PeerError at the first bytes that cannot start a record,
        after the records before them were yielded."""
        self._buf += data
        while len(self._buf) >= RECORD_HEADER_LEN:
            content_type = self._buf[0]
            version = (self._buf[1] << 8) | self._buf[2]
            length = (self._buf[3] << 8) | self._buf[4]
            if content_type not in CONTENT_TYPES or self._buf[1] != 3:
                raise NotTlsError(describe_non_tls(bytes(self._buf)))
            if length > self._max:
                raise PeerError(f"record claims {length} bytes, more than TLS allows ({self._max})")
            if len(self._buf) < RECORD_HEADER_LEN + length:
                break
            payload = bytes(self._buf[RECORD_HEADER_LEN : RECORD_HEADER_LEN + length])
            del self._buf[: RECORD_HEADER_LEN + length]
            yield Record(content_type=content_type, version=version, payload=payload)

    @property
    def pending(self) -> bytes:
        return bytes(self._buf)


class Reader:
    """Bounds-checked reading of TLS wire structures."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def _take(self, n: int) -> bytes:
        if n < 0 or self._pos + n > len(self._data):
            raise PeerError(f"truncated message: needed {n} bytes, {self.remaining} left")
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def take(self, n: int) -> bytes:
        return self._take(n)

    def u8(self) -> int:
        return self._take(1)[0]

    def u16(self) -> int:
        value: int = struct.unpack("!H", self._take(2))[0]
        return value

    def u24(self) -> int:
        b = self._take(3)
        return (b[0] << 16) | (b[1] << 8) | b[2]

    def vector(self, length_bytes: int) -> bytes:
        n = {1: self.u8, 2: self.u16, 3: self.u24}[length_bytes]()
        return self._take(n)

    def rest(self) -> bytes:
        return self._take(self.remaining)

    def extensions(self) -> list[tuple[int, bytes]]:
        """A hello's optional extensions block: (type, data) pairs in wire order; [] when absent."""
        found: list[tuple[int, bytes]] = []
        if self.remaining:
            block = Reader(self.vector(2))
            while block.remaining:
                ext_type = block.u16()
                found.append((ext_type, block.vector(2)))
        return found

    def expect_end(self, what: str) -> None:
        if self.remaining:
            raise PeerError(f"{self.remaining} trailing bytes after {what}")


def u8(value: int) -> bytes:
    return bytes((value,))


def u16(value: int) -> bytes:
    return struct.pack("!H", value)


def u24(value: int) -> bytes:
    return struct.pack("!I", value)[1:]


def vec8(data: bytes) -> bytes:
    return u8(len(data)) + data


def vec16(data: bytes) -> bytes:
    return u16(len(data)) + data


def vec24(data: bytes) -> bytes:
    return u24(len(data)) + data


def encode_records(content_type: int, version: int, payload: bytes) -> bytes:
    """Frame a payload as one or more records of at most 2^14 bytes."""
    out = bytearray()
    for start in range(0, max(len(payload), 1), MAX_PLAINTEXT_LEN):
        chunk = payload[start : start + MAX_PLAINTEXT_LEN]
        out += u8(content_type) + u16(version) + vec16(chunk)
    return bytes(out)


def handshake_message(msg_type: int, body: bytes) -> bytes:
    return u8(msg_type) + vec24(body)
