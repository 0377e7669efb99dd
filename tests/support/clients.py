"""Reference TLS clients for checking test servers: Python `ssl` (TLS 1.0..1.3) and tlslite-ng (SSLv3 too).

They pin one protocol version, so a success proves the server accepts exactly that version.
"""

from __future__ import annotations

import socket
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

from tlsaudit.models import TlsVersion

from .acceptor import ServerAddress

CLIENT_TIMEOUT = 5.0

_SSL_VERSIONS: dict[TlsVersion, ssl.TLSVersion] = {
    TlsVersion.TLSv1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLSv1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLSv1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLSv1_3: ssl.TLSVersion.TLSv1_3,
}
_SSL_NAMES: dict[str, TlsVersion] = {
    "TLSv1": TlsVersion.TLSv1_0,
    "TLSv1.1": TlsVersion.TLSv1_1,
    "TLSv1.2": TlsVersion.TLSv1_2,
    "TLSv1.3": TlsVersion.TLSv1_3,
}
_TLSLITE_VERSIONS: dict[TlsVersion, tuple[int, int]] = {
    TlsVersion.SSLv3: (3, 0),
    TlsVersion.TLSv1_0: (3, 1),
    TlsVersion.TLSv1_1: (3, 2),
    TlsVersion.TLSv1_2: (3, 3),
    TlsVersion.TLSv1_3: (3, 4),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Handshake:
    """What one pinned-version handshake gave: the negotiated version, or why it failed."""

    version: TlsVersion | None
    cipher: str | None = None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.version is not None


def python_handshake(
    address: ServerAddress,
    version: TlsVersion,
    *,
    ca: Path | None = None,
    server_name: str = "localhost",
    ciphers: str = "DEFAULT:@SECLEVEL=0",
    send_request: bool = False,
) -> Handshake:
    """Handshake with Python `ssl` allowing only `version`; verifies the chain against `ca` if given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.set_ciphers(ciphers)
        context.minimum_version = context.maximum_version = _SSL_VERSIONS[version]
    if ca is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.load_verify_locations(ca)
    try:
        with (
            socket.create_connection((address.host, address.port), timeout=CLIENT_TIMEOUT) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            negotiated = tls.version()
            cipher = tls.cipher()
            if send_request:
                tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
                tls.recv(1024)
    except (ssl.SSLError, OSError) as error:
        return Handshake(version=None, error=f"{type(error).__name__}: {error}")
    return Handshake(
        version=_SSL_NAMES[negotiated] if negotiated else None,
        cipher=cipher[0] if cipher else None,
    )


def tlslite_handshake(address: ServerAddress, version: TlsVersion) -> Handshake:
    """Handshake with tlslite-ng allowing only `version` (SSLv3..TLS 1.3); no certificate checks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # tlslite imports asyncore
        from tlslite.api import HandshakeSettings, TLSConnection
    from tlslite.errors import TLSError

    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = _TLSLITE_VERSIONS[version]
    settings.versions = [_TLSLITE_VERSIONS[version]]
    if version is TlsVersion.TLSv1_3:  # tlslite refuses TLS 1.3 alone while brainpool curves are enabled
        settings.eccCurves = [c for c in settings.eccCurves if not c.startswith("brainpool")]
    try:
        with socket.create_connection((address.host, address.port), timeout=CLIENT_TIMEOUT) as raw:
            tls = TLSConnection(raw)
            tls.handshakeClientCert(settings=settings)
            negotiated = tuple(tls.version)
            cipher = str(tls.getCipherName())
            tls.close()
    except (TLSError, OSError) as error:
        return Handshake(version=None, error=f"{type(error).__name__}: {error}")
    names = {value: key for key, value in _TLSLITE_VERSIONS.items()}
    return Handshake(version=names.get(negotiated), cipher=cipher)
