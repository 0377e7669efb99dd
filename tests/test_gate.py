"""The CI gate end to end: what makes the exit code non-zero, against real servers and runtimes.

Suites by default (an anonymous-suite server is never compliant), one finding for an endpoint nothing
answered (with a STARTTLS hint after a plain-text banner), --fail-on thresholds, --unreachable, a runtime
that cannot be inspected, and `runtimes` that finds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.certs import make_cert
from tests.support.servers import VERSION_SETS, TlsServer, silent_server, tls_server
from tests.support.tls_servers import openssl_s_server
from tlsaudit.audit import (
    Collected,
    retry_through_starttls,
    scan_endpoints,
    speaks_tls,
    starttls_retargets,
)
from tlsaudit.engine import RUNTIME_KINDS, evaluate, load_ruleset
from tlsaudit.gate import exit_code, makes_nonzero
from tlsaudit.models import Evidence, FindingStatus, Readiness, RuntimeFacts, Target
from tlsaudit.probe.scanner import ScanOptions

ANON_CIPHERS = "ECDHE-RSA-AES128-GCM-SHA256:ADH-AES128-SHA:AECDH-AES128-SHA:@SECLEVEL=0"


def run(*args: str, ca: bool = True) -> subprocess.CompletedProcess[str]:
    extra = ["--ca-file", str(make_cert().ca)] if ca and args[0] in ("scan", "audit") else []
    return subprocess.run(
        [sys.executable, "-m", "tlsaudit", *args, *extra],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def json_report(*args: str) -> tuple[int, dict[str, Any]]:
    result = run(*args, "--format", "json")
    assert result.stdout, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


# ------------------------------------------------------------------ the gate's one decision


def finding(status: str, severity: str) -> dict[str, str]:
    return {"status": status, "severity": severity, "rule_id": "x.y", "subject": "s"}


@pytest.mark.parametrize(
    ("fail_on", "findings", "code"),
    [
        ("fail", [finding("fail", "low")], 1),
        ("fail", [finding("warn", "critical")], 0),
        ("warn", [finding("warn", "low")], 1),
        ("high", [finding("fail", "medium")], 0),
        ("high", [finding("fail", "high")], 1),
        ("high", [finding("fail", "critical")], 1),
        ("critical", [finding("fail", "high")], 0),
        ("medium", [finding("warn", "critical")], 0),  # a severity threshold counts failures only
        ("info", [finding("fail", "info")], 1),
        ("fail", [finding("error", "low")], 3),
        ("high", [finding("error", "low")], 0),  # a low-severity check that could not run: not held up
        ("high", [finding("error", "high")], 3),
        ("never", [finding("fail", "critical"), finding("error", "high")], 0),
        ("fail", [finding("fail", "low"), finding("error", "high")], 1),
    ],
)
def test_exit_code_and_makes_nonzero_agree(fail_on: str, findings: list[dict[str, str]], code: int) -> None:
    report = {"findings": findings, "summary": {"verdict": "fail"}, "runtimes": []}
    assert exit_code(report, fail_on) == code
    assert any(makes_nonzero(f, fail_on) for f in findings) == (code != 0)


# ------------------------------------------------------------------ defect 2: suites by default


@pytest.fixture(scope="module")
def anon_server() -> Iterator[TlsServer]:
    with openssl_s_server(["-tls1_2", "-cipher", ANON_CIPHERS]) as server:
        yield server


def test_an_independent_client_gets_an_anonymous_suite(anon_server: TlsServer) -> None:
    result = subprocess.run(
        [
            "openssl",
            "s_client",
            "-connect",
            f"127.0.0.1:{anon_server.port}",
            "-tls1_2",
            "-cipher",
            "aNULL:@SECLEVEL=0",
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "Cipher is ADH-AES128-SHA" in result.stdout or "Cipher is AECDH-AES128-SHA" in result.stdout


def test_plain_scan_of_an_anonymous_suite_server_fails(anon_server: TlsServer) -> None:
    code, report = json_report("scan", anon_server.target, "--timeout", "3")
    statuses = {f["rule_id"]: f["status"] for f in report["findings"]}
    assert statuses["endpoint.suite-anon"] == "fail"
    assert report["summary"]["verdict"] == "fail"
    assert code == 1


def test_without_suites_the_suite_rules_are_not_assessed(anon_server: TlsServer) -> None:
    code, report = json_report("scan", anon_server.target, "--timeout", "3", "--no-ciphers")
    suite_rules = [f for f in report["findings"] if f["rule_id"].startswith("endpoint.suite-")]
    assert suite_rules and {f["status"] for f in suite_rules} == {"error"}
    assert all("not assessed" in f["message"] and "--no-ciphers" in f["message"] for f in suite_rules)
    assert not any("not applicable" in f["message"] for f in suite_rules)
    assert report["summary"]["verdict"] != "pass"
    # never compliant: 3 (not assessed), or 1 when another check (e.g. the key exchange) fails as well
    assert code in (1, 3)


def test_ciphers_switch_is_still_accepted(anon_server: TlsServer) -> None:
    assert run("scan", anon_server.target, "--timeout", "3", "--ciphers", "-q").returncode == 1


# ------------------------------------------------------------------ defect 5: unreachable endpoints


def test_refused_port_is_one_error_finding() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        code, report = json_report("scan", f"127.0.0.1:{port}", "--timeout", "1", "--retries", "0")
    assert [(f["rule_id"], f["status"]) for f in report["findings"]] == [("endpoint.unreachable", "error")]
    assert "could not connect: connection refused" in report["findings"][0]["message"]
    assert code == 3


@contextlib.contextmanager
def smtp_server(*, starttls: bool) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) on a free, non-standard port; with STARTTLS when asked."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd (PyPI, test extra) is not installed")
    from aiosmtpd.handlers import Sink
    from aiosmtpd.smtp import SMTP

    context: ssl.SSLContext | None = None
    if starttls:
        files = make_cert()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(files.leaf), str(files.key))
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(Sink(), tls_context=context), "127.0.0.1", 0)
    )
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


def test_plain_text_banner_gives_one_finding_with_a_starttls_hint() -> None:
    with smtp_server(starttls=True) as port:
        code, report = json_report("scan", f"127.0.0.1:{port}", "--timeout", "2", "--retries", "0")
    (only,) = report["findings"]
    assert (only["rule_id"], only["status"]) == ("endpoint.unreachable", "error")
    assert f"smtp://127.0.0.1:{port}" in only["message"]
    assert code == 3


def test_audit_retries_a_banner_service_through_starttls() -> None:
    """What `audit` does with a local service on a non-standard port that greets like SMTP."""
    options = ScanOptions(timeout=3.0, retries=0)
    with smtp_server(starttls=True) as port:
        collected = Collected()
        scan_endpoints([Target(raw=f"127.0.0.1:{port}", host="127.0.0.1", port=port)], options, collected)
        assert not speaks_tls(collected.endpoints[0])
        retry = starttls_retargets(collected, explicit=[])
        assert [(t.port, t.starttls) for t in retry] == [(port, "smtp")]
        retry_through_starttls(collected, [], options)
    (endpoint,) = collected.endpoints
    assert endpoint.starttls == "smtp" and speaks_tls(endpoint)
    # cross-check: Python's ssl completes a handshake through the same STARTTLS exchange
    with smtp_server(starttls=True) as port:
        import smtplib

        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.starttls(context=ssl._create_unverified_context())
            assert client.sock is not None and isinstance(client.sock, ssl.SSLSocket)


# ------------------------------------------------------------------ defect 8: --fail-on, --unreachable


@pytest.fixture(scope="module")
def tls12_only() -> Iterator[TlsServer]:
    with tls_server(VERSION_SETS["tls12"]) as server:
        yield server


def test_fail_on_severity_threshold(tls12_only: TlsServer) -> None:
    # NIST SP 800-52r2 wants TLS 1.3: a medium-severity failure on a TLS 1.2-only server
    args = ("scan", tls12_only.target, "--timeout", "3", "--policy", "nist-800-52r2", "-q")
    code, report = json_report(*args)
    failed = {(f["rule_id"], f["severity"]) for f in report["findings"] if f["status"] == "fail"}
    assert failed == {("endpoint.tls13-not-accepted", "medium")}
    assert code == 1
    assert run(*args, "--fail-on", "high").returncode == 0
    assert run(*args, "--fail-on", "medium").returncode == 1
    assert run(*args, "--fail-on", "warn").returncode == 1


def test_cross_check_tls13_is_refused(tls12_only: TlsServer) -> None:
    context = ssl._create_unverified_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    with (
        socket.create_connection(("127.0.0.1", tls12_only.port), timeout=5) as raw,
        pytest.raises(ssl.SSLError),
    ):
        context.wrap_socket(raw, server_hostname="localhost")


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [("error", "error", 3), ("fail", "fail", 1), ("ignore", "skipped", 0)],
)
def test_unreachable_modes(mode: str, status: str, code: int) -> None:
    with silent_server() as silent:
        got, report = json_report(
            "scan", silent.target, "--timeout", "0.5", "--retries", "0", "--unreachable", mode
        )
    assert [f["status"] for f in report["findings"]] == [status]
    assert got == code
    # the endpoint's verdict and the summary say what the exit code says
    assert [ep["verdict"] for ep in report["endpoints"]] == [status]
    assert report["summary"]["verdict"] == status
    assert report["summary"]["endpoints"][status] == 1


def test_an_ignored_unreachable_endpoint_is_skipped_in_every_format(
    tls12_only: TlsServer, tmp_path: Path
) -> None:
    """--unreachable ignore: exit 0, and no format calls the run or the endpoint `error`/not assessed; each
    one shows the unreachable endpoint as skipped (ignored) next to the reachable one's own verdict."""
    paths = {ext: tmp_path / f"r.{ext}" for ext in ("json", "html", "txt", "md", "xml", "sarif", "csv")}
    outputs = [arg for path in paths.values() for arg in ("-o", str(path))]
    with silent_server() as silent:
        result = run(
            "scan",
            silent.target,
            tls12_only.target,
            "--timeout",
            "0.5",
            "--retries",
            "0",
            "--unreachable",
            "ignore",
            *outputs,
        )
        down = silent.target
    assert result.returncode == 0, result.stderr
    report = json.loads(paths["json"].read_text(encoding="utf-8"))
    verdicts = {ep["target"]: ep["verdict"] for ep in report["endpoints"]}
    assert verdicts[down] == "skipped"
    assert verdicts[tls12_only.target] == "pass"
    assert report["summary"]["verdict"] == "pass"
    assert report["summary"]["counts"]["error"] == 0
    assert report["summary"]["endpoints"] == {
        "total": 2,
        "pass": 1,
        "fail": 0,
        "warn": 0,
        "error": 0,
        "skipped": 1,
    }
    assert "Verdict: PASS" in result.stderr
    text = paths["txt"].read_text(encoding="utf-8")
    assert "SKIPPED" in text and "ERROR" not in text
    markdown = paths["md"].read_text(encoding="utf-8")
    assert "⏭️ SKIPPED" in markdown and "⛔ ERROR" not in markdown
    html = paths["html"].read_text(encoding="utf-8")
    assert 'class="badge verdict-skipped">IGNORED<' in html
    assert "NOT ASSESSED</span>" not in html and 'class="badge verdict-error"' not in html
    assert "1 unreachable and ignored" in html
    root = ET.parse(paths["xml"]).getroot()
    assert (root.get("errors"), root.get("failures")) == ("0", "0")
    (suite,) = [s for s in root if s.get("name") == down]
    assert (suite.get("tests"), suite.get("skipped"), suite.get("errors")) == ("1", "1", "0")
    sarif = json.loads(paths["sarif"].read_text(encoding="utf-8"))
    (run_,) = sarif["runs"]
    assert run_["properties"]["verdict"] == "pass"
    assert not [r for r in run_["results"] if r["kind"] != "pass"]
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text(encoding="utf-8"))))
    unreachable = [r for r in rows if r["rule_id"] == "endpoint.unreachable"]
    assert [r["status"] for r in unreachable] == ["skipped"]
    assert not [r for r in rows if r["status"] == "error"]


