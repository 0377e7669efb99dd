"""Heartbeat messages (RFC 6520) for the Heartbleed check (CVE-2014-0160). Sans-I/O.

The check sends two requests in the clear once the server's first flight is in: one whose
payload_length claims more bytes than it carries (a correct server discards it silently, RFC 6520 4;
OpenSSL 1.0.1-1.0.1f copied that many bytes of its memory into the reply), then a well-formed one,
which a server that answers heartbeats before the handshake completes answers, then a close_notify,
so that a correct server that ignores both ends the exchange by closing, without a timeout.
"""

from __future__ import annotations

from tlsaudit.tls.constants import ContentType, ExtensionType
from tlsaudit.tls.wire import encode_records, u8, u16

HEARTBEAT_REQUEST = 1
HEARTBEAT_RESPONSE = 2
PEER_ALLOWED_TO_SEND = 1
MIN_PADDING = 16  # RFC 6520 4: at least 16 bytes of padding

PROBE_PAYLOAD = b"tlsaudit-hb-probe"  # what the over-long request carries
OVER_READ = 48  # bytes it claims beyond that: the most a vulnerable server may copy from its memory
CLAIMED_LENGTH = len(PROBE_PAYLOAD) + OVER_READ
ECHO_PAYLOAD = b"tlsaudit-hb-echo"  # the well-formed request's payload


def heartbeat_extension() -> tuple[int, bytes]:
    """The ClientHello extension: heartbeats supported, the server may send requests."""
    return (ExtensionType.heartbeat, u8(PEER_ALLOWED_TO_SEND))


def heartbeat_request(version: int, payload: bytes, *, claimed: int | None = None, padding: int = 0) -> bytes:
    """One HeartbeatMessage record; `claimed` defaults to the true payload length."""
    length = len(payload) if claimed is None else claimed
    body = u8(HEARTBEAT_REQUEST) + u16(length) + payload + bytes(padding)
    return encode_records(ContentType.heartbeat, version, body)


def heartbleed_probe(version: int) -> bytes:
    """The over-long request (no padding: a correct server's length check discards it), a well-formed
    one, then close_notify (records are processed in order: a vulnerable server has answered the first
    request by the time it reads the alert)."""
    overlong = heartbeat_request(version, PROBE_PAYLOAD, claimed=CLAIMED_LENGTH)
    proper = heartbeat_request(version, ECHO_PAYLOAD, padding=MIN_PADDING)
    close_notify = encode_records(ContentType.alert, version, b"\x01\x00")
    return overlong + proper + close_notify
