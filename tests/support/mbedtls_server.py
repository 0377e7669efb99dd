"""An Mbed TLS server on loopback: lighttpd with mod_mbedtls (Debian lighttpd-mod-mbedtls).

Debian 12's Mbed TLS (libmbedtls14, 2.28.x) speaks TLS 1.0..1.2: it is built with TLS 1.0 and 1.1, without
SSLv3 and without the experimental TLS 1.3. mod_mbedtls reads the range from `ssl.openssl.ssl-conf-cmd`
MinProtocol/MaxProtocol. Its own default cipher list is AEAD-only TLS 1.2 suites, so the cipher string is
`DEFAULT`, which mod_mbedtls maps to Mbed TLS's default list without RC4, NULL and weak suites: that keeps
the CBC-SHA suites TLS 1.0 and 1.1 need. lighttpd itself is run by `lighttpd.lighttpd_tls_server`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator

from tlsaudit.models import TlsVersion

from .certs import CertFiles
from .lighttpd import LighttpdServer, contiguous_range, lighttpd_tls_server

_MBEDTLS_NAMES: dict[TlsVersion, str] = {
    TlsVersion.TLSv1_0: "TLSv1.0",
    TlsVersion.TLSv1_1: "TLSv1.1",
    TlsVersion.TLSv1_2: "TLSv1.2",
}


@contextlib.contextmanager
def mbedtls_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> Iterator[LighttpdServer]:
    """lighttpd + mod_mbedtls accepting the contiguous range `versions` (TLS 1.0..1.2)."""
    wanted = contiguous_range(versions, list(_MBEDTLS_NAMES), "Debian's Mbed TLS 2.28")
    ssl_conf = {
        "MinProtocol": _MBEDTLS_NAMES[wanted[0]],
        "MaxProtocol": _MBEDTLS_NAMES[wanted[-1]],
        "CipherString": "DEFAULT",
    }
    with lighttpd_tls_server(
        module="mod_mbedtls",
        package="lighttpd-mod-mbedtls",
        versions=wanted,
        ssl_conf=ssl_conf,
        host=host,
        cert=cert,
    ) as server:
        yield server
