"""OpenSSL 1.0.2 from the `nassl` wheel (`nassl._nassl_legacy`): a server for SSLv2/SSLv3 and a client.

The wheel links OpenSSL 1.0.2e statically into `_nassl_legacy` and wraps only the client side in Python
(`SSL.set_connect_state`), but its generic methods (SSLv23/SSLv2/SSLv3_method) serve too, and the
extension keeps its full symbol table. The server here takes `SSL_set_accept_state` and `SSL_ctrl`
from that table (pyelftools reads it; the load address comes from the exported `PyInit__nassl_legacy`)
and calls them with ctypes on the `SSL *` that follows the object header of a nassl `SSL` object
(nassl_SSL.h: `PyObject_HEAD; SSL *ssl; ...`). Everything else goes through nassl's own API: the
certificate and key, the cipher list, a BIO pair pumped to our loopback socket.

A wrong layout is caught before use: the state string must change from connect to accept.
"""

from __future__ import annotations

import contextlib
import ctypes
import socket
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from tlsaudit.models import TlsVersion

from .acceptor import ServerAddress, serve
from .certs import CertFiles, make_cert
from .clients import CLIENT_TIMEOUT, Handshake
from .tls_servers import TlsServer

CIPHERS = "ALL:COMPLEMENTOFALL"
"""Every suite OpenSSL 1.0.2 has, SSLv2 and EXPORT ones included: the server must not refuse for want
of a suite, only for the version."""

# ssl.h of OpenSSL 1.0.2
_SSL_CTRL_OPTIONS = 32
_SSL_CTRL_CLEAR_OPTIONS = 77
_NO_FLAGS: dict[TlsVersion, int] = {
    TlsVersion.SSLv2: 0x01000000,
    TlsVersion.SSLv3: 0x02000000,
    TlsVersion.TLSv1_0: 0x04000000,
    TlsVersion.TLSv1_1: 0x10000000,
    TlsVersion.TLSv1_2: 0x08000000,
}
_BUFFER = 16384


