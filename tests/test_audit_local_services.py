"""`tlsaudit audit` lists every local service it looked at, in every format: TLS, not TLS (with what it
spoke) or unknown (with the reason); an unknown one makes the run exit 3. The audit is given its own real
servers (`--local-port`), so the result does not depend on which ports happen to be open here."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.certs import make_cert
from tests.support.servers import http_server, python_tls_server, silent_server
from tlsaudit.models import TlsVersion
from tlsaudit.report import validate_report


@dataclass(frozen=True)
class Ports:
    tls: int
    http: int
    silent: int


@pytest.fixture(scope="module")
def ports() -> Iterator[Ports]:
    with contextlib.ExitStack() as stack:
        tls = stack.enter_context(python_tls_server({TlsVersion.TLSv1_2, TlsVersion.TLSv1_3}))
        http = stack.enter_context(http_server())
        silent = stack.enter_context(silent_server())
        yield Ports(tls=tls.port, http=http.port, silent=silent.port)


def audit(*ports: int, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "tlsaudit", "audit", "--no-runtimes", "--timeout", "1", "--retries", "0"]
    for port in ports:
        argv += ["--local-port", str(port)]
    argv += ["--ca-file", str(make_cert().ca), *extra]
    environ = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False, env=environ)


def test_every_local_service_is_listed_in_every_format(ports: Ports, tmp_path: Path) -> None:
    outputs = {fmt: tmp_path / f"audit.{fmt}" for fmt in ("json", "md", "html", "txt", "csv", "sarif", "xml")}
    extra: tuple[str, ...] = ()
    for path in outputs.values():
        extra += ("-o", str(path))
    result = audit(ports.tls, ports.http, ports.silent, extra=extra)
    assert result.returncode == 3, result.stderr  # the silent service could not be told
    report = json.loads(outputs["json"].read_text())
    validate_report(report)  # the listing is part of the JSON contract
    listed = {s["port"]: s for s in report["local_services"]}
    assert set(listed) == {ports.tls, ports.http, ports.silent}
    assert listed[ports.tls]["status"] == "tls"
    assert (listed[ports.http]["status"], listed[ports.http]["spoke"]) == ("not-tls", "HTTP")
    assert listed[ports.silent]["status"] == "unknown"
    assert "timeout" in listed[ports.silent]["reason"]
    endpoint_ports = {e["port"] for e in report["endpoints"]}
    assert ports.tls in endpoint_ports and ports.silent in endpoint_ports
    assert ports.http not in endpoint_ports  # another protocol is listed, not judged as TLS
    for fmt in ("md", "html", "txt"):
        text = outputs[fmt].read_text(encoding="utf-8")
        for port in (ports.tls, ports.http, ports.silent):
            assert f"127.0.0.1:{port}" in text, (fmt, port)
        assert "not TLS (spoke HTTP)" in text, fmt
        assert "unknown: timeout" in text, fmt
    # The machine-readable formats list every service too, each once, with what it turned out to be.
    expected = {
        f"127.0.0.1:{ports.tls}": "tls",
        f"127.0.0.1:{ports.http}": "not-tls",
        f"127.0.0.1:{ports.silent}": "unknown",
    }
    rows = list(csv.DictReader(io.StringIO(outputs["csv"].read_text(encoding="utf-8"))))
    services = [r for r in rows if r["subject_kind"] == "local-service"]
    assert {r["subject"]: r["status"] for r in services} == expected and len(services) == 3
    assert any("not TLS (spoke HTTP)" in r["message"] for r in services)
    sarif = json.loads(outputs["sarif"].read_text(encoding="utf-8"))
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "audit.local-service"]
    kinds = {"tls": "pass", "not-tls": "notApplicable", "unknown": "open"}
    assert {r["properties"]["subject"]: r["kind"] for r in results} == {
        address: kinds[status] for address, status in expected.items()
    }
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)
    root = ET.parse(outputs["xml"]).getroot()
    (suite,) = [s for s in root if str(s.get("name")).startswith("local services on ")]
    cases = {str(c.get("name")).split(": ", 1)[1]: {e.tag for e in c} for c in suite}
    assert cases == {
        f"127.0.0.1:{ports.tls}": {"system-out"},
        f"127.0.0.1:{ports.http}": {"skipped"},
        f"127.0.0.1:{ports.silent}": {"error"},  # the run exits 3 because of it, and JUnit says so
    }
    # A saved report re-rendered (and merged with itself) keeps the listing.
    rerendered = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "report", str(outputs["json"]), str(outputs["json"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rerendered.returncode == 3, rerendered.stderr
    assert rerendered.stdout.count("not TLS (spoke HTTP)") == 1


def test_terminal_lists_them_too(ports: Ports) -> None:
    result = audit(ports.tls, ports.http)
    assert result.returncode == 0, (
        result.stdout + result.stderr
    )  # TLS 1.2+ with a trusted chain; HTTP not judged
    assert "Local services looked at" in result.stdout
    assert f"127.0.0.1:{ports.http}" in result.stdout and "not TLS (spoke HTTP)" in result.stdout
    assert f"127.0.0.1:{ports.tls}" in result.stdout
