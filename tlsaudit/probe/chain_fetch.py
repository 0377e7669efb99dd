"""A full TLS handshake for what the raw probes cannot read: the certificate chain of a TLS 1.3-only
server (its Certificate message is encrypted) and whether a client certificate is required.

pyOpenSSL runs over memory BIOs; the bytes travel through the probe transport's `Connection`, so the
handshake never blocks the event loop and works unchanged after a STARTTLS exchange.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass

from OpenSSL import SSL, crypto

from tlsaudit.errors import PeerError, ProbeError
from tlsaudit.models import ClientCertificate
from tlsaudit.probe.transport import Connection, Prober, StreamConnection, standalone_prober
from tlsaudit.tls.client_hello import sni_allowed

_READ_CHUNK = 16384
# After a handshake in which the server asked for a certificate and got none: how long to wait for
# the TLS 1.3 refusal, which arrives after the client's Finished.
_REFUSAL_WAIT = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeResult:
    chain: tuple[bytes, ...]
    client_certificate: ClientCertificate | None = None
    # With request_ocsp: what the server stapled (b"": nothing), None when not asked.
    ocsp_response: bytes | None = None
    # With http_request: the bytes answered (at most hsts.MAX_HEADER_BYTES), None when not sent.
    http_answer: bytes | None = None
    http_closed: bool = False  # the server closed before the end of the headers
    http_error: str = ""  # why the request could not be sent or answered (timeout, alert, ...)


class _Stapled:
    """Keeps what the server stapled, through OpenSSL's OCSP client callback (called once, b"" when the
    server sent no CertificateStatus)."""

    def __init__(self) -> None:
        self.response: bytes | None = None

    def __call__(self, _conn: SSL.Connection, data: bytes, _user: object) -> bool:
        self.response = bytes(data)
        return True  # judged later: a bad staple must not end the handshake


class _RequestSeen:
    """Notes, through OpenSSL's info callback, that the server sent a CertificateRequest."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, conn: SSL.Connection, where: int, _ret: int) -> None:
        if where & SSL.SSL_CB_LOOP and b"certificate request" in conn.get_state_string():
            self.seen = True


