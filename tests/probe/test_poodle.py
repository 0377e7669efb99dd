"""POODLE is derived from what the scan saw: SSLv3 accepted with a CBC suite (a real SSLv3 server)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.clients import tlslite_handshake
from tests.support.tls_servers import tls_server
from tlsaudit.models import TlsVersion


def _scan(port: int) -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tlsaudit",
            "scan",
            f"127.0.0.1:{port}",
            "--ciphers",
            "--no-hsts",
            "--format",
            "json",
            "-o",
            "-",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report: dict[str, object] = json.loads(done.stdout)
    return report


def _poodle(report: dict[str, object]) -> str:
    findings = report["findings"]
    assert isinstance(findings, list)
    (finding,) = [f for f in findings if f["rule_id"] == "endpoint.poodle"]
    return str(finding["status"])


def test_sslv3_with_cbc_is_poodle() -> None:
    with tls_server({TlsVersion.SSLv3, TlsVersion.TLSv1_0}) as server:
        truth = tlslite_handshake(server, TlsVersion.SSLv3)
        report = _scan(server.port)
    # SSLv3 has only CBC block ciphers and RC4; tlslite-ng offers no RC4 by default.
    assert truth.accepted and "rc4" not in str(truth.cipher).lower(), truth
    assert _poodle(report) == "fail"


def test_no_sslv3_no_poodle() -> None:
    with tls_server({TlsVersion.TLSv1_2}) as server:
        report = _scan(server.port)
    assert _poodle(report) == "pass"
