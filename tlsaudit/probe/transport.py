"""The one probe transport: connect (and STARTTLS), send a hello, feed the server's bytes to the sans-I/O
parser until the caller has seen enough, all under one deadline.

Every probe tlsaudit makes (version sweep, suite enumeration, certificate collection) goes through
`exchange`. The network sits behind the small `Backend` interface: `AsyncioBackend` for real
connections, and tests drive the same code with scripted byte streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tlsaudit.errors import ProbeError
from tlsaudit.probe.connect import READ_CHUNK, abort, describe_os_error, open_tcp, open_tls_stream
from tlsaudit.probe.starttls import StartTlsRefused
from tlsaudit.tls.server_flight import Event, ServerFlightParser


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One address and port to probe, with the name to send and the STARTTLS dialect, if any."""

    ip: str
    port: int
    server_name: str | None = None
    starttls: str | None = None


class Connection(Protocol):
    def write(self, data: bytes) -> None: ...

    async def read(self) -> bytes:
        """The next bytes from the peer; b"" once it closed. Raises OSError (e.g. a reset)."""
        ...

    def close(self) -> None: ...


class Backend(Protocol):
    async def connect(self, endpoint: Endpoint, timeout: float) -> Connection:
        """An open connection, STARTTLS done. Raises ProbeError (StartTlsRefused when the server said no)."""
        ...


