"""What conventional clients find against a server, version by version: the truth a scan is checked against.

SSLv2: a plain SSLv2 CLIENT-HELLO (built in `wire`) answered by a SERVER-HELLO. SSLv3: tlslite-ng.
TLS 1.0-1.3: Python `ssl` pinned to the version. Nothing here uses tlsaudit's own probes.
"""

from __future__ import annotations

import socket

from tlsaudit.models import TlsVersion

from .acceptor import ServerAddress
from .clients import CLIENT_TIMEOUT, Handshake, python_handshake, tlslite_handshake
from .wire import sslv2_client_hello

VERSION_KEYS: tuple[str, ...] = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
"""The six keys of `endpoints[].protocols`, oldest first."""


def sslv2_handshake(address: ServerAddress) -> Handshake:
    """Send an SSLv2 CLIENT-HELLO; accepted when an SSLv2 SERVER-HELLO (message type 4) comes back."""
    try:
        with socket.create_connection((address.host, address.port), timeout=CLIENT_TIMEOUT) as sock:
            sock.sendall(sslv2_client_hello())
            answer = b""
            while len(answer) < 3:
                chunk = sock.recv(3 - len(answer))
                if not chunk:
                    break
                answer += chunk
    except OSError as error:
        return Handshake(version=None, error=f"{type(error).__name__}: {error}")
    if len(answer) == 3 and answer[0] & 0x80 and answer[2] == 4:
        return Handshake(version=TlsVersion.SSLv2)
    return Handshake(version=None, error=f"no SSLv2 SERVER-HELLO: {answer.hex() or 'no answer'}")


def conventional_handshakes(address: ServerAddress) -> dict[str, Handshake]:
    """One pinned-version handshake per protocol key against `address`."""
    results = {"SSLv2": sslv2_handshake(address), "SSLv3": tlslite_handshake(address, TlsVersion.SSLv3)}
    for key, version in (
        ("TLSv1.0", TlsVersion.TLSv1_0),
        ("TLSv1.1", TlsVersion.TLSv1_1),
        ("TLSv1.2", TlsVersion.TLSv1_2),
        ("TLSv1.3", TlsVersion.TLSv1_3),
    ):
        results[key] = python_handshake(address, version)
    return results


def conventional_statuses(address: ServerAddress) -> dict[str, str]:
    """`accepted` or `rejected` per protocol key, as conventional clients find it against `address`."""
    return {
        key: "accepted" if hs.accepted else "rejected" for key, hs in conventional_handshakes(address).items()
    }