def test_fail_on_never_exits_0_even_when_nothing_was_assessed() -> None:
    with silent_server() as silent:
        result = run("scan", silent.target, "--timeout", "0.5", "--retries", "0", "--fail-on", "never")
    assert result.returncode == 0, result.stdout + result.stderr


def test_fail_on_rejects_an_unknown_threshold() -> None:
    assert run("scan", "127.0.0.1:1", "--fail-on", "severe").returncode == 2


# ------------------------------------------------------------------ defect 18: runtimes that cannot run


@pytest.mark.parametrize(
    ("option", "program"),
    [
        ("--python", "/bin/true"),
        ("--python", "/bin/false"),
        ("--php", "/bin/true"),
        ("--php", "/bin/false"),
        ("--node", "/bin/true"),
        ("--node", "/bin/false"),
        ("--java-home", "/bin/true"),
        ("--java-home", "/bin/false"),
    ],
)
def test_a_runtime_that_cannot_be_inspected_is_one_error(option: str, program: str) -> None:
    code, report = json_report("runtimes", "--no-system-search", option, program, "-q")
    (only,) = report["findings"]
    assert (only["rule_id"], only["status"]) == ("runtime.not-assessed", "error")
    assert f"Evidence: `{program}" in only["message"]
    assert "exit code" in only["message"]
    assert report["runtimes"][0]["readiness"] == "unknown"
    assert code == 3


