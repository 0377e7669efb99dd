"""An Mbed TLS server on loopback: lighttpd with mod_mbedtls (Debian lighttpd-mod-mbedtls).

Debian 12's Mbed TLS (libmbedtls14, 2.28.x) speaks TLS 1.0..1.2: it is built with TLS 1.0 and 1.1, without
SSLv3 and without the experimental TLS 1.3. mod_mbedtls reads the range from `ssl.openssl.ssl-conf-cmd`
MinProtocol/MaxProtocol. Its own default cipher list is AEAD-only TLS 1.2 suites, so the cipher string is
`DEFAULT`, which mod_mbedtls maps to Mbed TLS's default list without RC4, NULL and weak suites: that keeps
the CBC-SHA suites TLS 1.0 and 1.1 need. lighttpd itself is run by `lighttpd.lighttpd_tls_server`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection

from tlsaudit.models import TlsVersion

from .certs import CertFiles
from .lighttpd import LighttpdServer, lighttpd_ranged_server

_MBEDTLS_NAMES: dict[TlsVersion, str] = {
    TlsVersion.TLSv1_0: "TLSv1.0",
    TlsVersion.TLSv1_1: "TLSv1.1",
    TlsVersion.TLSv1_2: "TLSv1.2",
}


def mbedtls_server(
    versions: Collection[TlsVersion], *, host: str = "127.0.0.1", cert: CertFiles | None = None
) -> contextlib.AbstractContextManager[LighttpdServer]:
    """lighttpd + mod_mbedtls accepting the contiguous range `versions` (TLS 1.0..1.2)."""
    return lighttpd_ranged_server(
        module="mod_mbedtls",
        package="lighttpd-mod-mbedtls",
        library="Debian's Mbed TLS 2.28",
        names=_MBEDTLS_NAMES,
        cipher_string="DEFAULT",
        versions=versions,
        host=host,
        cert=cert,
    )
