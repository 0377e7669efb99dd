"""Reading TLS library names and versions out of the strings runtimes print."""

from __future__ import annotations

import re

# Backend tokens as libcurl prints them (`OpenSSL/3.0.19`, `NSS/3.19.1 Basic ECC`, `Schannel`, ...).
KNOWN_BACKENDS: dict[str, str] = {
    "openssl": "OpenSSL",
    "libressl": "LibreSSL",
    "boringssl": "BoringSSL",
    "quictls": "OpenSSL",
    "aws-lc": "AWS-LC",
    "gnutls": "GnuTLS",
    "nss": "NSS",
    "schannel": "Schannel",
    "winssl": "Schannel",
    "securetransport": "SecureTransport",
    "darwinssl": "SecureTransport",
    "wolfssl": "wolfSSL",
    "cyassl": "wolfSSL",
    "mbedtls": "mbedTLS",
    "polarssl": "mbedTLS",
    "rustls-ffi": "rustls",
    "rustls": "rustls",
    "bearssl": "BearSSL",
    "axtls": "axTLS",
    "gskit": "GSKit",
}


def split_backend(token: str) -> tuple[str | None, str | None]:
    """`OpenSSL/3.0.19` -> ("OpenSSL", "3.0.19"); `NSS/3.19.1 Basic ECC` -> ("NSS", "3.19.1 Basic ECC");
    `Schannel` -> ("Schannel", None); an unrecognised name is returned as printed."""
    token = token.strip().strip("()")
    if not token:
        return None, None
    name, _, version = token.partition("/")
    canonical = KNOWN_BACKENDS.get(name.strip().lower(), name.strip())
    return canonical, version.strip() or None


def openssl_banner(text: str) -> tuple[str | None, str | None]:
    """`OpenSSL 1.0.2k-fips  26 Jan 2017` -> ("OpenSSL", "1.0.2k-fips"); `LibreSSL 2.8.3` likewise."""
    m = re.search(r"\b(OpenSSL|LibreSSL|BoringSSL|AWS-LC)\s+(\d[\w.\-]*)", text)
    if m is None:
        return None, None
    return m.group(1), m.group(2)
