"""Open a TCP connection to one address, with a deadline, mapping failures to probe errors."""

from __future__ import annotations

import asyncio
import errno

from tlsaudit.errors import ProbeError

READ_CHUNK = 16384


def describe_os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, ConnectionAbortedError | BrokenPipeError):
        return "connection aborted"
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network unreachable"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "address not available"
    return f"network error: {exc.strerror or exc.__class__.__name__}"


async def open_tcp(ip: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect without a deadline of its own: callers wrap the whole probe in one timeout."""
    try:
        reader, writer = await asyncio.open_connection(ip, port, limit=READ_CHUNK * 4)
    except OSError as exc:
        raise ProbeError(describe_os_error(exc)) from exc
    return reader, writer  # asyncio's TCP transport has already set TCP_NODELAY


def abort(writer: asyncio.StreamWriter) -> None:
    """Drop the connection at once: a probe never finishes a handshake, so nothing is owed to the peer."""
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()


async def open_tls_stream(
    ip: str, port: int, *, timeout: float, starttls: str | None, server_name: str | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect and, for a STARTTLS service, run its plaintext exchange: the next bytes written may be a
    ClientHello. Both steps share `timeout`. Raises ProbeError (StartTlsRefused when the server says no)."""
    from tlsaudit.probe.starttls import negotiate_starttls

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        async with asyncio.timeout_at(deadline):
            reader, writer = await open_tcp(ip, port)
    except TimeoutError as exc:
        raise ProbeError(f"timeout after {timeout:g}s while connecting") from exc
    if starttls is None:
        return reader, writer
    try:
        await negotiate_starttls(
            reader, writer, starttls, server_name or ip, max(deadline - loop.time(), 0.05)
        )
    except BaseException:
        abort(writer)
        raise
    return reader, writer
