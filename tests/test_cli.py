"""The command line end to end: exit codes, targets files, JSON, against real loopback servers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.certs import make_cert
from tests.support.servers import VERSION_SETS, TlsServer, silent_server, tls_server
from tlsaudit.formats import FORMATS


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """tlsaudit with the test CA trusted, as an internal CA would be, for scans."""
    extra = ["--ca-file", str(make_cert().ca)] if args and args[0] in ("scan", "audit") else []
    return subprocess.run(
        [sys.executable, "-m", "tlsaudit", *args, *extra],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def modern() -> Iterator[TlsServer]:
    with tls_server(VERSION_SETS["tls12+13"]) as server:
        yield server


@pytest.fixture(scope="module")
def legacy() -> Iterator[TlsServer]:
    with tls_server(VERSION_SETS["tls10-13"]) as server:
        yield server


@pytest.fixture(scope="module")
def tls11_12() -> Iterator[TlsServer]:
    from tlsaudit.models import TlsVersion

    with tls_server({TlsVersion.TLSv1_1, TlsVersion.TLSv1_2}) as server:
        yield server


def test_compliant_server_exits_0(modern: TlsServer) -> None:
    result = run("scan", modern.target, "--timeout", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Verdict: PASS" in result.stdout


def test_tls10_server_exits_1_with_the_finding(legacy: TlsServer) -> None:
    result = run("scan", legacy.target, "--timeout", "3")
    assert result.returncode == 1
    assert "endpoint.tls10-accepted" in result.stdout


def test_unreachable_exits_3() -> None:
    with silent_server() as silent:
        result = run("scan", silent.target, "--timeout", "0.5", "--retries", "0")
    assert result.returncode == 3
    assert "could not connect" in result.stdout


def test_unreachable_and_compliant_together_still_exit_3(modern: TlsServer) -> None:
    with silent_server() as silent:
        result = run("scan", silent.target, modern.target, "--timeout", "0.5", "--retries", "0")
    assert result.returncode == 3


def test_json_on_stdout_keeps_the_exit_code_and_the_verdict(legacy: TlsServer) -> None:
    result = run("scan", legacy.target, "--format", "json", "--timeout", "3")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["summary"]["verdict"] == "fail"
    (endpoint,) = report["endpoints"]
    assert endpoint["protocols"]["TLSv1.0"]["status"] == "accepted"
    assert endpoint["protocols"]["SSLv3"]["status"] == "rejected"
    assert any(
        f["rule_id"] == "endpoint.tls10-accepted" and f["status"] == "fail" for f in report["findings"]
    )


def test_policy_changes_the_verdict_on_the_same_server(modern: TlsServer) -> None:
    sage = run("scan", modern.target, "--policy", "sage-intacct-2018", "--format", "json", "--timeout", "3")
    modern_ = run("scan", modern.target, "--policy", "mozilla-modern", "--format", "json", "--timeout", "3")
    assert sage.returncode == 0 and json.loads(sage.stdout)["summary"]["verdict"] == "pass"
    assert modern_.returncode == 1 and json.loads(modern_.stdout)["summary"]["verdict"] == "fail"


def test_pci_dss_3_2_is_an_alias_of_4_0_1_which_fails_tls11(tls11_12: TlsServer) -> None:
    pci = run("scan", tls11_12.target, "--policy", "pci-dss-3.2", "--format", "json", "--timeout", "3")
    report = json.loads(pci.stdout)
    assert pci.returncode == 1 and report["summary"]["verdict"] == "fail"
    assert report["policy"]["id"] == "pci-dss-4.0.1"
    assert "pci-dss-3.2" in report["policy"]["title"]
    tls11 = [f for f in report["findings"] if f["rule_id"] == "endpoint.tls11-accepted"]
    assert [(f["status"], f["severity"]) for f in tls11] == [("fail", "medium")]


def test_fail_on_never_and_warn(legacy: TlsServer) -> None:
    # --ciphers: the known-flaw rules (BEAST over TLS 1.0) need the suites of each version.
    assert run("scan", legacy.target, "--ciphers", "--fail-on", "never", "--timeout", "3").returncode == 0


def test_output_files_by_extension(tmp_path: Path, modern: TlsServer) -> None:
    out = tmp_path / "r.json"
    result = run("scan", modern.target, "-o", str(out), "--timeout", "3")
    assert result.returncode == 0
    assert json.loads(out.read_text())["policy"]["id"] == "sage-intacct-2018"
    assert not list(tmp_path.glob(".*.tmp"))


def test_targets_file_and_stdin(tmp_path: Path, modern: TlsServer) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text(f"# fleet\n\n{modern.target}  # the modern one\n")
    assert run("scan", "-f", str(listing), "--timeout", "3").returncode == 0
    assert run("scan", "-f", "-", "--timeout", "3", stdin=f"{modern.target}\n").returncode == 0


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("ok.example\nbad host name!\n", "targets.txt:2"),
        ("a.example:99999\n", "targets.txt:1: invalid port"),
        ("gopher://a.example\n", "unsupported scheme"),
        ("[::1\n", "unbalanced"),
    ],
)
def test_bad_targets_file_names_the_line_and_exits_2(tmp_path: Path, content: str, fragment: str) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text(content)
    result = run("scan", "-f", str(listing))
    assert result.returncode == 2
    assert fragment in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("scan",),
        ("scan", "host:notaport"),
        ("scan", "127.0.0.1:1", "--policy", "no-such-policy"),
        ("scan", "127.0.0.1:1", "--format", "pdf"),
        ("scan", "-f", "/nonexistent/targets.txt"),
        ("bogus-command",),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr


def test_broken_rules_dir_exits_2_before_scanning(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[[rule]]\nid = "x.y"\n')
    result = run("scan", "127.0.0.1:1", "--rules", str(tmp_path))
    assert result.returncode == 2
    assert "bad.toml" in result.stderr and "x.y" in result.stderr


def test_rules_list_show_check(tmp_path: Path) -> None:
    listing = run("rules", "list")
    assert listing.returncode == 0
    assert "endpoint.tls10-accepted" in listing.stdout and "sage-intacct-2018" in listing.stdout
    shown = run("rules", "show", "endpoint.tls10-accepted")
    assert (
        shown.returncode == 0 and "protocols.toml" in shown.stdout and 'equals = "accepted"' in shown.stdout
    )
    good = tmp_path / "p.toml"
    good.write_text('[policy]\nid = "mine"\ntitle = "Mine"\ninclude = ["endpoint.tls1*"]\n')
    assert run("rules", "check", str(good)).returncode == 0
    bad = tmp_path / "r.toml"
    bad.write_text(
        '[[rule]]\nid = "mine.rule"\ntitle = "t"\napplies_to = "endpoint"\nstatus = "fail"\n'
        'severity = "high"\nmessage = "m"\nwhen = { fact = "nope", equals = 1 }\n'
    )
    checked = run("rules", "check", str(bad))
    assert (
        checked.returncode == 2 and "r.toml:8" in checked.stderr and "unknown fact 'nope'" in checked.stderr
    )


def test_report_rerenders_and_merges(tmp_path: Path, modern: TlsServer, legacy: TlsServer) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run("scan", modern.target, "-o", str(first), "--timeout", "3").returncode == 0
    assert run("scan", legacy.target, "-o", str(second), "--timeout", "3").returncode == 1
    html = tmp_path / "merged.html"
    merged = tmp_path / "merged.json"
    result = run("report", str(first), str(second), "-o", str(merged), "-o", str(html))
    assert result.returncode == 1, result.stderr
    report = json.loads(merged.read_text())
    assert report["summary"]["verdict"] == "fail"
    assert {e["port"] for e in report["endpoints"]} == {modern.port, legacy.port}
    assert "<html" in html.read_text()
    again = run("report", str(first))
    assert again.returncode == 0 and "Verdict: PASS" in again.stdout


def test_report_rejects_a_broken_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1.0"')
    result = run("report", str(bad))
    assert result.returncode == 2 and "bad.json" in result.stderr


def test_rules_facts_lists_every_fact_kind() -> None:
    result = run("rules", "facts")
    assert result.returncode == 0
    for expected in (
        "protocol.TLSv1.0",
        "certificate.days_left",
        "details.default_client_protocols",
        "capture.versions_offered",
    ):
        assert expected in result.stdout


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_exit_codes_are_the_same_in_every_format(fmt: str, modern: TlsServer, legacy: TlsServer) -> None:
    assert run("scan", modern.target, "--format", fmt, "--timeout", "3").returncode == 0
    assert run("scan", legacy.target, "--format", fmt, "--timeout", "3").returncode == 1
    with silent_server() as silent:
        unreachable = run("scan", silent.target, "--format", fmt, "--timeout", "0.5", "--retries", "0")
    assert unreachable.returncode == 3
    assert unreachable.stdout  # the report is still written
    assert run("scan", "127.0.0.1:notaport", "--format", fmt).returncode == 2


def test_an_audit_that_assesses_nothing_exits_3() -> None:
    result = run("audit", "--no-local", "--no-runtimes")
    assert result.returncode == 3, result.stdout + result.stderr