class StreamConnection:
    """A Connection over asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    async def read(self) -> bytes:
        return await self.reader.read(READ_CHUNK)

    def close(self) -> None:
        abort(self.writer)


class AsyncioBackend:
    """Real TCP connections (plus the STARTTLS exchange) through asyncio."""

    async def connect(self, endpoint: Endpoint, timeout: float) -> Connection:
        if endpoint.starttls is None:  # `exchange` bounds the connect: no second timer
            reader, writer = await open_tcp(endpoint.ip, endpoint.port)
            return StreamConnection(reader, writer)
        reader, writer = await open_tls_stream(
            endpoint.ip,
            endpoint.port,
            timeout=timeout,
            starttls=endpoint.starttls,
            server_name=endpoint.server_name,
        )
        return StreamConnection(reader, writer)


class Ending(StrEnum):
    """How an exchange ended."""

    DECIDED = "decided"  # the caller saw enough (or the parser found the peer malformed)
    CLOSED = "closed"  # the peer closed the connection
    RESET = "reset"  # the peer reset the connection
    TIMEOUT = "timeout"
    NETWORK_ERROR = "network-error"  # another error while reading
    CONNECT_FAILED = "connect-failed"  # refused, unreachable, or a timeout while connecting
    STARTTLS_REFUSED = "starttls-refused"


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """What one connection showed: the parsed events and how it ended."""

    events: tuple[Event, ...]
    ending: Ending
    received: int = 0  # bytes the server sent after the hello
    mid_message: bool = False  # the bytes stopped inside a record or message
    detail: str = ""  # the network error or refusal, in words
    timeout: float = 0.0


Decide = Callable[[Sequence[Event]], bool]
"""Given the events so far, has the caller seen enough to stop reading?"""

Respond = Callable[[Sequence[Event]], bytes | None]
"""Given the events so far, the bytes to send next (the client's second flight), or None. Called after
every read that did not end the exchange; a responder keeps its own state (it usually sends once)."""


async def exchange(
    backend: Backend,
    endpoint: Endpoint,
    hello: bytes,
    decide: Decide,
    *,
    timeout: float,
    respond: Respond | None = None,
) -> Exchange:
    """One connection: send `hello`, read until `decide` says enough, the peer is malformed, it closes,
    or `timeout` (for the whole connection, STARTTLS included) runs out. Never raises for the peer's doing.

    `respond` (the known-flaw probes) may send further bytes once the server's flight is in."""
    loop = asyncio.get_running_loop()
    parser = ServerFlightParser()
    events: list[Event] = []
    ending = Ending.DECIDED
    detail = ""
    conn: Connection | None = None
    # One deadline for the whole connection: a single timer, whichever step it ends.
    try:
        async with asyncio.timeout_at(loop.time() + timeout):
            try:
                conn = await backend.connect(endpoint, timeout)
            except StartTlsRefused as exc:
                return Exchange(events=(), ending=Ending.STARTTLS_REFUSED, detail=exc.reason, timeout=timeout)
            except ProbeError as exc:
                return Exchange(events=(), ending=Ending.CONNECT_FAILED, detail=exc.reason, timeout=timeout)
            conn.write(hello)
            while True:
                try:
                    data = await conn.read()
                except TimeoutError:  # the system's (ETIMEDOUT), not the deadline's
                    ending, detail = Ending.TIMEOUT, _answer_timeout(timeout)
                    break
                except ConnectionResetError:
                    ending, detail = Ending.RESET, "connection reset"
                    break
                except OSError as exc:
                    ending, detail = Ending.NETWORK_ERROR, describe_os_error(exc)
                    break
                if not data:
                    ending, detail = Ending.CLOSED, "closed"
                    break
                events.extend(parser.feed(data))
                if parser.failed or decide(events):
                    break
                if respond is not None and (more := respond(events)):
                    conn.write(more)
    except TimeoutError:
        if conn is None:
            return Exchange(
                events=(),
                ending=Ending.CONNECT_FAILED,
                detail=f"timeout after {timeout:g}s while connecting",
                timeout=timeout,
            )
        ending, detail = Ending.TIMEOUT, _answer_timeout(timeout)
    finally:
        if conn is not None:
            conn.close()
    return Exchange(
        events=tuple(events),
        ending=ending,
        received=parser.received,
        mid_message=parser.mid_message,
        detail=detail,
        timeout=timeout,
    )


def _answer_timeout(timeout: float) -> str:
    return f"timeout after {timeout:g}s waiting for the server's answer"


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitSettings:
    """How many connections may be open at once: in all, to one address, and to one address and port.

    The per-endpoint default is polite like SSLyze's 5 connections per server, yet lets the six version
    probes run at once (a silent endpoint then costs one timeout, not two); the per-address cap protects a
    machine that serves many ports from a burst of them."""

    total: int = 400
    per_address: int = 32
    per_endpoint: int = 6


class Limits:
    """The semaphores behind `LimitSettings`, shared by every probe of one scan."""

    def __init__(self, settings: LimitSettings) -> None:
        self.settings = settings
        self._total = asyncio.Semaphore(settings.total)
        self._addresses: dict[str, asyncio.Semaphore] = {}
        self._endpoints: dict[tuple[str, int], asyncio.Semaphore] = {}

    def slots(self, endpoint: Endpoint) -> tuple[asyncio.Semaphore, ...]:
        """Acquire in this order (the narrowest first, so a busy endpoint holds no global slot waiting)."""
        key = (endpoint.ip, endpoint.port)
        per_endpoint = self._endpoints.get(key)
        if per_endpoint is None:
            per_endpoint = self._endpoints[key] = asyncio.Semaphore(self.settings.per_endpoint)
        per_address = self._addresses.get(endpoint.ip)
        if per_address is None:
            per_address = self._addresses[endpoint.ip] = asyncio.Semaphore(self.settings.per_address)
        return (per_endpoint, per_address, self._total)


class Prober:
    """Probes of one endpoint: limits, bounded retries with a short back-off, and what the endpoint has
    shown so far (whether it ever answered), which later decisions (reset as refusal, slow retries) use."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        limits: Limits,
        timeout: float,
        retries: int,
        backend: Backend | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.limits = limits
        self.timeout = timeout
        self.retries = max(retries, 0)
        self.backend: Backend = backend or AsyncioBackend()
        self.answered = 0  # exchanges in which the server sent a complete, well-formed answer
        self._serial = asyncio.Lock()
        self._slots: tuple[asyncio.Semaphore, ...] | None = None  # this endpoint's, from `limits`

    async def once(
        self, hello: bytes, decide: Decide, *, timeout: float | None = None, respond: Respond | None = None
    ) -> Exchange:
        if self._slots is None:
            self._slots = self.limits.slots(self.endpoint)
        per_endpoint, per_address, total = self._slots
        async with per_endpoint, per_address, total:
            return await exchange(
                self.backend, self.endpoint, hello, decide, timeout=timeout or self.timeout, respond=respond
            )

    async def run(
        self,
        hello: Callable[[], bytes],
        decide: Decide,
        *,
        transient: Callable[[Exchange], bool],
        timeout: float | None = None,
        retries: int | None = None,
        respond: Callable[[], Respond] | None = None,
    ) -> tuple[Exchange, int]:
        """Up to 1 + retries attempts while `transient` says the outcome may differ next time.
        Returns the last exchange and the number of attempts. `respond` makes a fresh responder for
        each attempt."""
        attempts = 1 + (self.retries if retries is None else retries)
        result: Exchange | None = None
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(0.05 * attempt)
            result = await self.once(
                hello(), decide, timeout=timeout, respond=respond() if respond is not None else None
            )
            if not transient(result):
                return result, attempt + 1
        assert result is not None
        return result, attempts

    async def run_serially(
        self,
        hello: Callable[[], bytes],
        decide: Decide,
        *,
        transient: Callable[[Exchange], bool],
        timeout: float,
    ) -> tuple[Exchange, int]:
        """One attempt at a time on this endpoint (for a server that serves one connection at a time)."""
        async with self._serial:
            return await self.run(hello, decide, transient=transient, timeout=timeout, retries=0)


def standalone_prober(
    ip: str,
    port: int,
    *,
    server_name: str | None = None,
    starttls: str | None = None,
    timeout: float = 5.0,
    retries: int = 1,
) -> Prober:
    """A prober with limits of its own, for one endpoint probed outside a scan."""
    return Prober(
        Endpoint(ip=ip, port=port, server_name=server_name, starttls=starttls),
        limits=Limits(LimitSettings()),
        timeout=timeout,
        retries=retries,
    )
