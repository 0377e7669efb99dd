"""Scripted vulnerable peers for the known-flaw checks (Heartbleed, CCS injection, ROBOT), named as such.

No vulnerable TLS stack can be installed on Debian 12 (OpenSSL 1.0.1f and earlier are long gone, and the
ROBOT-vulnerable products are appliances), so each peer here speaks real TLS 1.2 records over a real
loopback socket up to ServerHelloDone (ServerHello choosing TLS_RSA_WITH_AES_128_CBC_SHA, a real RSA
certificate) and then implements the vulnerable behaviour of the real implementation where a client can
see it:

- `heartbleed_peer`: OpenSSL 1.0.1-1.0.1f's `tls1_process_heartbeat`, before the handshake completes:
  the reply copies `payload_length` bytes starting at the request's payload, whatever the record held, so
  an over-long request returns the bytes that follow the record in the server's read buffer (here a
  buffer holding `SECRET`). `vulnerable=False` applies the RFC 6520 length check of 1.0.1g.
- `ccs_peer`: OpenSSL before 1.0.1h accepts a ChangeCipherSpec while it waits for ClientKeyExchange and
  switches its read state to keys derived from an empty master secret, so the next record fails to
  decrypt (bad_record_mac). `vulnerable=False` refuses the early ChangeCipherSpec (unexpected_message).
- `robot_peer`: a Bleichenbacher oracle with real RSA decryption (`cryptography` key, raw m = c^d mod n)
  and a real PKCS#1 v1.5 check of the premaster secret: a padding error gets decrypt_error, a conforming
  padding of the wrong length decode_error, a good one goes on to the (unverifiable) Finished:
  bad_record_mac. `vulnerable=False` is the RFC 5246 7.4.7.1 countermeasure: every error continues
  with a random premaster secret, so every answer is bad_record_mac. Every decryption is logged with its
  verdict (`RobotPeer.verdicts`), so a test can check the padding itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import load_pem_x509_certificate

from tlsaudit.tls.client_hello_parse import ClientHelloInfo, parse_client_hello
from tlsaudit.tls.wire import encode_records, handshake_message, u8, u16, vec8, vec16, vec24

from .acceptor import ServerAddress, serve
from .certs import CertFiles, make_cert

TLS12 = 0x0303
SUITE = 0x002F  # TLS_RSA_WITH_AES_128_CBC_SHA
HEARTBEAT_EXTENSION = 15
SECRET = b"-----BEGIN RSA PRIVATE KEY----- scripted-peer-secret-"
"""What sits after the request in the Heartbleed peer's read buffer: a report must never show it."""
_MAX_RECORDS = 16

ALERT_UNEXPECTED_MESSAGE = 10
ALERT_BAD_RECORD_MAC = 20
ALERT_HANDSHAKE_FAILURE = 40
ALERT_DECODE_ERROR = 50
ALERT_DECRYPT_ERROR = 51
ALERT_PROTOCOL_VERSION = 70


def _alert(description: int) -> bytes:
    return encode_records(21, TLS12, bytes((2, description)))


def _read_exact(conn: socket.socket, n: int) -> bytes | None:
    out = bytearray()
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            return None
        out += chunk
    return bytes(out)


def _read_record(conn: socket.socket) -> tuple[int, bytes] | None:
    """One TLS record (content type, payload); None at a close or a non-TLS byte."""
    header = _read_exact(conn, 5)
    if header is None or header[0] & 0x80 or header[1] != 3:
        return None
    payload = _read_exact(conn, int.from_bytes(header[3:5], "big"))
    return None if payload is None else (header[0], payload)


def _first_flight(conn: socket.socket, cert_der: bytes, *, heartbeat: bool) -> ClientHelloInfo | None:
    """Read the ClientHello and answer it with ServerHello, Certificate, ServerHelloDone (TLS 1.2 and
    TLS_RSA_WITH_AES_128_CBC_SHA only: other offers get an alert). None when the handshake stops here."""
    record = _read_record(conn)
    if record is None or record[0] != 22:
        return None
    try:
        hello = parse_client_hello(encode_records(22, TLS12, record[1]))
    except Exception:
        return None
    if hello.legacy_version != TLS12:
        conn.sendall(_alert(ALERT_PROTOCOL_VERSION))
        return None
    if SUITE not in hello.cipher_suites:
        conn.sendall(_alert(ALERT_HANDSHAKE_FAILURE))
        return None
    extensions = u16(0xFF01) + vec16(b"\x00")  # renegotiation_info
    if heartbeat and HEARTBEAT_EXTENSION in hello.extensions:
        extensions += u16(HEARTBEAT_EXTENSION) + vec16(b"\x01")
    server_hello = u16(TLS12) + os.urandom(32) + vec8(b"") + u16(SUITE) + u8(0) + vec16(extensions)
    flight = (
        handshake_message(2, server_hello)
        + handshake_message(11, vec24(vec24(cert_der)))
        + handshake_message(14, b"")
    )
    conn.sendall(encode_records(22, TLS12, flight))
    return hello


@dataclass
class Peer:
    """A running scripted peer: where it listens and its certificate."""

    address: ServerAddress
    cert: CertFiles
    verdicts: list[str] = field(default_factory=list)  # ROBOT: one per decrypted premaster secret
    connections: int = 0

    @property
    def port(self) -> int:
        return self.address.port


def _der(files: CertFiles) -> bytes:
    return load_pem_x509_certificate(files.leaf.read_bytes()).public_bytes(serialization.Encoding.DER)


