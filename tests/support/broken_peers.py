"""Scripted broken TLS peers on loopback: each reads one whole ClientHello, then answers with bytes built by
`wire`, each misbehaving in one way real servers (or attackers) do. No real TLS stack behind them.

The "TLS 1.2 server" peers negotiate like a server that accepts TLS 1.2 only: a hello that cannot get
TLS 1.2 gets a protocol_version alert, so every other version is cleanly refused.

    empty_certificate_peer                    ServerHello, a Certificate with no certificate, ServerHelloDone
    oversized_certificate_peer                ServerHello, a Certificate claiming 16 MB, then silence
    dripping_certificate_peer                 ServerHello at once, then the Certificate 1 byte every 2 s
    inconsistent_certificate_lengths_peer     a Certificate whose inner length exceeds its list, then
                                              ServerHelloDone
    segmented_flight_peer(split)              a valid ServerHello+Certificate+ServerHelloDone, cut by `split`
    hello_retry_random_tls12_peer             a valid TLS 1.2 flight whose ServerHello random is the HRR value
    sslv2_server_hello_peer                   an SSLv2 SERVER-HELLO to any hello, TLS or SSLv2
    duplicate_supported_versions_peer         a TLS 1.3 ServerHello carrying supported_versions twice
    tls13_legacy_version_peer                 a ServerHello with legacy_version 0x0304, no supported_versions
    truncated_answer_then_fin_peer            part of a ServerHello record, then FIN
    truncated_answer_then_reset_peer          part of a ServerHello record, then RST
"""

from __future__ import annotations

import contextlib
import functools
import random
import socket
import threading
from collections.abc import Callable, Iterator

from .acceptor import ServerAddress, serve
from .certs import make_cert
from .quirks import reset, wait_until_closed
from .wire import (
    ALERT_PROTOCOL_VERSION,
    CONTENT_HANDSHAKE,
    EXT_RENEGOTIATION_INFO,
    EXT_SUPPORTED_VERSIONS,
    HANDSHAKE_CERTIFICATE,
    HELLO_RETRY_REQUEST_RANDOM,
    SCSV_RENEGOTIATION,
    TLS12,
    TLS13,
    ClientHelloInfo,
    HelloError,
    alert,
    certificate_tls12,
    extension,
    handshake,
    pem_file_to_ders,
    pick_rsa_suite,
    read_client_hello,
    record,
    server_hello,
    server_hello_done,
    sslv2_server_hello,
    tls13_server_hello,
)

Respond = Callable[[socket.socket, ClientHelloInfo, threading.Event], None]
Split = Callable[[bytes], list[bytes]]


@functools.cache
def served_chain() -> tuple[bytes, ...]:
    """DER of the default test leaf and its intermediate (what the scripted peers present)."""
    return tuple(pem_file_to_ders(make_cert().chain))


