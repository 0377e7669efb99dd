"""A tlslite-ng server restricted to given cipher suites: the only local server with RC4 and 3DES."""

from __future__ import annotations

import contextlib
import socket
import threading
import warnings
from collections.abc import Iterator

from tests.support.acceptor import CONNECTION_TIMEOUT, ServerAddress, serve
from tests.support.certs import make_cert
from tlsaudit.models import TlsVersion


@contextlib.contextmanager
def tlslite_suite_server(cipher_names: list[str], version: TlsVersion) -> Iterator[ServerAddress]:
    """A tlslite-ng server restricted to `cipher_names` (its names: "3des", "rc4", "aes128", ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from tlslite.api import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey
    from tlslite.errors import TLSError

    files = make_cert()
    chain = X509CertChain()
    chain.parsePemList(files.chain.read_text())
    key = parsePEMKey(files.key.read_text(), private=True)
    settings = HandshakeSettings()
    settings.cipherNames = cipher_names
    code = {TlsVersion.TLSv1_0: (3, 1), TlsVersion.TLSv1_2: (3, 3)}[version]
    settings.minVersion = code
    settings.maxVersion = code
    settings.versions = [code]
    settings = settings.validate()

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.settimeout(CONNECTION_TIMEOUT)
        tls = TLSConnection(conn)
        try:
            tls.handshakeServer(certChain=chain, privateKey=key, settings=settings)
        except (TLSError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError, TLSError):
                tls.close()

    with serve(handle) as address:
        yield address
