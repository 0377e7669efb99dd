"""The capture listener: accept a client, read its ClientHello, then finish the handshake for real.

The ClientHello is parsed by our own sans-I/O parser (tls/client_hello_parse.py), so any client can be
read, even one no local TLS library would talk to. The bytes already read are then handed to a Python
`ssl` server-side `SSLObject` over memory BIOs that accepts TLS 1.0 to TLS 1.3 at security level 0: a
client that can complete a handshake does, and the outcome tells which version it really negotiated.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from tlsaudit.capture.attribution import Owner, carries_token, connection_owner
from tlsaudit.capture.certs import CaptureCredentials
from tlsaudit.errors import PeerError
from tlsaudit.tls.client_hello_parse import ClientHelloInfo, ClientHelloReader

READ_SIZE = 65536
DEFAULT_IO_TIMEOUT = 10.0
REQUEST_TIMEOUT = 3.0
DEADLINE_FACTOR = 3
_OPENSSL_VERSION_NAMES = {"TLSv1": "TLSv1.0", "SSLv3": "SSLv3"}
HTTP_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 17\r\nConnection: close\r\n\r\n"
    b"tlsaudit capture\n"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture:
    """One connection to the listener: what the client offered and how the handshake ended."""

    peer: str
    hello: ClientHelloInfo | None
    outcome: str
    negotiated_version: str | None = None
    negotiated_cipher: str | None = None
    completed: bool = False
    started_at: float = 0.0
    raw_hello: bytes = b""  # the client's first flight as received, up to the end of the ClientHello
    process: str = ""  # the local process that connected, when asked for and found ("curl (pid 42)")


OnCapture = Callable[[Capture], None]
Page = Callable[[Capture], bytes]
"""The HTTP response (status line, headers, body) for a client's request, built from its own capture."""


