"""A GnuTLS server on loopback, driven through libgnutls with ctypes, configured by a priority string.

Why not `gnutls-serv`: it has no option for the listening address and binds every interface
(0.0.0.0 and ::), while test servers listen on loopback only. This module runs the same library
(Debian's libgnutls30, which gnutls-serv uses) server-side on a socket of our own loopback listener:
`gnutls_init(GNUTLS_SERVER)`, `gnutls_priority_set_direct(priority)`, one handshake per connection.
"""

from __future__ import annotations

import contextlib
import ctypes
import socket
import struct
import threading
from collections.abc import Collection, Iterator
from functools import cache

from tlsaudit.models import TlsVersion

from .acceptor import CONNECTION_TIMEOUT, ActiveHandlers, serve
from .certs import CertFiles, make_cert
from .tls_servers import HTTP_RESPONSE, TlsServer

LIBRARY = "libgnutls.so.30"
_SERVER = 1  # GNUTLS_SERVER
_X509_FMT_PEM = 1  # GNUTLS_X509_FMT_PEM
_CRD_CERTIFICATE = 1  # GNUTLS_CRD_CERTIFICATE
_SHUT_WR = 1  # GNUTLS_SHUT_WR
_INDEFINITE_TIMEOUT = 0xFFFFFFFF

_PRIORITY_NAMES: dict[TlsVersion, str] = {
    TlsVersion.SSLv3: "VERS-SSL3.0",
    TlsVersion.TLSv1_0: "VERS-TLS1.0",
    TlsVersion.TLSv1_1: "VERS-TLS1.1",
    TlsVersion.TLSv1_2: "VERS-TLS1.2",
    TlsVersion.TLSv1_3: "VERS-TLS1.3",
}

_Pointer = ctypes.c_void_p


def gnutls_priority(versions: Collection[TlsVersion], base: str = "NORMAL") -> str:
    """`NORMAL:-VERS-ALL:+VERS-TLS1.2...`: GnuTLS' defaults with exactly `versions` enabled."""
    if not versions or set(versions) - set(_PRIORITY_NAMES):
        raise ValueError(f"GnuTLS priority strings name SSLv3..TLS 1.3, not {sorted(versions)}")
    enabled = "".join(f":+{_PRIORITY_NAMES[v]}" for v in sorted(versions, key=list(_PRIORITY_NAMES).index))
    return f"{base}:-VERS-ALL{enabled}"


class GnutlsError(RuntimeError):
    """A GnuTLS call failed while setting up the server."""


@cache
def _library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(LIBRARY)
    except OSError as error:
        raise FileNotFoundError(
            f"{LIBRARY} not found: install the Debian package 'libgnutls30' (make system-deps)"
        ) from error
    signatures: dict[str, tuple[list[type], type | None]] = {
        "gnutls_check_version": ([ctypes.c_char_p], ctypes.c_char_p),
        "gnutls_strerror": ([ctypes.c_int], ctypes.c_char_p),
        "gnutls_certificate_allocate_credentials": ([ctypes.POINTER(_Pointer)], ctypes.c_int),
        "gnutls_certificate_free_credentials": ([_Pointer], None),
        "gnutls_certificate_set_x509_key_file": (
            [_Pointer, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int],
            ctypes.c_int,
        ),
        "gnutls_priority_init": (
            [ctypes.POINTER(_Pointer), ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)],
            ctypes.c_int,
        ),
        "gnutls_priority_deinit": ([_Pointer], None),
        "gnutls_init": ([ctypes.POINTER(_Pointer), ctypes.c_uint], ctypes.c_int),
        "gnutls_deinit": ([_Pointer], None),
        "gnutls_priority_set": ([_Pointer, _Pointer], ctypes.c_int),
        "gnutls_credentials_set": ([_Pointer, ctypes.c_int, _Pointer], ctypes.c_int),
        "gnutls_transport_set_int2": ([_Pointer, ctypes.c_int, ctypes.c_int], None),
        "gnutls_handshake_set_timeout": ([_Pointer, ctypes.c_uint], None),
        "gnutls_handshake": ([_Pointer], ctypes.c_int),
        "gnutls_error_is_fatal": ([ctypes.c_int], ctypes.c_int),
        "gnutls_record_send": ([_Pointer, ctypes.c_char_p, ctypes.c_size_t], ctypes.c_ssize_t),
        "gnutls_bye": ([_Pointer, ctypes.c_int], ctypes.c_int),
        "gnutls_alert_send_appropriate": ([_Pointer, ctypes.c_int], ctypes.c_int),
    }
    for name, (argtypes, restype) in signatures.items():
        function = getattr(lib, name)
        function.argtypes = argtypes
        function.restype = restype
    return lib


