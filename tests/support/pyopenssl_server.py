"""A TLS server on pyOpenSSL, whose `cryptography` wheel bundles OpenSSL 4.0: a real post-quantum capable
stack (its default groups put X25519MLKEM768 first), independent of Debian's OpenSSL 3.0.

`groups` restricts it (e.g. `"P-256"` through `set_tmp_ecdh`, the classical-only negative case).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

from cryptography.hazmat.backends.openssl.backend import backend
from cryptography.hazmat.primitives.asymmetric import ec
from OpenSSL import SSL

from .acceptor import ServerAddress, serve
from .certs import CertFiles, make_cert


def bundled_openssl() -> str:
    return str(backend.openssl_version_text())


def has_mlkem() -> bool:
    """The bundled OpenSSL negotiates X25519MLKEM768 (OpenSSL 3.5 or later)."""
    text = bundled_openssl().split()
    major_minor = tuple(int(x) for x in text[1].split(".")[:2]) if len(text) > 1 else (0, 0)
    return major_minor >= (3, 5)


@contextlib.contextmanager
def pyopenssl_server(
    *, host: str = "127.0.0.1", classical_curve: ec.EllipticCurve | None = None, cert: CertFiles | None = None
) -> Iterator[ServerAddress]:
    files = cert or make_cert()
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.use_certificate_chain_file(str(files.leaf))
    ctx.use_privatekey_file(str(files.key))
    ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
    if classical_curve is not None:
        ctx.set_tmp_ecdh(classical_curve)

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.settimeout(None)  # pyOpenSSL needs a blocking socket; the acceptor shuts it down at the end
        tls = SSL.Connection(ctx, conn)
        tls.set_accept_state()
        with contextlib.suppress(SSL.Error, OSError):
            tls.do_handshake()
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
            tls.shutdown()

    with serve(handle, host) as address:
        yield address