class LegacyOpensslMissing(RuntimeError):
    """nassl's OpenSSL 1.0.2 cannot be driven as a server here; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Functions:
    set_accept_state: Callable[[int], None]
    ssl_ctrl: Callable[[int, int, int, int | None], int]


def _legacy_module() -> Any:
    try:
        from nassl import _nassl_legacy
    except ImportError as error:
        raise LegacyOpensslMissing("nassl is not installed: `make venv` installs the test extras") from error
    return _nassl_legacy


@cache
def _functions() -> _Functions:
    from elftools.elf.elffile import ELFFile

    module = _legacy_module()
    path = str(module.__file__)
    wanted = {"PyInit__nassl_legacy", "SSL_set_accept_state", "SSL_ctrl"}
    with open(path, "rb") as handle:
        symbols = ELFFile(handle).get_section_by_name(".symtab")
        if symbols is None:
            raise LegacyOpensslMissing(
                f"{path} has no symbol table (stripped): cannot reach SSL_set_accept_state"
            )
        found = {s.name: int(s["st_value"]) for s in symbols.iter_symbols() if s.name in wanted}  # type: ignore[attr-defined]
    if set(found) != wanted:
        raise LegacyOpensslMissing(f"{path} lacks {sorted(wanted - set(found))}")
    library = ctypes.CDLL(path)
    exported = ctypes.cast(library.PyInit__nassl_legacy, ctypes.c_void_p).value
    if exported is None:
        raise LegacyOpensslMissing(f"{path}: PyInit__nassl_legacy has no address")
    base = exported - found["PyInit__nassl_legacy"]
    set_accept_state = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(base + found["SSL_set_accept_state"])
    ssl_ctrl = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p)(
        base + found["SSL_ctrl"]
    )
    return _Functions(set_accept_state=set_accept_state, ssl_ctrl=ssl_ctrl)


def _ssl_pointer(ssl: Any) -> int:
    """The `SSL *` of a nassl `SSL` object: the first field after the object header."""
    pointer = ctypes.c_void_p.from_address(id(ssl) + object.__basicsize__).value
    if not pointer:
        raise LegacyOpensslMissing("a nassl SSL object holds no SSL pointer")
    return pointer


def _method(versions: frozenset[TlsVersion]) -> int:
    from nassl.ssl_client import OpenSslVersionEnum

    if versions == {TlsVersion.SSLv2}:
        return int(OpenSslVersionEnum.SSLV2)  # SSLv2_method: an SSLv2-only server, deaf to TLS hellos
    if versions == {TlsVersion.SSLv3}:
        return int(OpenSslVersionEnum.SSLV3)  # SSLv3_method: answers TLS hellos with an SSLv3 ServerHello
    return int(OpenSslVersionEnum.SSLV23)


def _server_ssl(context: Any, versions: frozenset[TlsVersion]) -> Any:
    """A nassl SSL object in accept state allowing exactly `versions` (for the SSLv23 method)."""
    module = _legacy_module()
    functions = _functions()
    ssl = module.SSL(context)
    pointer = _ssl_pointer(ssl)
    functions.set_accept_state(pointer)
    state = str(ssl.state_string_long())
    if "accept" not in state:
        raise LegacyOpensslMissing(f"SSL_set_accept_state did not take (state {state!r})")
    if TlsVersion.SSLv2 in versions:
        functions.ssl_ctrl(pointer, _SSL_CTRL_CLEAR_OPTIONS, _NO_FLAGS[TlsVersion.SSLv2], None)
    off = 0
    for version, flag in _NO_FLAGS.items():
        if version not in versions:
            off |= flag
    if off:
        ssl.set_options(off)
    options = functions.ssl_ctrl(pointer, _SSL_CTRL_OPTIONS, 0, None)
    for version, flag in _NO_FLAGS.items():
        if bool(options & flag) == (version in versions):
            raise LegacyOpensslMissing(f"OpenSSL 1.0.2 options {options:#x} do not give {sorted(versions)}")
    ssl.set_cipher_list(CIPHERS)
    return ssl


def _flush(network: Any, conn: socket.socket) -> None:
    pending = int(network.pending())
    if pending:
        conn.sendall(network.read(pending))


def _handshake(ssl: Any, network: Any, conn: socket.socket, stop: threading.Event, internal: Any) -> bool:
    """Pump the handshake between the BIO pair and `conn`; True when it completed."""
    from nassl._nassl import OpenSSLError, WantReadError

    unread = 0
    while not stop.is_set():
        try:
            ssl.do_handshake()
        except WantReadError:
            _flush(network, conn)
            before, unread = unread, int(internal.pending())
            if unread and unread != before:
                continue  # records OpenSSL has not read yet (it stops after a heartbeat, say): go on
            data = conn.recv(_BUFFER)
            if not data:
                return False
            network.write(data)
        except OpenSSLError:
            _flush(network, conn)  # the alert, if OpenSSL wrote one
            return False
        else:
            _flush(network, conn)
            return True
    return False


@contextlib.contextmanager
def legacy_openssl_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> Iterator[TlsServer]:
    """An OpenSSL 1.0.2e server (nassl) accepting exactly `versions` of SSLv2..TLS 1.2.

    `{SSLv2}` and `{SSLv3}` use the version-specific methods, like servers built for one protocol;
    other sets use the SSLv23 method with SSL_OP_NO_* for the rest. The certificate must have an RSA
    key when SSLv2 is wanted (SSLv2 only knows RSA key exchange); the default one does.
    """
    wanted = frozenset(versions)
    if not wanted or wanted - set(_NO_FLAGS):
        raise ValueError(f"OpenSSL 1.0.2 serves SSLv2..TLS 1.2, not {sorted(versions)}")
    module = _legacy_module()
    files = cert or make_cert()
    context = module.SSL_CTX(_method(wanted))
    # SSLv2 sends one certificate: OpenSSL 1.0.2's SSLv2_method context refuses a chain file.
    context.use_certificate_chain_file(str(files.leaf if wanted == {TlsVersion.SSLv2} else files.chain))
    context.use_PrivateKey_file(str(files.key), 1)  # SSL_FILETYPE_PEM
    _server_ssl(context, wanted)  # fail at start, not in a connection thread, when this cannot work

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        ssl = _server_ssl(context, wanted)
        internal, network = module.BIO(), module.BIO()
        module.BIO.make_bio_pair(internal, network)
        ssl.set_bio(internal)
        ssl.set_network_bio_to_free_when_dealloc(network)
        if _handshake(ssl, network, conn, stop, internal) and not stop.is_set():
            with contextlib.suppress(Exception):
                ssl.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
                _flush(network, conn)

    with serve(handle, host) as address:
        yield TlsServer(host=address.host, port=address.port, versions=wanted, cert=files)


# --- client -----------------------------------------------------------------------------------------------


def legacy_handshake(address: ServerAddress, version: TlsVersion) -> Handshake:
    """Handshake with nassl's OpenSSL 1.0.2 client pinned to `version` (SSLv2..TLS 1.2), no checks."""
    from nassl._nassl import OpenSSLError
    from nassl.legacy_ssl_client import LegacySslClient
    from nassl.ssl_client import OpenSslVerifyEnum, OpenSslVersionEnum

    methods = {
        TlsVersion.SSLv2: OpenSslVersionEnum.SSLV2,
        TlsVersion.SSLv3: OpenSslVersionEnum.SSLV3,
        TlsVersion.TLSv1_0: OpenSslVersionEnum.TLSV1,
        TlsVersion.TLSv1_1: OpenSslVersionEnum.TLSV1_1,
        TlsVersion.TLSv1_2: OpenSslVersionEnum.TLSV1_2,
    }
    if version not in methods:
        raise ValueError(f"OpenSSL 1.0.2 has no {version}")
    try:
        with socket.create_connection((address.host, address.port), timeout=CLIENT_TIMEOUT) as raw:
            client = LegacySslClient(raw, ssl_version=methods[version], ssl_verify=OpenSslVerifyEnum.NONE)
            if version is not TlsVersion.SSLv2:
                client.set_cipher_list(CIPHERS)
            client.do_handshake()
            cipher = client.get_current_cipher_name()
    except (OpenSSLError, OSError) as error:
        return Handshake(version=None, error=f"{type(error).__name__}: {error}")
    return Handshake(version=version, cipher=cipher)
