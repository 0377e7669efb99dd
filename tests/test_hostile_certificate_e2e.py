"""End to end: a real loopback server whose certificate subject carries script, scanned and rendered."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import Browser, chromium_or_skip
from tests.html_checks import assert_report_html_inert
from tests.support.certs import CertSpec, make_cert
from tests.support.servers import VERSION_SETS, tls_server

PAYLOAD = '<script>window.__pwned=1;document.title=\'pwned\'</script>"><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_or_skip() as instance:
        yield instance


def test_script_in_a_served_certificate_stays_inert(tmp_path: Path, browser: Browser) -> None:
    cert = make_cert(CertSpec(common_name="localhost", organization=PAYLOAD))
    out = tmp_path / "scan.json"
    with tls_server(VERSION_SETS["tls12"], cert=cert) as server:
        result = subprocess.run(
            [sys.executable, "-m", "tlsaudit", "scan", server.target, "-o", str(out), "--timeout", "3"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(out.read_text())
    subject = report["endpoints"][0]["certificate"]["subject"]
    # The hostile text really travelled through the scan (RFC 4514 escapes '<' as '\\<', which is no defence
    # in HTML by itself).
    assert "script" in subject and "onerror" in subject and "<img" in subject
    assert_report_html_inert(report, browser, tmp_path, expected_text="window.__pwned=1")
