"""Fetch a server's certificate chain with a full handshake (needed when only TLS 1.3 is accepted:
its Certificate message is encrypted, so the raw probes cannot read it).

pyOpenSSL runs over memory BIOs and the bytes travel through asyncio streams, so the handshake
never blocks the event loop and works unchanged after a STARTTLS exchange on the same stream.
"""

from __future__ import annotations

import asyncio
import time

from OpenSSL import SSL, crypto

from tlsaudit.errors import PeerError, ProbeError
from tlsaudit.probe.connect import abort, open_tls_stream
from tlsaudit.tls.client_hello import sni_allowed

_READ_CHUNK = 16384


def _client_context() -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    # Only the chain is wanted: accept whatever the server has, however weak, and judge it later.
    ctx.set_verify(SSL.VERIFY_NONE, lambda *_: True)
    ctx.set_min_proto_version(0)
    ctx.set_cipher_list(b"ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return ctx


async def fetch_chain_over(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    server_name: str | None,
    timeout: float,
) -> tuple[bytes, ...]:
    """Run a TLS handshake on an open stream and return the DER chain the server sent, leaf first."""
    conn = SSL.Connection(_client_context(), None)
    conn.set_connect_state()
    if server_name and sni_allowed(server_name):  # SNI never carries an IP address (RFC 6066 3)
        conn.set_tlsext_host_name(server_name.encode("idna"))
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.do_handshake()
            break
        except SSL.WantReadError:
            pass
        except SSL.Error as exc:
            raise PeerError(f"TLS handshake failed: {_ssl_reason(exc)}") from exc
        await _flush(conn, writer)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProbeError("timeout during the TLS handshake")
        try:
            data = await asyncio.wait_for(reader.read(_READ_CHUNK), remaining)
        except TimeoutError as exc:
            raise ProbeError("timeout during the TLS handshake") from exc
        except OSError as exc:
            raise ProbeError(f"connection error during the TLS handshake: {exc}") from exc
        if not data:
            raise ProbeError("connection closed during the TLS handshake")
        conn.bio_write(data)
    await _flush(conn, writer)
    # DER straight from OpenSSL: parsing (and refusing malformed certificates) is analyse_chain's job.
    chain = conn.get_peer_cert_chain() or []
    return tuple(crypto.dump_certificate(crypto.FILETYPE_ASN1, cert) for cert in chain)


async def _flush(conn: SSL.Connection, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            out = conn.bio_read(_READ_CHUNK)
        except SSL.WantReadError:
            break
        if not out:
            break
        writer.write(out)
    try:
        await writer.drain()
    except OSError as exc:
        raise ProbeError(f"connection error during the TLS handshake: {exc}") from exc


def _ssl_reason(exc: SSL.Error) -> str:
    parts = [str(p[2]) for p in exc.args[0] if isinstance(p, tuple) and len(p) == 3] if exc.args else []
    return "; ".join(parts) or str(exc) or type(exc).__name__


async def fetch_chain(
    ip: str,
    port: int,
    *,
    server_name: str | None,
    starttls: str | None = None,
    timeout: float = 10.0,
) -> tuple[bytes, ...]:
    """Connect, negotiate STARTTLS if asked, and return the server's DER chain (leaf first).

    Raises ProbeError (network, timeout, StartTlsRefused) or PeerError (handshake failure).
    """
    reader, writer = await open_tls_stream(
        ip, port, timeout=timeout, starttls=starttls, server_name=server_name
    )
    try:
        return await fetch_chain_over(reader, writer, server_name=server_name, timeout=timeout)
    finally:
        abort(writer)