# ------------------------------------------------------------------ defect 13: no runtime found


def test_no_runtime_found_says_why() -> None:
    result = run("runtimes", "--no-system-search", "--kind", "php")
    assert result.returncode == 3
    assert "no runtime found" in result.stderr and "--php PATH" in result.stderr
    assert "Verdict" not in result.stdout


def test_openssl_is_available_for_the_cross_checks() -> None:
    assert shutil.which("openssl"), "openssl (Debian package) is needed: make system-deps"


@pytest.mark.parametrize("kind", RUNTIME_KINDS)
def test_every_runtime_kind_that_cannot_be_inspected_gets_the_one_rule(kind: str) -> None:
    """The kinds without a --KIND PATH option (curl, openssl, dotnet, browser) go through the same rule."""
    runtime = RuntimeFacts(
        kind=kind,
        path="/bin/false",
        version=None,
        details={"inspect_error": f"{kind}: exit code 1: no output"},
        evidence=(Evidence(argv=("/bin/false", "--version"), exit_code=1),),
    )
    evaluation = evaluate(load_ruleset("sage-intacct-2018"), runtimes=[runtime])
    assert [(f.rule_id, f.status) for f in evaluation.findings] == [
        ("runtime.not-assessed", FindingStatus.ERROR)
    ]
    assert "Evidence: `/bin/false --version`: exit code 1, no output" in evaluation.findings[0].message
    assert evaluation.readiness[runtime.subject] == Readiness.UNKNOWN
