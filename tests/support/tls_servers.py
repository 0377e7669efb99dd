"""Real TLS servers on loopback: Python `ssl`, tlslite-ng (for SSLv3) and `openssl s_server`.

Each is a context manager yielding a `TlsServer` (host, port, certificate files); every server binds an
ephemeral port on 127.0.0.1 (or ::1), is stopped on exit, and uses timeouts everywhere.
"""

from __future__ import annotations

import contextlib
import ctypes
import queue
import re
import shutil
import socket
import ssl
import subprocess
import threading
import warnings
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tlsaudit.models import TlsVersion

from .acceptor import CONNECTION_TIMEOUT, ServerAddress, check_loopback, recv_some, serve
from .certs import CertFiles, make_cert

START_TIMEOUT = 10.0
"""Seconds a server subprocess may take to start listening."""

DEFAULT_CIPHERS = "DEFAULT:@SECLEVEL=0"
"""OpenSSL 3 refuses TLS 1.0/1.1 at security level 1 and above; tests need them."""

HTTP_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
)

_ORDER: tuple[TlsVersion, ...] = (
    TlsVersion.SSLv3,
    TlsVersion.TLSv1_0,
    TlsVersion.TLSv1_1,
    TlsVersion.TLSv1_2,
    TlsVersion.TLSv1_3,
)
_SSL_VERSIONS: dict[TlsVersion, ssl.TLSVersion] = {
    TlsVersion.TLSv1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLSv1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLSv1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLSv1_3: ssl.TLSVersion.TLSv1_3,
}
_SSL_NO_FLAGS: dict[TlsVersion, ssl.Options] = {
    TlsVersion.TLSv1_0: ssl.OP_NO_TLSv1,
    TlsVersion.TLSv1_1: ssl.OP_NO_TLSv1_1,
    TlsVersion.TLSv1_2: ssl.OP_NO_TLSv1_2,
    TlsVersion.TLSv1_3: ssl.OP_NO_TLSv1_3,
}
_TLSLITE_VERSIONS: dict[TlsVersion, tuple[int, int]] = {
    TlsVersion.SSLv3: (3, 0),
    TlsVersion.TLSv1_0: (3, 1),
    TlsVersion.TLSv1_1: (3, 2),
    TlsVersion.TLSv1_2: (3, 3),
    TlsVersion.TLSv1_3: (3, 4),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsServer(ServerAddress):
    """A running TLS server: where it listens, the versions it was told to accept, its certificate."""

    versions: frozenset[TlsVersion]
    cert: CertFiles


def _sorted(versions: Collection[TlsVersion]) -> list[TlsVersion]:
    if not versions:
        raise ValueError("a test server needs at least one protocol version")
    unknown = set(versions) - set(_ORDER)
    if unknown:
        raise ValueError(f"no test server speaks {sorted(unknown)}")
    return sorted(versions, key=_ORDER.index)


# --- Python ssl -------------------------------------------------------------------------------------------


def _set_tls13_suites(context: ssl.SSLContext, suites: str) -> None:
    """Restrict TLS 1.3 suites, which Python's ssl module has no API for.

    Calls OpenSSL's SSL_CTX_set_ciphersuites on the context's SSL_CTX (the first field after the object
    header), then checks through `get_ciphers()` that exactly the requested suites are enabled.
    """
    module_file = getattr(ssl._ssl, "__file__", None)  # type: ignore[attr-defined]
    if module_file is None:
        raise RuntimeError("this Python's _ssl is built in; cannot set TLS 1.3 suites (use openssl_s_server)")
    library = ctypes.CDLL(module_file)
    set_suites = library.SSL_CTX_set_ciphersuites
    set_suites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    set_suites.restype = ctypes.c_int
    # object.__basicsize__ is sizeof(PyObject): the SSL_CTX pointer follows the header.
    ssl_ctx = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not ssl_ctx or set_suites(ssl_ctx, suites.encode()) != 1:
        raise RuntimeError(f"cannot set TLS 1.3 suites {suites!r}")
    enabled = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.3"}
    if enabled != set(suites.split(":")):
        raise RuntimeError(f"TLS 1.3 suites are {sorted(enabled)}, wanted {suites!r}")


def python_server_context(
    versions: Collection[TlsVersion],
    cert: CertFiles,
    *,
    ciphers: str = DEFAULT_CIPHERS,
    tls13_suites: str | None = None,
    send_intermediate: bool = True,
) -> ssl.SSLContext:
    """An `ssl.SSLContext` accepting exactly `versions` (holes allowed, e.g. TLS 1.0 + TLS 1.2)."""
    wanted = _sorted(versions)
    if TlsVersion.SSLv3 in wanted:
        raise ValueError("the local OpenSSL has no SSLv3: use tlslite_server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated: that is the point
        context.set_ciphers(ciphers)  # before loading keys: the security level also vets the certificate
        context.minimum_version = _SSL_VERSIONS[wanted[0]]
        context.maximum_version = _SSL_VERSIONS[wanted[-1]]
        for version, flag in _SSL_NO_FLAGS.items():
            if version not in wanted:
                context.options |= flag
    if tls13_suites is not None:
        _set_tls13_suites(context, tls13_suites)
    context.load_cert_chain(cert.chain if send_intermediate else cert.leaf, cert.key)
    return context


@contextlib.contextmanager
def python_tls_server(
    versions: Collection[TlsVersion],
    *,
    host: str = "127.0.0.1",
    cert: CertFiles | None = None,
    ciphers: str = DEFAULT_CIPHERS,
    tls13_suites: str | None = None,
    send_intermediate: bool = True,
) -> Iterator[TlsServer]:
    """A Python `ssl` server accepting exactly `versions` (TLS 1.0..1.3), many connections at once.

    Each connection completes the handshake, answers one request (if the client sends one within two
    seconds) with a small HTTP 200 response, and is closed.
    """
    files = cert or make_cert()
    context = python_server_context(
        versions, files, ciphers=ciphers, tls13_suites=tls13_suites, send_intermediate=send_intermediate
    )

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False) as tls:
            tls.settimeout(CONNECTION_TIMEOUT)
            tls.do_handshake()
            if recv_some(tls) and not stop.is_set():
                tls.settimeout(CONNECTION_TIMEOUT)
                tls.sendall(HTTP_RESPONSE)

    with serve(handle, host) as address:
        yield TlsServer(host=address.host, port=address.port, versions=frozenset(versions), cert=files)


# --- tlslite-ng -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def tlslite_server(
    versions: Collection[TlsVersion],
    *,
    host: str = "127.0.0.1",
    cert: CertFiles | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
) -> Iterator[TlsServer]:
    """A tlslite-ng server accepting a contiguous range of SSLv3..TLS 1.3: the only one here with SSLv3.

    The certificate must have an RSA key (the default). `settings_overrides` sets HandshakeSettings
    attributes (e.g. `{"useExtendedMasterSecret": False}`).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # tlslite imports asyncore
        from tlslite.api import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey
    from tlslite.errors import TLSError

    wanted = _sorted(versions)
    span = _ORDER[_ORDER.index(wanted[0]) : _ORDER.index(wanted[-1]) + 1]
    if list(span) != wanted:
        raise ValueError(f"tlslite_server needs a contiguous version range, not {[str(v) for v in wanted]}")
    files = cert or make_cert()
    chain = X509CertChain()
    chain.parsePemList(files.chain.read_text())
    key = parsePEMKey(files.key.read_text(), private=True)
    settings = HandshakeSettings()
    settings.minVersion = _TLSLITE_VERSIONS[wanted[0]]
    settings.maxVersion = _TLSLITE_VERSIONS[wanted[-1]]
    settings.versions = [_TLSLITE_VERSIONS[v] for v in reversed(wanted)]
    if wanted == [TlsVersion.TLSv1_3]:
        # tlslite-ng refuses to run TLS 1.3 alone with the pre-1.3 curves it enables by default.
        settings.eccCurves = [c for c in settings.eccCurves if not c.startswith("brainpool")]
    for name, value in (settings_overrides or {}).items():
        setattr(settings, name, value)
    settings = settings.validate()

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        tls = TLSConnection(conn)
        try:
            tls.handshakeServer(certChain=chain, privateKey=key, settings=settings)
            conn.settimeout(2.0)
            if _tlslite_read(tls) and not stop.is_set():
                conn.settimeout(CONNECTION_TIMEOUT)
                tls.write(HTTP_RESPONSE)
        except TLSError:
            pass  # a refused or broken handshake is what tests provoke
        finally:
            with contextlib.suppress(OSError, TLSError):
                tls.close()

    with serve(handle, host) as address:
        yield TlsServer(host=address.host, port=address.port, versions=frozenset(versions), cert=files)


def _tlslite_read(tls: Any) -> bytes:
    """One read from a tlslite connection; b"" on timeout or close."""
    try:
        return bytes(tls.read(max=16384))
    except OSError:
        return b""


# --- openssl s_server -------------------------------------------------------------------------------------

_ACCEPT_LINE = re.compile(r"^ACCEPT\s+(?:\[[^\]]*\]|[^\s:]*):(\d+)\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class OpensslServer(TlsServer):
    """A running `openssl s_server`; `output()` returns what it printed so far (for failing tests)."""

    lines: list[str]

    def output(self) -> str:
        return "\n".join(self.lines)


@contextlib.contextmanager
def openssl_s_server(
    args: Sequence[str] = (),
    *,
    host: str = "127.0.0.1",
    cert: CertFiles | None = None,
    www: bool = False,
    send_intermediate: bool = True,
    versions: Collection[TlsVersion] = (),
) -> Iterator[OpensslServer]:
    """Run `openssl s_server` with extra `args` (e.g. `["-tls1_2"]`, `["-cipher", "..."]`).

    The port is chosen by s_server itself (`-accept host:0`) and read from its `ACCEPT` line, so there
    is no race with other test runs. `www=True` serves the `-www` status page. `versions` is only
    recorded in the result; say which versions to allow through `args`.
    """
    check_loopback(host)
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl not found: install the Debian package 'openssl' (make system-deps)")
    files = cert or make_cert()
    accept = f"[{host}]:0" if ":" in host else f"{host}:0"
    argv = [openssl, "s_server", "-accept", accept, "-cert", str(files.leaf), "-key", str(files.key)]
    if send_intermediate and files.intermediate is not None:
        argv += ["-cert_chain", str(files.intermediate)]
    if www:
        argv.append("-www")
    argv += list(args)
    lines: list[str] = []
    ports: queue.Queue[int | None] = queue.Queue()
    # stdin stays an open pipe: at end of input s_server (without -www) would shut down
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            match = _ACCEPT_LINE.match(line.strip())
            if match:
                ports.put(int(match.group(1)))
        ports.put(None)

    reader = threading.Thread(target=drain, daemon=True, name="openssl-s_server-output")
    reader.start()
    try:
        try:
            port = ports.get(timeout=START_TIMEOUT)
        except queue.Empty:
            port = None
        if port is None:
            raise RuntimeError(f"openssl s_server did not start: {argv}\n" + "\n".join(lines))
        yield OpensslServer(host=host, port=port, versions=frozenset(versions), cert=files, lines=lines)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        reader.join(5)


# --- by version set ---------------------------------------------------------------------------------------

_V = TlsVersion
VERSION_SETS: dict[str, frozenset[TlsVersion]] = {
    "tls12": frozenset({_V.TLSv1_2}),
    "tls13": frozenset({_V.TLSv1_3}),
    "tls12+13": frozenset({_V.TLSv1_2, _V.TLSv1_3}),
    "tls10": frozenset({_V.TLSv1_0}),
    "tls11": frozenset({_V.TLSv1_1}),
    "tls10+11": frozenset({_V.TLSv1_0, _V.TLSv1_1}),
    "tls10-13": frozenset({_V.TLSv1_0, _V.TLSv1_1, _V.TLSv1_2, _V.TLSv1_3}),
    "ssl3+tls10": frozenset({_V.SSLv3, _V.TLSv1_0}),
}
"""The server configurations the scanner's tests rely on, by short name."""


def tls_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> contextlib.AbstractContextManager[TlsServer]:
    """A server accepting exactly `versions`: tlslite-ng when SSLv3 is wanted, else Python `ssl`."""
    if TlsVersion.SSLv3 in versions:
        return tlslite_server(versions, host=host, cert=cert)
    return python_tls_server(versions, host=host, cert=cert)