def gnutls_version() -> str:
    """The version of the libgnutls this module drives, e.g. "3.7.9"."""
    value = _library().gnutls_check_version(None)
    return value.decode() if isinstance(value, bytes) else "unknown"


def _check(result: int, what: str) -> None:
    if result < 0:
        message = _library().gnutls_strerror(result)
        raise GnutlsError(f"{what}: {message.decode() if isinstance(message, bytes) else result}")


def _set_blocking_timeouts(conn: socket.socket, seconds: float) -> None:
    """A blocking descriptor with kernel timeouts: GnuTLS reads and writes the descriptor itself."""
    conn.setblocking(True)
    timeval = struct.pack("ll", int(seconds), int((seconds % 1) * 1_000_000))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


@contextlib.contextmanager
def gnutls_server(
    priority: str,
    versions: Collection[TlsVersion],
    *,
    host: str = "127.0.0.1",
    cert: CertFiles | None = None,
) -> Iterator[TlsServer]:
    """A GnuTLS server with `priority` (e.g. `gnutls_priority(versions)`); `versions` is recorded only."""
    lib = _library()
    files = cert or make_cert()
    credentials = _Pointer()
    _check(lib.gnutls_certificate_allocate_credentials(ctypes.byref(credentials)), "credentials")
    priorities = _Pointer()
    active = ActiveHandlers()
    try:
        _check(
            lib.gnutls_certificate_set_x509_key_file(
                credentials, str(files.chain).encode(), str(files.key).encode(), _X509_FMT_PEM
            ),
            "certificate",
        )
        error_at = ctypes.c_char_p()
        _check(
            lib.gnutls_priority_init(ctypes.byref(priorities), priority.encode(), ctypes.byref(error_at)),
            f"priority string {priority!r} (at {error_at.value!r})",
        )

        def handle(conn: socket.socket, stop: threading.Event) -> None:
            _set_blocking_timeouts(conn, CONNECTION_TIMEOUT)
            session = _Pointer()
            _check(lib.gnutls_init(ctypes.byref(session), _SERVER), "session")
            active.enter()
            try:
                _check(lib.gnutls_priority_set(session, priorities), "priority")
                _check(lib.gnutls_credentials_set(session, _CRD_CERTIFICATE, credentials), "credentials")
                lib.gnutls_transport_set_int2(session, conn.fileno(), conn.fileno())
                lib.gnutls_handshake_set_timeout(session, int(CONNECTION_TIMEOUT * 1000))
                result = lib.gnutls_handshake(session)
                while result < 0 and not lib.gnutls_error_is_fatal(result) and not stop.is_set():
                    result = lib.gnutls_handshake(session)
                if result < 0:
                    # what gnutls-serv does too: tell the client why, with the alert GnuTLS maps the error to
                    lib.gnutls_alert_send_appropriate(session, result)
                elif not stop.is_set():
                    lib.gnutls_record_send(session, HTTP_RESPONSE, len(HTTP_RESPONSE))
                    lib.gnutls_bye(session, _SHUT_WR)
            finally:
                lib.gnutls_deinit(session)
                active.leave()

        with serve(handle, host) as address:
            yield TlsServer(host=address.host, port=address.port, versions=frozenset(versions), cert=files)
    finally:
        # A handler still inside GnuTLS after the listener's grace period keeps the credentials:
        # freeing them under it would crash the test process; leaking them does not.
        if not active.busy():
            if priorities:
                lib.gnutls_priority_deinit(priorities)
            lib.gnutls_certificate_free_credentials(credentials)