def server_context(credentials: CaptureCredentials) -> ssl.SSLContext:
    """Server context as permissive as this OpenSSL allows: every TLS version, every suite, level 0.

    Versions are set explicitly so that an OPENSSL_CONF of the user's (which also applies to this
    process) does not narrow what the listener accepts.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    ctx.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    ctx.load_cert_chain(str(credentials.cert_file), str(credentials.key_file))
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def describe_ssl_error(exc: ssl.SSLError) -> str:
    """`client aborted: alert bad_certificate` for an alert the client sent; `handshake failed: ...` else."""
    reason = exc.reason or ""
    if "ALERT_" in reason:
        return "client aborted: alert " + reason.split("ALERT_", 1)[1].lower()
    if reason:
        return "handshake failed: " + reason.lower().replace("_", " ")
    return f"handshake failed: {exc}"


def _version_name(openssl_name: str | None) -> str | None:
    if openssl_name is None:
        return None
    return _OPENSSL_VERSION_NAMES.get(openssl_name, openssl_name)


async def _read(reader: asyncio.StreamReader, timeout: float) -> bytes:
    return await asyncio.wait_for(reader.read(READ_SIZE), timeout)


@dataclass(slots=True)
class _Progress:
    hello: ClientHelloInfo | None = None


async def handle_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    context: ssl.SSLContext,
    *,
    io_timeout: float = DEFAULT_IO_TIMEOUT,
    page: Page | None = None,
) -> Capture:
    """Serve one client and describe it. Never raises for anything the client does.

    Each read waits at most `io_timeout`; the whole connection at most DEADLINE_FACTOR times that,
    so a client trickling a byte at a time cannot hold it open for long."""
    peername = writer.get_extra_info("peername")
    if isinstance(peername, tuple):
        host = str(peername[0])
        peer = f"[{host}]:{peername[1]}" if ":" in host else f"{host}:{peername[1]}"
    else:
        peer = str(peername)
    started = time.time()
    progress = _Progress()
    deadline = io_timeout * DEADLINE_FACTOR
    try:
        async with asyncio.timeout(deadline):
            return await _serve(reader, writer, context, peer, started, io_timeout, progress, page)
    except TimeoutError:
        return Capture(
            peer=peer,
            hello=progress.hello,
            outcome=f"timeout: connection still open after {deadline:g} s",
            started_at=started,
        )
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


async def _serve(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    context: ssl.SSLContext,
    peer: str,
    started: float,
    io_timeout: float,
    progress: _Progress,
    page: Page | None = None,
) -> Capture:
    hello_reader = ClientHelloReader()
    hello: ClientHelloInfo | None = None
    try:
        while hello is None:
            try:
                data = await _read(reader, io_timeout)
            except TimeoutError:
                what = "mid-ClientHello" if hello_reader.buffered else "before sending anything"
                return Capture(peer=peer, hello=None, outcome=f"timeout {what}", started_at=started)
            if not data:
                what = "mid-ClientHello" if hello_reader.buffered else "without sending anything"
                return Capture(peer=peer, hello=None, outcome=f"client closed {what}", started_at=started)
            try:
                hello = hello_reader.feed(data)
            except PeerError as exc:
                return Capture(peer=peer, hello=None, outcome=str(exc), started_at=started)
        progress.hello = hello
        raw_hello = hello_reader.buffered[: hello.wire_length]
        capture = await _finish_handshake(
            reader, writer, context, hello, hello_reader.buffered, peer, started, io_timeout, page, raw_hello
        )
        return dataclasses.replace(capture, raw_hello=raw_hello)
    except ConnectionResetError:
        # A client that aborts often closes with our reply unread: the kernel answers with a reset,
        # which can overtake its alert. Either way the client gave up.
        phase = "during handshake" if hello is not None else "before its ClientHello was complete"
        return Capture(
            peer=peer, hello=hello, outcome=f"client reset the connection {phase}", started_at=started
        )
    except OSError as exc:
        return Capture(
            peer=peer, hello=hello, outcome=f"connection error: {exc.__class__.__name__}", started_at=started
        )


async def _finish_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    context: ssl.SSLContext,
    hello: ClientHelloInfo,
    already_read: bytes,
    peer: str,
    started: float,
    io_timeout: float,
    page: Page | None = None,
    raw_hello: bytes = b"",
) -> Capture:
    if hello.sslv2_format:
        # OpenSSL 3 no longer reads SSLv2-format hellos; what the client offered is all there is to see.
        return Capture(
            peer=peer, hello=hello, outcome="not completed: SSLv2-format ClientHello", started_at=started
        )
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_side=True)
    incoming.write(already_read)

    async def flush() -> None:
        pending = outgoing.read()
        if pending:
            writer.write(pending)
            await asyncio.wait_for(writer.drain(), io_timeout)

    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            await flush()
            try:
                data = await _read(reader, io_timeout)
            except TimeoutError:
                return Capture(peer=peer, hello=hello, outcome="timeout during handshake", started_at=started)
            if not data:
                return Capture(
                    peer=peer, hello=hello, outcome="client closed during handshake", started_at=started
                )
            incoming.write(data)
        except ssl.SSLError as exc:
            with contextlib.suppress(Exception):
                await flush()  # our own alert, if OpenSSL produced one
            return Capture(peer=peer, hello=hello, outcome=describe_ssl_error(exc), started_at=started)
    await flush()
    version = _version_name(tls.version())
    cipher = tls.cipher()
    capture = Capture(
        peer=peer,
        hello=hello,
        outcome=f"completed {version}",
        negotiated_version=version,
        negotiated_cipher=cipher[0] if cipher else None,
        completed=True,
        started_at=started,
    )
    response = page(dataclasses.replace(capture, raw_hello=raw_hello)) if page else HTTP_RESPONSE
    await _answer_request(reader, tls, incoming, flush, response)
    return capture


async def _answer_request(
    reader: asyncio.StreamReader,
    tls: ssl.SSLObject,
    incoming: ssl.MemoryBIO,
    flush: Callable[[], Awaitable[None]],
    response: bytes = HTTP_RESPONSE,
) -> None:
    """Read what the client sends after the handshake; answer an HTTP request with `response`."""
    received = b""
    deadline = asyncio.get_running_loop().time() + REQUEST_TIMEOUT
    with contextlib.suppress(ssl.SSLError, ConnectionError, OSError, TimeoutError):
        while b"\r\n\r\n" not in received and len(received) < READ_SIZE:
            try:
                chunk = tls.read(READ_SIZE)
            except ssl.SSLWantReadError:
                chunk = None
            if chunk == b"":
                break  # the client closed the TLS session
            if chunk:
                received += chunk
                continue
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            data = await _read(reader, remaining)
            if not data:
                break
            incoming.write(data)
        if received:
            tls.write(response)
        with contextlib.suppress(ssl.SSLError):
            tls.unwrap()
        await flush()


def _stray(writer: asyncio.StreamWriter, owner: Owner | None) -> Capture:
    peer = writer.get_extra_info("peername")
    label = owner.label if owner is not None else None
    return Capture(
        peer=str(peer),
        hello=None,
        outcome="not the client's connection: closed unread",
        process=label or "",
        started_at=time.time(),
    )


class CaptureServer:
    """A listening socket on loopback; each connection is served and reported to `on_capture`.

    Use as `async with CaptureServer(...) as server:` and read `server.port`.
    """

    def __init__(
        self,
        host: str | Sequence[str],
        port: int,
        on_capture: OnCapture,
        credentials: CaptureCredentials,
        *,
        io_timeout: float = DEFAULT_IO_TIMEOUT,
        identify_processes: bool = False,
        page: Page | None = None,
        token: str | None = None,
        on_stray: OnCapture | None = None,
    ) -> None:
        """`token`: record only connections from processes started with it in their environment
        (attribution.TOKEN_ENV); any other connection is closed unread and reported to `on_stray`."""
        self.page = page
        self.token = token
        self.on_stray = on_stray
        self.identify_processes = identify_processes
        self.hosts = (host,) if isinstance(host, str) else tuple(host)
        self.requested_port = port
        self.on_capture = on_capture
        self.context = server_context(credentials)
        self.io_timeout = io_timeout
        self._server: asyncio.Server | None = None
        self._extra_servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("capture server is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            owner = await self._identify(writer) if self.identify_processes or self.token else None
            found = owner is not None and (owner.pid is not None or not owner.listed)
            carries = carries_token(owner, self.token) if owner is not None and found and self.token else True
            found = found and carries is not None  # None: the process exited before it could be read
            if carries is False:
                writer.close()  # another program's connection: never read, never recorded as the client's
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer.wait_closed(), 1.0)
                if self.on_stray is not None:
                    self.on_stray(_stray(writer, owner))
                return
            capture = await handle_connection(
                reader, writer, self.context, io_timeout=self.io_timeout, page=self.page
            )
            if self.token is not None and not found and capture.hello is not None:
                # Its process was gone before it could be looked up: a hello nobody can be named for is
                # never recorded as the client's (a connection without a hello still says what happened).
                if self.on_stray is not None:
                    unnamed = "not attributable: " + capture.outcome
                    self.on_stray(dataclasses.replace(capture, outcome=unnamed))
                return
            if owner is not None and owner.label:
                capture = dataclasses.replace(capture, process=owner.label)
            self.on_capture(capture)
        except asyncio.CancelledError:
            return  # closing with this connection still open: it ends here, quietly
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _identify(self, writer: asyncio.StreamWriter) -> Owner | None:
        """The connecting process, looked up while its socket is still open (psutil, in a thread)."""
        peer = writer.get_extra_info("peername")
        local = writer.get_extra_info("sockname")
        if not isinstance(peer, tuple) or not isinstance(local, tuple):
            return None
        return await asyncio.to_thread(connection_owner, int(peer[1]), int(local[1]))

    async def start(self) -> None:
        """Listen on the first host (port 0: any free port), then on the others, same port.

        With ("127.0.0.1", "::1") a client that resolves `localhost` to either address finds us. With port 0,
        a port that another program holds on the second address is given up for a new one."""
        for _ in range(1 if self.requested_port else 20):
            self._server = await asyncio.start_server(self._client, self.hosts[0], self.requested_port)
            taken = False
            for extra in self.hosts[1:]:
                try:
                    self._extra_servers.append(await asyncio.start_server(self._client, extra, self.port))
                except OSError as exc:
                    # The address family may be missing here; a port taken there is worth another try.
                    taken = taken or exc.errno == errno.EADDRINUSE
            if not taken or self.requested_port:
                return
            await self.close()
            self._extra_servers = []

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait until every connection in progress has been reported (or `timeout`)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        """Stop listening, end the connections still open (their handlers return quietly on
        cancellation), then wait for the listening sockets to close."""
        servers = [s for s in (self._server, *self._extra_servers) if s is not None]
        for server in servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5.0)
        for server in servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 5.0)

    async def __aenter__(self) -> CaptureServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
