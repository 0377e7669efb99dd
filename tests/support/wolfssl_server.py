"""A wolfSSL TLS server on loopback: lighttpd with mod_wolfssl (Debian lighttpd-mod-wolfssl).

Debian 12's wolfSSL (libwolfssl35, 5.5.x) speaks TLS 1.1..1.3 (no TLS 1.0, no SSLv3); the range is set with
`ssl.openssl.ssl-conf-cmd` MinProtocol/MaxProtocol, and the cipher string is wolfSSL's `ALL` so that
TLS 1.1 finds a suite. lighttpd itself is run by `lighttpd.lighttpd_tls_server`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection

from tlsaudit.models import TlsVersion

from .certs import CertFiles
from .lighttpd import LighttpdServer, lighttpd_ranged_server

_WOLFSSL_NAMES: dict[TlsVersion, str] = {
    TlsVersion.TLSv1_1: "TLSv1.1",
    TlsVersion.TLSv1_2: "TLSv1.2",
    TlsVersion.TLSv1_3: "TLSv1.3",
}


def wolfssl_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> contextlib.AbstractContextManager[LighttpdServer]:
    """lighttpd + mod_wolfssl accepting the contiguous range `versions` (TLS 1.1..1.3)."""
    return lighttpd_ranged_server(
        module="mod_wolfssl",
        package="lighttpd-mod-wolfssl",
        library="Debian's wolfSSL",
        names=_WOLFSSL_NAMES,
        cipher_string="ALL",
        versions=versions,
        host=host,
        cert=cert,
    )
