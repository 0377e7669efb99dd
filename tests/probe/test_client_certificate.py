"""Servers that ask for a client certificate: `client_certificate` is `requested` or `required`, as
`openssl s_client` without a certificate finds it, with an info finding and unchanged protocol verdicts."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.support.tls_servers import openssl_s_server

CLIENT_TIMEOUT = 15


def scan_json(port: int) -> tuple[dict[str, Any], int]:
    done = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "scan", f"127.0.0.1:{port}", "--format", "json", "-o", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return json.loads(done.stdout), done.returncode


def s_client_connects(port: int, version_flag: str) -> bool:
    """Does a client without a certificate get through the handshake and one exchange of data?"""
    done = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", version_flag, "-ign_eof"],
        input="GET / HTTP/1.0\r\n\r\n",
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
        check=False,
    )
    return "HTTP/1.0 200 ok" in done.stdout


@pytest.mark.parametrize(
    ("version_flag", "verify_flag", "expected"),
    [
        ("-tls1_2", "-verify", "requested"),
        ("-tls1_2", "-Verify", "required"),
        ("-tls1_3", "-verify", "requested"),
        ("-tls1_3", "-Verify", "required"),
    ],
)
def test_client_certificate_request_is_recorded(version_flag: str, verify_flag: str, expected: str) -> None:
    with openssl_s_server([version_flag]) as plain:
        baseline, _ = scan_json(plain.port)
    with openssl_s_server([version_flag, verify_flag, "1"], www=True) as server:
        report, code = scan_json(server.port)
        truth = "requested" if s_client_connects(server.port, version_flag) else "required"
    assert truth == expected  # the fixture does what it says, by an independent client
    (endpoint,) = report["endpoints"]
    assert endpoint["client_certificate"] == expected
    assert {v: r["status"] for v, r in endpoint["protocols"].items()} == {
        v: r["status"] for v, r in baseline["endpoints"][0]["protocols"].items()
    }
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "endpoint.client-cert-requested"]
    assert finding["severity"] == "info" and expected in finding["message"]
    assert code == scan_json_code_without_request(baseline)


def scan_json_code_without_request(baseline: dict[str, Any]) -> int:
    verdict = baseline["summary"]["verdict"]
    return {"pass": 0, "fail": 1}.get(verdict, 3)


def test_server_without_request_has_no_client_certificate_key() -> None:
    with openssl_s_server(["-tls1_2"]) as server:
        report, _ = scan_json(server.port)
    (endpoint,) = report["endpoints"]
    assert "client_certificate" not in endpoint
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "endpoint.client-cert-requested"]
    assert finding["status"] == "pass"
