"""A wolfSSL TLS server on loopback: lighttpd with mod_wolfssl (Debian lighttpd-mod-wolfssl).

Debian 12's wolfSSL (libwolfssl35, 5.5.x) speaks TLS 1.1..1.3 (no TLS 1.0, no SSLv3); the range is set with
`ssl.openssl.ssl-conf-cmd` MinProtocol/MaxProtocol, and the cipher string is wolfSSL's `ALL` so that
TLS 1.1 finds a suite. lighttpd itself is run by `lighttpd.lighttpd_tls_server`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator

from tlsaudit.models import TlsVersion

from .certs import CertFiles
from .lighttpd import LighttpdServer, contiguous_range, lighttpd_tls_server

_WOLFSSL_NAMES: dict[TlsVersion, str] = {
    TlsVersion.TLSv1_1: "TLSv1.1",
    TlsVersion.TLSv1_2: "TLSv1.2",
    TlsVersion.TLSv1_3: "TLSv1.3",
}


@contextlib.contextmanager
def wolfssl_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> Iterator[LighttpdServer]:
    """lighttpd + mod_wolfssl accepting the contiguous range `versions` (TLS 1.1..1.3)."""
    wanted = contiguous_range(versions, list(_WOLFSSL_NAMES), "Debian's wolfSSL")
    ssl_conf = {
        "MinProtocol": _WOLFSSL_NAMES[wanted[0]],
        "MaxProtocol": _WOLFSSL_NAMES[wanted[-1]],
        "CipherString": "ALL",
    }
    with lighttpd_tls_server(
        module="mod_wolfssl",
        package="lighttpd-mod-wolfssl",
        versions=wanted,
        ssl_conf=ssl_conf,
        host=host,
        cert=cert,
    ) as server:
        yield server