@contextlib.contextmanager
def _run(after_flight: Callable[[socket.socket, Peer], None], *, heartbeat: bool = False) -> Iterator[Peer]:
    files = make_cert()
    der = _der(files)
    holder: list[Peer] = []

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        holder[0].connections += 1
        if _first_flight(conn, der, heartbeat=heartbeat) is not None and not stop.is_set():
            after_flight(conn, holder[0])

    with serve(handle) as address:
        holder.append(Peer(address=address, cert=files))
        yield holder[0]


# ---------------------------------------------------------------- Heartbleed


def heartbeat_reply(record: bytes, memory: bytes, *, vulnerable: bool) -> bytes | None:
    """The reply to one heartbeat record as OpenSSL 1.0.1f (`vulnerable`) or 1.0.1g computes it: None
    when there is none. `memory` follows the record in the read buffer."""
    if len(record) < 3 or record[0] != 1:
        return None
    claimed = int.from_bytes(record[1:3], "big")
    if not vulnerable and 1 + 2 + claimed + 16 > len(record):
        return None  # RFC 6520 4: discard silently
    buffer = record + memory
    return bytes((2,)) + record[1:3] + buffer[3 : 3 + claimed] + os.urandom(16)


def heartbleed_peer(*, vulnerable: bool = True) -> contextlib.AbstractContextManager[Peer]:
    memory = (SECRET * (2**16 // len(SECRET) + 1))[: 2**16]

    def after_flight(conn: socket.socket, _peer: Peer) -> None:
        for _ in range(_MAX_RECORDS):
            record = _read_record(conn)
            if record is None:
                return
            kind, payload = record
            if kind == 24:
                reply = heartbeat_reply(payload, memory, vulnerable=vulnerable)
                if reply is not None:
                    conn.sendall(encode_records(24, TLS12, reply))
                continue
            if kind != 21:
                conn.sendall(_alert(ALERT_UNEXPECTED_MESSAGE))
            return  # an alert (close_notify) or anything else ends the connection

    return _run(after_flight, heartbeat=True)


# ---------------------------------------------------------------- CCS injection


def ccs_peer(*, vulnerable: bool = True) -> contextlib.AbstractContextManager[Peer]:
    def after_flight(conn: socket.socket, _peer: Peer) -> None:
        keys_changed = False
        for _ in range(_MAX_RECORDS):
            record = _read_record(conn)
            if record is None:
                return
            kind, _payload = record
            if kind == 20 and not keys_changed:
                if not vulnerable:
                    conn.sendall(_alert(ALERT_UNEXPECTED_MESSAGE))
                    return
                keys_changed = True  # read keys from an empty master secret: nothing decrypts now
                continue
            if keys_changed:
                conn.sendall(_alert(ALERT_BAD_RECORD_MAC))
                return
            conn.sendall(_alert(ALERT_HANDSHAKE_FAILURE))  # this peer completes no handshake
            return

    return _run(after_flight)


# ---------------------------------------------------------------- ROBOT


def pkcs1_verdict(plain: bytes) -> str:
    """PKCS#1 v1.5 (RFC 8017 7.2.2) of a TLS premaster secret: ok, bad-padding or bad-length."""
    if plain[:2] != b"\x00\x02":
        return "bad-padding"
    separator = plain.find(b"\x00", 2)
    if separator < 0 or separator < 10:
        return "bad-padding"
    return "ok" if len(plain) - separator - 1 == 48 else "bad-length"


def rsa_decrypt_raw(key: rsa.RSAPrivateKey, ciphertext: bytes) -> bytes:
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    size = (n.bit_length() + 7) // 8
    return pow(int.from_bytes(ciphertext, "big"), numbers.d, n).to_bytes(size, "big")


def private_key(files: CertFiles) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def robot_peer(*, vulnerable: bool = True) -> contextlib.AbstractContextManager[Peer]:
    lock = threading.Lock()

    def after_flight(conn: socket.socket, peer: Peer) -> None:
        key = private_key(peer.cert)
        record = _read_record(conn)
        if record is None:
            return
        kind, payload = record
        if kind != 22 or payload[:1] != b"\x10" or len(payload) < 6:
            conn.sendall(_alert(ALERT_UNEXPECTED_MESSAGE))
            return
        ciphertext = payload[6 : 6 + int.from_bytes(payload[4:6], "big")]
        verdict = pkcs1_verdict(rsa_decrypt_raw(key, ciphertext))
        with lock:
            peer.verdicts.append(verdict)
        if vulnerable and verdict == "bad-padding":
            conn.sendall(_alert(ALERT_DECRYPT_ERROR))
            return
        if vulnerable and verdict == "bad-length":
            conn.sendall(_alert(ALERT_DECODE_ERROR))
            return
        # Go on (with the decrypted or, for the countermeasure, a random premaster secret): the client's
        # Finished cannot be verified, as the check never knows the keys.
        for _ in range(2):
            record = _read_record(conn)
            if record is None:
                return
            if record[0] == 22:
                conn.sendall(_alert(ALERT_BAD_RECORD_MAC))
                return

    return _run(after_flight)


# ---------------------------------------------------------------- a daemon that leaves TLS on failure


PLAINTEXT_ABORT = b"500 OOPS: SSL handshake failed\r\n"


def plaintext_abort_peer() -> contextlib.AbstractContextManager[Peer]:
    """After its first flight, whatever the client sends, it answers in its own protocol, in plain text
    (vsftpd does this when a handshake fails): no alert, no decryption attempt."""

    def after_flight(conn: socket.socket, _peer: Peer) -> None:
        if _read_record(conn) is not None:
            conn.sendall(PLAINTEXT_ABORT)

    return _run(after_flight)