def _client_context(requests: _RequestSeen, stapled: _Stapled | None = None) -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    if stapled is not None:
        ctx.set_ocsp_client_callback(stapled)
    # Only the chain is wanted: accept whatever the server has, however weak, and judge it later.
    ctx.set_verify(SSL.VERIFY_NONE, lambda *_: True)
    ctx.set_min_proto_version(0)
    ctx.set_cipher_list(b"ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    ctx.set_info_callback(requests)
    return ctx


async def handshake_over(
    conn: Connection,
    *,
    server_name: str | None,
    timeout: float,
    request_ocsp: bool = False,
    http_request: bytes | None = None,
) -> HandshakeResult:
    """Run a TLS handshake on an open connection (no client certificate). Returns the DER chain the
    server sent, leaf first, and whether it asked for (or insisted on) a client certificate.

    `request_ocsp`: offer status_request and keep what the server staples. `http_request`: after the
    handshake, send these bytes and read the answer up to the end of its headers (bounded in size and
    by the same deadline)."""
    requests = _RequestSeen()
    stapled = _Stapled() if request_ocsp else None
    tls = SSL.Connection(_client_context(requests, stapled), None)
    if stapled is not None:
        tls.request_ocsp()
    tls.set_connect_state()
    if server_name and sni_allowed(server_name):  # SNI never carries an IP address (RFC 6066 3)
        tls.set_tlsext_host_name(server_name.encode("idna"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            tls.do_handshake()
            break
        except SSL.WantReadError:
            pass
        except SSL.Error as exc:
            if requests.seen:
                return HandshakeResult(chain=_chain(tls), client_certificate=ClientCertificate.REQUIRED)
            raise PeerError(f"TLS handshake failed: {_ssl_reason(exc)}") from exc
        _flush(tls, conn)
        data = await _read(conn, deadline, "during the TLS handshake")
        if not data:
            if requests.seen:
                return HandshakeResult(chain=_chain(tls), client_certificate=ClientCertificate.REQUIRED)
            raise ProbeError("connection closed during the TLS handshake")
        tls.bio_write(data)
    _flush(tls, conn)
    chain = _chain(tls)
    ocsp_response = None if stapled is None else (stapled.response or b"")
    client_certificate = None
    if requests.seen:
        refused = await _refused_afterwards(tls, conn, min(_REFUSAL_WAIT, max(deadline - loop.time(), 0.05)))
        client_certificate = ClientCertificate.REQUIRED if refused else ClientCertificate.REQUESTED
    result = HandshakeResult(chain=chain, client_certificate=client_certificate, ocsp_response=ocsp_response)
    if http_request is None:
        return result
    if client_certificate == ClientCertificate.REQUIRED:
        return dataclasses.replace(
            result, http_answer=b"", http_error="the server requires a client certificate"
        )
    return await _http_exchange(tls, conn, http_request, deadline, result)


async def _http_exchange(
    tls: SSL.Connection, conn: Connection, request: bytes, deadline: float, result: HandshakeResult
) -> HandshakeResult:
    """Send one request over the established session and read until the end of the answer's headers,
    the size bound, a close, or the deadline."""
    from tlsaudit.probe.hsts import MAX_HEADER_BYTES, headers_complete

    answer = bytearray()
    try:
        tls.sendall(request)
    except SSL.Error as exc:
        return dataclasses.replace(result, http_answer=b"", http_error=f"cannot send: {_ssl_reason(exc)}")
    _flush(tls, conn)
    closed = False
    error = ""
    while not headers_complete(bytes(answer)):
        try:
            answer += tls.recv(_READ_CHUNK)
            continue
        except SSL.WantReadError:
            pass
        except SSL.ZeroReturnError:
            closed = True
            break
        except SSL.SysCallError:
            closed = True  # closed without close_notify: what was read is all there is
            break
        except SSL.Error as exc:
            error = f"TLS error while reading the HTTP answer: {_ssl_reason(exc)}"
            break
        _flush(tls, conn)  # e.g. a key update, or session tickets acknowledged
        try:
            data = await _read(conn, deadline, "waiting for the HTTP answer")
        except ProbeError as exc:
            error = str(exc)
            break
        if not data:
            closed = True
            break
        tls.bio_write(data)
    return dataclasses.replace(
        result,
        http_answer=bytes(answer[:MAX_HEADER_BYTES]),
        http_closed=closed,
        http_error=error if not answer else "",
    )


async def _refused_afterwards(tls: SSL.Connection, conn: Connection, wait: float) -> bool:
    """TLS 1.3 servers refuse a missing client certificate after the handshake: an alert or a close."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            data = await _read(conn, deadline, "")
        except ProbeError as exc:
            return not str(exc).startswith("timeout")
        if not data:
            return True
        tls.bio_write(data)
        try:
            tls.recv(_READ_CHUNK)
            return False  # the server sent application data: it accepted the connection
        except SSL.WantReadError:
            continue
        except (SSL.ZeroReturnError, SSL.Error):
            return True


def _chain(tls: SSL.Connection) -> tuple[bytes, ...]:
    # DER straight from OpenSSL: parsing (and refusing malformed certificates) is analyse_chain's job.
    chain = tls.get_peer_cert_chain() or []
    return tuple(crypto.dump_certificate(crypto.FILETYPE_ASN1, cert) for cert in chain)


async def _read(conn: Connection, deadline: float, during: str) -> bytes:
    try:
        async with asyncio.timeout_at(deadline):
            return await conn.read()
    except TimeoutError as exc:
        raise ProbeError(f"timeout {during}".strip()) from exc
    except OSError as exc:
        raise ProbeError(f"connection error {during}: {exc}") from exc


def _flush(tls: SSL.Connection, conn: Connection) -> None:
    while True:
        try:
            out = tls.bio_read(_READ_CHUNK)
        except SSL.WantReadError:
            break
        if not out:
            break
        conn.write(out)


def _ssl_reason(exc: SSL.Error) -> str:
    parts = [str(p[2]) for p in exc.args[0] if isinstance(p, tuple) and len(p) == 3] if exc.args else []
    return "; ".join(parts) or str(exc) or type(exc).__name__


async def full_handshake(
    prober: Prober, *, request_ocsp: bool = False, http_request: bytes | None = None
) -> HandshakeResult:
    """Connect through the prober's transport (STARTTLS included) and run a full handshake (see
    `handshake_over` for `request_ocsp` and `http_request`).

    Raises ProbeError (network, timeout, StartTlsRefused) or PeerError (handshake failure)."""
    endpoint = prober.endpoint
    per_endpoint, per_address, total = prober.limits.slots(endpoint)
    async with per_endpoint, per_address, total:
        try:
            async with asyncio.timeout(prober.timeout):
                conn = await prober.backend.connect(endpoint, prober.timeout)
        except TimeoutError as exc:
            raise ProbeError(f"timeout after {prober.timeout:g}s while connecting") from exc
        try:
            return await handshake_over(
                conn,
                server_name=endpoint.server_name,
                timeout=prober.timeout,
                request_ocsp=request_ocsp,
                http_request=http_request,
            )
        finally:
            conn.close()


async def fetch_chain(
    ip: str,
    port: int,
    *,
    server_name: str | None,
    starttls: str | None = None,
    timeout: float = 10.0,
) -> tuple[bytes, ...]:
    """Connect, negotiate STARTTLS if asked, and return the server's DER chain (leaf first)."""
    prober = standalone_prober(
        ip, port, server_name=server_name, starttls=starttls, timeout=timeout, retries=0
    )
    return (await full_handshake(prober)).chain


async def fetch_chain_over(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    server_name: str | None,
    timeout: float,
) -> tuple[bytes, ...]:
    """Run a TLS handshake on an already open stream and return the DER chain (leaf first)."""
    conn = StreamConnection(reader, writer)
    return (await handshake_over(conn, server_name=server_name, timeout=timeout)).chain