@contextlib.contextmanager
def scripted_peer(respond: Respond, host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """Reads each connection's ClientHello, then lets `respond(conn, hello, stop)` answer."""
    served_chain()  # make the certificates now (RSA keys are slow), not while a client waits

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        try:
            _, hello = read_client_hello(conn)
        except HelloError:
            return
        respond(conn, hello, stop)

    with serve(handle, host) as address:
        yield address


def send_then_wait(conn: socket.socket, data: bytes, stop: threading.Event) -> None:
    """Send `data`, then keep the connection open until the client closes (no RST from unread bytes)."""
    conn.sendall(data)
    wait_until_closed(conn, stop)


def note_reply_then_close(conn: socket.socket, replies: list[bytes] | None, stop: threading.Event) -> None:
    """After a complete flight: keep the client's next bytes in `replies` (a conventional client answers a
    TLS 1.2 RSA flight with its ClientKeyExchange), then close, so the client stops waiting for a Finished
    that a scripted peer cannot send. Without `replies`, wait for the client to close."""
    if replies is None:
        wait_until_closed(conn, stop)
        return
    conn.settimeout(3.0)
    with contextlib.suppress(OSError):
        if reply := conn.recv(65536):
            replies.append(reply)


def is_client_key_exchange(reply: bytes) -> bool:
    """The client's bytes start with a handshake record holding a ClientKeyExchange (type 16)."""
    return len(reply) > 5 and reply[0] == CONTENT_HANDSHAKE and reply[5] == 16


def tls12_only(respond: Respond) -> Respond:
    """`respond` for hellos that get TLS 1.2 from a TLS-1.2-only server; a protocol_version alert else."""

    def answer(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        if hello.negotiate([TLS12]) is None:
            send_then_wait(conn, alert(ALERT_PROTOCOL_VERSION), stop)
        else:
            respond(conn, hello, stop)

    return answer


def tls13_only(respond: Respond) -> Respond:
    """`respond` for hellos offering TLS 1.3 in supported_versions; a protocol_version alert else."""

    def answer(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        if TLS13 in hello.offered_versions and hello.supported_versions is not None:
            respond(conn, hello, stop)
        else:
            send_then_wait(conn, alert(ALERT_PROTOCOL_VERSION), stop)

    return answer


def tls12_server_hello_record(hello: ClientHelloInfo, *, random_bytes: bytes | None = None) -> bytes:
    """A TLS 1.2 ServerHello record; with an empty renegotiation_info when the client asked (RFC 5746)."""
    secure = EXT_RENEGOTIATION_INFO in hello.extension_types or SCSV_RENEGOTIATION in hello.cipher_suites
    extensions = [extension(EXT_RENEGOTIATION_INFO, b"\x00")] if secure else None
    message = server_hello(suite=pick_rsa_suite(hello), random=random_bytes, extensions=extensions)
    return record(CONTENT_HANDSHAKE, message)


def valid_tls12_flight(hello: ClientHelloInfo, *, random_bytes: bytes | None = None) -> bytes:
    """ServerHello (an RSA key-exchange suite), Certificate (leaf + intermediate), ServerHelloDone."""
    return tls12_server_hello_record(hello, random_bytes=random_bytes) + record(
        CONTENT_HANDSHAKE, certificate_tls12(served_chain()) + server_hello_done()
    )


# --- the certificate cannot be had ----------------------------------------------------------------------


@contextlib.contextmanager
def empty_certificate_peer(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """TLS 1.2: ServerHello, a Certificate message listing no certificate, ServerHelloDone."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        flight = record(CONTENT_HANDSHAKE, certificate_tls12([]) + server_hello_done())
        send_then_wait(conn, tls12_server_hello_record(hello) + flight, stop)

    with scripted_peer(tls12_only(respond), host) as address:
        yield address


@contextlib.contextmanager
def oversized_certificate_peer(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """TLS 1.2: ServerHello, then a Certificate message whose length claims 16 MB (2^24 - 1 bytes); sends
    the first 32 KB of it (the real chain, then zeros) and then nothing more, connection open."""
    claimed = (1 << 24) - 1

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        entries = b"".join(len(d).to_bytes(3, "big") + d for d in served_chain())
        body = (claimed - 3).to_bytes(3, "big") + entries
        start = bytes([HANDSHAKE_CERTIFICATE]) + claimed.to_bytes(3, "big") + body
        start = (start + bytes(32768))[:32768]
        send_then_wait(conn, tls12_server_hello_record(hello) + record(CONTENT_HANDSHAKE, start), stop)

    with scripted_peer(tls12_only(respond), host) as address:
        yield address


@contextlib.contextmanager
def dripping_certificate_peer(host: str = "127.0.0.1", *, interval: float = 2.0) -> Iterator[ServerAddress]:
    """TLS 1.2: ServerHello at once, then the Certificate and ServerHelloDone records 1 byte every
    `interval` seconds."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        conn.sendall(tls12_server_hello_record(hello))
        rest = record(CONTENT_HANDSHAKE, certificate_tls12(served_chain()) + server_hello_done())
        for index in range(len(rest)):
            if stop.wait(interval):
                return
            conn.sendall(rest[index : index + 1])
        wait_until_closed(conn, stop)

    with scripted_peer(tls12_only(respond), host) as address:
        yield address


def inconsistent_certificate_flight(hello: ClientHelloInfo) -> bytes:
    """ServerHello, a Certificate whose first certificate claims 100 bytes more than the whole
    certificate_list holds (record and message lengths are right), ServerHelloDone."""
    leaf = served_chain()[0]
    entries = (len(leaf) + 100).to_bytes(3, "big") + leaf
    message = handshake(HANDSHAKE_CERTIFICATE, len(entries).to_bytes(3, "big") + entries)
    return tls12_server_hello_record(hello) + record(CONTENT_HANDSHAKE, message + server_hello_done())


@contextlib.contextmanager
def inconsistent_certificate_lengths_peer(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """TLS 1.2: ServerHello, a Certificate whose first certificate claims 100 bytes more than the whole
    certificate_list holds (record and message lengths are right), then ServerHelloDone."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        send_then_wait(conn, inconsistent_certificate_flight(hello), stop)

    with scripted_peer(tls12_only(respond), host) as address:
        yield address


# --- segmentation ----------------------------------------------------------------------------------------


def one_byte_segments(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def random_segments(seed: int, *, largest: int = 300) -> Split:
    """Cut at random places (1..`largest` bytes a piece), reproducibly for `seed`."""

    def split(data: bytes) -> list[bytes]:
        rng = random.Random(seed)
        pieces: list[bytes] = []
        at = 0
        while at < len(data):
            size = rng.randint(1, largest)
            pieces.append(data[at : at + size])
            at += size
        return pieces

    return split


def whole(data: bytes) -> list[bytes]:
    return [data]


@contextlib.contextmanager
def segmented_flight_peer(
    split: Split,
    host: str = "127.0.0.1",
    *,
    gap: float = 0.0005,
    flight: Callable[[ClientHelloInfo], bytes] | None = None,
    replies: list[bytes] | None = None,
) -> Iterator[ServerAddress]:
    """TLS 1.2: a server flight, sent as the TCP segments `split` makes of it (TCP_NODELAY, `gap` seconds
    between segments); the same bytes whatever the split. The flight is a valid ServerHello, Certificate,
    ServerHelloDone unless `flight` (e.g. `inconsistent_certificate_flight`) builds another. With `replies`,
    the client's answer to the flight is kept there (see `note_reply_then_close`)."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = flight(hello) if flight else valid_tls12_flight(hello, random_bytes=bytes(range(32)))
        pieces = split(data)
        for index, piece in enumerate(pieces):
            if index and gap and stop.wait(gap):
                return
            conn.sendall(piece)
        note_reply_then_close(conn, replies, stop)

    with scripted_peer(tls12_only(respond), host) as address:
        yield address


# --- malformed or misleading ServerHellos ---------------------------------------------------------------


@contextlib.contextmanager
def hello_retry_random_tls12_peer(
    host: str = "127.0.0.1", *, replies: list[bytes] | None = None
) -> Iterator[ServerAddress]:
    """TLS 1.2: a valid flight whose ServerHello random equals the TLS 1.3 HelloRetryRequest value. With
    `replies`, the client's answer to the flight is kept there (see `note_reply_then_close`)."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        conn.sendall(valid_tls12_flight(hello, random_bytes=HELLO_RETRY_REQUEST_RANDOM))
        note_reply_then_close(conn, replies, stop)

    with scripted_peer(tls12_only(respond), host) as address:
        yield address


@contextlib.contextmanager
def sslv2_server_hello_peer(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """Answers every hello, TLS or SSLv2, with an SSLv2 SERVER-HELLO (the test leaf, RC4-128-MD5)."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        send_then_wait(conn, sslv2_server_hello(served_chain()[0]), stop)

    with scripted_peer(respond, host) as address:
        yield address


@contextlib.contextmanager
def duplicate_supported_versions_peer(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """TLS 1.3: a ServerHello with supported_versions (0x0304) twice, around a key_share (RFC 8446 4.2
    forbids duplicates: a client must abort)."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        again = extension(EXT_SUPPORTED_VERSIONS, TLS13.to_bytes(2, "big"))
        send_then_wait(conn, record(CONTENT_HANDSHAKE, tls13_server_hello(hello, extra=[again])), stop)

    with scripted_peer(tls13_only(respond), host) as address:
        yield address


@contextlib.contextmanager
def tls13_legacy_version_peer(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """TLS 1.3 hellos get a ServerHello with legacy_version 0x0304 and no supported_versions (a TLS 1.3
    client cannot finish that handshake: RFC 8446 4.1.3)."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        send_then_wait(conn, record(CONTENT_HANDSHAKE, tls13_server_hello(hello, legacy=TLS13)), stop)

    with scripted_peer(tls13_only(respond), host) as address:
        yield address


# --- truncated answers -----------------------------------------------------------------------------------

TRUNCATED_AT = 30
"""Bytes of the ServerHello record the truncating peers send: the 5-byte header and part of the body."""


def _partial_server_hello(hello: ClientHelloInfo) -> bytes:
    return tls12_server_hello_record(hello)[:TRUNCATED_AT]


@contextlib.contextmanager
def truncated_answer_then_fin_peer(host: str = "127.0.0.1") -> Iterator[ServerAddress]:
    """Answers every hello with the first 30 bytes of a ServerHello record, then an orderly close (FIN)."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        conn.sendall(_partial_server_hello(hello))
        conn.shutdown(socket.SHUT_WR)
        wait_until_closed(conn, stop)

    with scripted_peer(respond, host) as address:
        yield address


@contextlib.contextmanager
def truncated_answer_then_reset_peer(
    host: str = "127.0.0.1", *, pause: float = 0.2
) -> Iterator[ServerAddress]:
    """Answers every hello with the first 30 bytes of a ServerHello record, then, `pause` s later, a RST."""

    def respond(conn: socket.socket, hello: ClientHelloInfo, stop: threading.Event) -> None:
        conn.sendall(_partial_server_hello(hello))
        if not stop.wait(pause):
            reset(conn)

    with scripted_peer(respond, host) as address:
        yield address
