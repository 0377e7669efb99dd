"""End to end against real `openssl s_server`s presenting oversized but valid certificate material: a chain
of 200 certificates, and a leaf with 10,000 subjectAltNames. Each is analysed within 10 s and the endpoint
keeps its `certificate` object (the leaf's, by fingerprint, computed here from the served file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.big_certs import long_chain_cert, many_sans_cert
from tests.support.certs import CertFiles
from tests.support.clients import python_handshake
from tests.support.scan_cli import scan_cli
from tests.support.servers import openssl_s_server
from tests.support.wire import pem_file_to_ders
from tlsaudit.models import TlsVersion

pytestmark = pytest.mark.slow

ANALYSIS_LIMIT = 10.0
"""Seconds the whole scan (command start to report) may take."""

CERTIFICATES: dict[str, Callable[[Path], CertFiles]] = {
    "chain-of-200-certificates": lambda d: long_chain_cert(d, length=200),
    "leaf-with-10000-sans": lambda d: many_sans_cert(d, count=10_000),
}


@pytest.mark.parametrize("name", sorted(CERTIFICATES))
def test_oversized_certificate_material_is_analysed_in_10_s(name: str, tmp_path: Path) -> None:
    files = CERTIFICATES[name](tmp_path)
    leaf_fingerprint = hashlib.sha256(pem_file_to_ders(files.leaf)[0]).hexdigest()
    with openssl_s_server(["-tls1_2"], cert=files) as server:
        conventional = python_handshake(server, TlsVersion.TLSv1_2)
        run = scan_cli(server.target, "--ca-file", str(files.ca))
    assert conventional.accepted, conventional
    assert run.protocols["TLSv1.2"]["status"] == "accepted", run.describe()
    assert run.elapsed < ANALYSIS_LIMIT, run.describe()
    certificate = run.endpoint.get("certificate")
    assert certificate, f"no certificate object\n{run.describe()}"
    assert certificate.get("sha256_fingerprint") == leaf_fingerprint, run.describe()
