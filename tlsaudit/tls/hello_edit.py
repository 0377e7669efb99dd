"""Replay a captured ClientHello at another server: a fresh random and that server's name, the rest as
the client sent it (suites, groups, extensions and their order, key shares included).

Only TLS-record hellos are edited; an SSLv2-format hello is replayed byte for byte (it carries no name).
"""

from __future__ import annotations

import os

from tlsaudit.errors import PeerError
from tlsaudit.tls.client_hello import sni_allowed
from tlsaudit.tls.constants import ContentType, ExtensionType, HandshakeType
from tlsaudit.tls.wire import Reader, encode_records, handshake_message, u8, u16, vec8, vec16

PADDING_TARGET = 512


def _client_hello_message(raw: bytes) -> tuple[int, bytes]:
    """The record-layer version and the ClientHello body of a (possibly multi-record) first flight."""
    payload = bytearray()
    r = Reader(raw)
    record_version = 0
    while r.remaining:
        content_type = r.u8()
        version = r.u16()
        fragment = r.vector(2)
        if content_type != ContentType.handshake:
            raise PeerError(f"record type {content_type} in a captured ClientHello")
        record_version = record_version or version
        payload += fragment
        if len(payload) >= 4 and len(payload) >= 4 + int.from_bytes(payload[1:4], "big"):
            break
    if not payload or payload[0] != HandshakeType.client_hello:
        raise PeerError("the capture holds no ClientHello")
    length = int.from_bytes(payload[1:4], "big")
    body = bytes(payload[4 : 4 + length])
    if len(body) != length:
        raise PeerError("the captured ClientHello is truncated")
    return record_version, body


def _server_name(name: str) -> bytes:
    encoded = name.encode("idna") if not name.isascii() else name.encode("ascii")
    return vec16(u8(0) + vec16(encoded))


def retarget_hello(raw: bytes, server_name: str | None) -> bytes:
    """`raw` with a fresh random and SNI for `server_name` (none for an IP address or no name). When the
    client sent SNI, it is replaced; a hello with extensions but no SNI (JSSE leaves it out for
    "localhost") gets one, as the client would send for a real name. A padding extension keeps its job:
    the hello stays out of the 256-511-byte range."""
    if raw[:1] and raw[0] & 0x80:
        return raw  # SSLv2-format hello: no random to refresh in place worth the risk, no SNI
    record_version, body = _client_hello_message(raw)
    r = Reader(body)
    legacy_version = r.u16()
    r.take(32)
    session_id = r.vector(1)
    suites = r.vector(2)
    compression = r.vector(1)
    extensions = r.extensions()
    r.expect_end("ClientHello")
    edited: list[tuple[int, bytes]] = []
    padded = False
    for ext_type, data in extensions:
        if ext_type == ExtensionType.server_name:
            if server_name and sni_allowed(server_name):
                edited.append((ext_type, _server_name(server_name)))
        elif ext_type == ExtensionType.padding:
            padded = True
            edited.append((ext_type, b""))
        else:
            edited.append((ext_type, data))
    has_sni = any(t == ExtensionType.server_name for t, _ in edited)
    if extensions and server_name and sni_allowed(server_name) and not has_sni:
        # Captured against "localhost", some clients (JSSE) left SNI out; for a real name they send it.
        edited.insert(0, (ExtensionType.server_name, _server_name(server_name)))
    new_session = os.urandom(len(session_id)) if session_id else b""
    head = u16(legacy_version) + os.urandom(32) + vec8(new_session) + vec16(suites) + vec8(compression)

    def encode(items: list[tuple[int, bytes]]) -> bytes:
        return head + (vec16(b"".join(u16(t) + vec16(d) for t, d in items)) if extensions else b"")

    new_body = encode(edited)
    if padded:
        size = 4 + len(new_body)
        if 256 <= size < PADDING_TARGET:
            fill = PADDING_TARGET - size
            edited = [(t, bytes(fill) if t == ExtensionType.padding else d) for t, d in edited]
            new_body = encode(edited)
    message = handshake_message(HandshakeType.client_hello, new_body)
    return encode_records(ContentType.handshake, record_version, message)
