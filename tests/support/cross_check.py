"""Independent clients that decide, version by version, whether a server accepts it: the truth a scan is
checked against.

- SSLv2, SSLv3: nassl's OpenSSL 1.0.2 client (`legacy_openssl.legacy_handshake`), pinned to the version.
- TLS 1.0..1.3: `openssl s_client -tls1 | -tls1_1 | -tls1_2 | -tls1_3 -cipher ALL:@SECLEVEL=0` (the local
  OpenSSL 3, which refuses TLS 1.0/1.1 at security level 1 and above and has no SSLv3/SSLv2).

Python `ssl` and tlslite-ng (`clients.py`) are the other opinions the tests may ask for.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping

from tlsaudit.models import ALL_VERSIONS, TlsVersion

from .acceptor import ServerAddress
from .clients import CLIENT_TIMEOUT, Handshake
from .legacy_openssl import legacy_handshake

S_CLIENT_FLAGS: dict[TlsVersion, str] = {
    TlsVersion.TLSv1_0: "-tls1",
    TlsVersion.TLSv1_1: "-tls1_1",
    TlsVersion.TLSv1_2: "-tls1_2",
    TlsVersion.TLSv1_3: "-tls1_3",
}
_S_CLIENT_NAMES: dict[str, TlsVersion] = {
    "TLSv1": TlsVersion.TLSv1_0,
    "TLSv1.1": TlsVersion.TLSv1_1,
    "TLSv1.2": TlsVersion.TLSv1_2,
    "TLSv1.3": TlsVersion.TLSv1_3,
}

Client = Callable[[ServerAddress, TlsVersion], Handshake]


def s_client_handshake(
    address: ServerAddress, version: TlsVersion, *, starttls: str | None = None, xmpphost: str = "localhost"
) -> Handshake:
    """`openssl s_client` pinned to `version` (TLS 1.0..1.3): accepted when it reports the negotiated
    protocol (`-brief` prints `Protocol version: ...` once the handshake completed).

    `starttls`: s_client's own STARTTLS dialect first (`-starttls smtp | imap | pop3 | ftp | ldap |
    postgres | xmpp`; XMPP names `xmpphost` in its stream header)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl not found: install the Debian package 'openssl' (make system-deps)")
    argv = [
        openssl,
        "s_client",
        "-brief",
        "-connect",
        address.target,
        S_CLIENT_FLAGS[version],
        "-cipher",
        "ALL:@SECLEVEL=0",
    ]
    if starttls is not None:
        argv += ["-starttls", starttls]
        if starttls == "xmpp":
            argv += ["-xmpphost", xmpphost]
    try:
        done = subprocess.run(argv, input=b"", capture_output=True, timeout=CLIENT_TIMEOUT * 2, check=False)
    except subprocess.TimeoutExpired:
        return Handshake(version=None, error="openssl s_client timed out")
    output = (done.stdout + done.stderr).decode(errors="replace")
    for line in output.splitlines():
        if line.startswith("Protocol version:"):
            name = line.split(":", 1)[1].strip()
            return Handshake(
                version=_S_CLIENT_NAMES.get(name), error=None if name in _S_CLIENT_NAMES else name
            )
    last = [line for line in output.splitlines() if line.strip()][-3:]
    return Handshake(version=None, error=" | ".join(last) or f"exit {done.returncode}")


REFERENCE_CLIENTS: dict[TlsVersion, tuple[str, Client]] = {
    TlsVersion.SSLv2: ("nassl OpenSSL 1.0.2 (SSLv2_method)", legacy_handshake),
    TlsVersion.SSLv3: ("nassl OpenSSL 1.0.2 (SSLv3_method)", legacy_handshake),
    TlsVersion.TLSv1_0: ("openssl s_client -tls1", s_client_handshake),
    TlsVersion.TLSv1_1: ("openssl s_client -tls1_1", s_client_handshake),
    TlsVersion.TLSv1_2: ("openssl s_client -tls1_2", s_client_handshake),
    TlsVersion.TLSv1_3: ("openssl s_client -tls1_3", s_client_handshake),
}
"""For each version, the independent client whose handshake decides whether a server accepts it."""


def measure(address: ServerAddress) -> dict[TlsVersion, Handshake]:
    """Each of the six versions, tried by its reference client; accepted only when the client finished
    a handshake at exactly that version."""
    results: dict[TlsVersion, Handshake] = {}
    for version in ALL_VERSIONS:
        _, client = REFERENCE_CLIENTS[version]
        handshake = client(address, version)
        if handshake.accepted and handshake.version is not version:
            handshake = Handshake(version=None, error=f"negotiated {handshake.version} instead")
        results[version] = handshake
    return results


def accepted_versions(results: Mapping[TlsVersion, Handshake]) -> frozenset[TlsVersion]:
    return frozenset(v for v, h in results.items() if h.accepted)
