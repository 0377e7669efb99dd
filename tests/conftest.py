"""Shared fixtures: certificates and real loopback servers that are always stopped after the test.

def test_something(servers: ExitStack) -> None:
    server = servers.enter_context(python_tls_server({TlsVersion.TLSv1_2}))
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest

from tests.support.certs import CertFiles, make_cert
from tests.support.servers import LOOPBACK_HOSTS


def _ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


IPV6_LOOPBACK = _ipv6_loopback_works()


@pytest.fixture
def servers() -> Iterator[contextlib.ExitStack]:
    """An ExitStack for starting any number of test servers; all are stopped when the test ends."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def cert_files() -> CertFiles:
    """The default certificate: RSA-2048 localhost leaf, signed by the test intermediate CA."""
    return make_cert()


@pytest.fixture(params=LOOPBACK_HOSTS, ids=["ipv4", "ipv6"])
def loopback_host(request: pytest.FixtureRequest) -> str:
    """Each loopback address in turn: 127.0.0.1, then ::1 (skipped where the kernel has no IPv6)."""
    host = str(request.param)
    if ":" in host and not IPV6_LOOPBACK:
        pytest.fail("IPv6 loopback ::1 is not available on this machine (no IPv6 in the kernel)")
    return host
