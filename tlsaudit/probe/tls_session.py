"""Complete TLS 1.2-and-below handshakes over the probe transport, for what only a finished handshake shows:
session resumption (IDs, tickets and the ticket lifetime hint, through Python's `ssl`) and client-initiated
renegotiation (through pyOpenSSL, whose `renegotiate` Python's `ssl` lacks).

Both libraries run over memory BIOs and the bytes travel through the prober's connection (limits,
STARTTLS, deadlines), as in `chain_fetch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

from OpenSSL import SSL

from tlsaudit.errors import PeerError, ProbeError
from tlsaudit.probe.transport import Connection, Prober
from tlsaudit.tls.client_hello import sni_allowed

_CHUNK = 16384


@contextlib.asynccontextmanager
async def connection(prober: Prober) -> AsyncIterator[Connection]:
    """An open connection to the prober's endpoint (STARTTLS done), within its limits."""
    endpoint = prober.endpoint
    per_endpoint, per_address, total = prober.limits.slots(endpoint)
    async with per_endpoint, per_address, total:
        try:
            async with asyncio.timeout(prober.timeout):
                conn = await prober.backend.connect(endpoint, prober.timeout)
        except TimeoutError as exc:
            raise ProbeError(f"timeout after {prober.timeout:g}s while connecting") from exc
        try:
            yield conn
        finally:
            conn.close()


async def _read(conn: Connection, deadline: float) -> bytes:
    try:
        async with asyncio.timeout_at(deadline):
            return await conn.read()
    except TimeoutError as exc:
        raise ProbeError("timeout during the handshake") from exc
    except OSError as exc:
        raise ProbeError(f"connection error during the handshake: {exc}") from exc


# ---------------------------------------------------------------- resumption (Python ssl)


def _resumption_context(tickets: bool) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the ticket arrives inside a TLS 1.2 handshake
    with contextlib.suppress(ValueError):
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with contextlib.suppress(ssl.SSLError):
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    if not tickets:
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


async def _ssl_handshake(
    prober: Prober, ctx: ssl.SSLContext, session: ssl.SSLSession | None
) -> ssl.SSLObject:
    name = prober.endpoint.server_name
    async with connection(prober) as conn:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(
            incoming, outgoing, server_hostname=name if sni_allowed(name) else None, session=session
        )
        deadline = asyncio.get_running_loop().time() + prober.timeout
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                raise PeerError(f"TLS handshake failed: {exc.reason or exc}") from exc
            if pending := outgoing.read():
                conn.write(pending)
            data = await _read(conn, deadline)
            if not data:
                raise ProbeError("connection closed during the handshake")
            incoming.write(data)
        # close_notify: a server drops the session of a connection that ends without one (RFC 5246 7.2.1)
        with contextlib.suppress(ssl.SSLError):
            obj.unwrap()
        if pending := outgoing.read():
            conn.write(pending)
        return obj


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumption:
    resumed: bool
    ticket: bool = False
    lifetime_hint: int | None = None


async def resumption(prober: Prober, *, tickets: bool) -> Resumption:
    """A full handshake, then a second one offering its session: by ID (`tickets=False`) or by ticket."""
    ctx = _resumption_context(tickets)
    first = await _ssl_handshake(prober, ctx, None)
    try:
        session = first.session
    except ValueError as exc:  # OpenSSL cannot serialise it (e.g. a leaf with 10,000 names)
        raise PeerError(f"the session cannot be kept for resumption: {exc}") from exc
    if session is None:
        return Resumption(resumed=False)
    has_ticket = bool(session.has_ticket)
    if tickets and not has_ticket:
        return Resumption(resumed=False)
    if not tickets and not session.id:
        return Resumption(resumed=False)
    second = await _ssl_handshake(prober, ctx, session)
    return Resumption(
        resumed=second.session_reused,
        ticket=has_ticket,
        lifetime_hint=session.ticket_lifetime_hint if has_ticket else None,
    )


# ---------------------------------------------------------------- renegotiation (pyOpenSSL)


def _renegotiation_context() -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_verify(SSL.VERIFY_NONE, lambda *_: True)
    ctx.set_min_proto_version(0)
    ctx.set_max_proto_version(SSL.TLS1_2_VERSION)  # TLS 1.3 has no renegotiation
    ctx.set_cipher_list(b"ALL:@SECLEVEL=0")
    return ctx


def _flush(tls: SSL.Connection, conn: Connection) -> None:
    while True:
        try:
            out = tls.bio_read(_CHUNK)
        except SSL.WantReadError:
            return
        if not out:
            return
        conn.write(out)


class _Closed(ProbeError):
    """The server closed the connection."""


async def _drive(tls: SSL.Connection, conn: Connection, deadline: float) -> None:
    """Run `do_handshake` until it completes; SSL.Error and ProbeError escape."""
    while True:
        try:
            tls.do_handshake()
            _flush(tls, conn)
            return
        except SSL.WantReadError:
            pass
        _flush(tls, conn)
        data = await _read(conn, deadline)
        if not data:
            raise _Closed("connection closed")
        tls.bio_write(data)


async def client_renegotiation(prober: Prober) -> bool | None:
    """Does the server complete a renegotiation the client starts? None when it could not be told (no
    initial handshake, or the server went silent)."""
    name = prober.endpoint.server_name
    async with connection(prober) as conn:
        tls = SSL.Connection(_renegotiation_context(), None)
        tls.set_connect_state()
        if name and sni_allowed(name):
            tls.set_tlsext_host_name(name.encode("idna"))
        deadline = asyncio.get_running_loop().time() + prober.timeout
        try:
            await _drive(tls, conn, deadline)
        except SSL.Error as exc:
            raise PeerError(f"TLS handshake failed: {exc}") from exc
        if not tls.renegotiate():
            return None
        try:
            await _drive(tls, conn, deadline)
        except (SSL.Error, _Closed):
            return False  # no_renegotiation (fatal for an OpenSSL client), a close, another refusal
        except ProbeError:
            return None  # silence: nothing to judge
        return not tls.renegotiate_pending()
