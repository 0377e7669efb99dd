"""Writing reports from the command line, end to end against real loopback servers: a renderer never loses
the other formats, output paths are checked before any connection, an internal error exits 4, JUnit fails
exactly what the exit code fails, and every format counts alike."""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import ssl
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.support.acceptor import ServerAddress, serve
from tests.support.certs import make_cert
from tests.support.hostile import silent_server
from tests.support.servers import VERSION_SETS, TlsServer, tls_server
from tests.support.tls_servers import python_tls_server
from tests.test_cli import run
from tlsaudit.models import TlsVersion

ONE_SUITE = "ECDHE-RSA-AES128-GCM-SHA256"
ONE_SUITE_IANA = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
ALL_EXTENSIONS = (".json", ".html", ".xml", ".sarif", ".md", ".csv", ".txt")


@pytest.fixture(scope="module")
def one_suite() -> Iterator[TlsServer]:
    with python_tls_server({TlsVersion.TLSv1_2}, ciphers=ONE_SUITE) as server:
        yield server


@pytest.fixture(scope="module")
def legacy() -> Iterator[TlsServer]:
    with tls_server(VERSION_SETS["tls10-13"]) as server:
        yield server


def _negotiated_cipher(server: TlsServer) -> str:
    """The suite an independent client (Python's ssl) gets from the server."""
    context = ssl.create_default_context(cafile=str(make_cert().ca))
    context.check_hostname = False
    with (
        socket.create_connection((server.host, server.port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        cipher = tls.cipher()
    assert cipher is not None
    return cipher[0]


def test_single_suite_scan_renders_every_format(one_suite: TlsServer, tmp_path: Path) -> None:
    """Defect 1: `scan --ciphers` of a one-suite server crashed the HTML renderer and wrote no file."""
    outputs = [tmp_path / f"r{ext}" for ext in ALL_EXTENSIONS]
    args = ["scan", one_suite.target, "--ciphers", "--timeout", "3"]
    result = run(*args, *(arg for out in outputs for arg in ("-o", str(out))))
    assert result.returncode == 0, result.stderr
    assert all(out.stat().st_size > 0 for out in outputs)
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    suites = report["endpoints"][0]["cipher_suites"]
    # the one suite, by its IANA name; an independent client (Python's ssl) negotiates the same one
    assert [s["accepted"] for s in suites if s["accepted"]] == [[ONE_SUITE_IANA]]
    assert _negotiated_cipher(one_suite) == ONE_SUITE
    assert "server_preference" not in suites[0]  # one suite: no order to report, the key is absent
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert ONE_SUITE_IANA in html


def _listener_counting_connections() -> tuple[AbstractContextManager[ServerAddress], list[int]]:
    seen: list[int] = []

    def handle(conn: socket.socket, _stop: threading.Event) -> None:
        seen.append(1)
        conn.close()

    return serve(handle), seen


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (["{tmp}/missing/r.json"], "does not exist"),
        (["{tmp}/good.json", "{tmp}/missing/x.json"], "does not exist"),
        (["{tmp}/r.docx"], "cannot tell the report format"),
    ],
    ids=["missing-folder", "one-bad-of-two", "unknown-extension"],
)
def test_bad_output_is_a_usage_error_before_any_connection(
    tmp_path: Path, outputs: list[str], message: str
) -> None:
    server, seen = _listener_counting_connections()
    with server as address:
        args = [arg for out in outputs for arg in ("-o", out.format(tmp=tmp_path))]
        result = run("scan", address.target, "--timeout", "1", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert seen == []  # refused before the scan started
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no folder created


def test_bad_logo_is_refused_before_any_connection(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_text("not an image", encoding="utf-8")
    server, seen = _listener_counting_connections()
    with server as address:
        result = run("scan", address.target, "-o", str(tmp_path / "r.html"), "--logo", str(logo))
    assert result.returncode == 2
    assert "not a PNG, JPEG or SVG" in result.stderr
    assert seen == []
    assert not (tmp_path / "r.html").exists()


def test_outputs_to_files_keep_the_verdict_line_on_stderr(legacy: TlsServer, tmp_path: Path) -> None:
    result = run("scan", legacy.target, "--timeout", "3", "-o", str(tmp_path / "r.json"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert re.search(r"^Verdict: FAIL  \(\d+ fail, ", result.stderr, re.M)


def test_internal_error_exits_4_and_keeps_the_other_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 14: a renderer bug is exit 4 with one line (traceback with --debug), never exit 1."""
    import dataclasses

    from tlsaudit import cli
    from tlsaudit.formats import FORMATS

    saved = tmp_path / "in.json"
    saved.write_text(json.dumps(_sample()), encoding="utf-8")

    def broken(_report: object, _options: object) -> str:
        raise AttributeError("'dict object' has no attribute 'server_preference'")

    monkeypatch.setitem(FORMATS, "html", dataclasses.replace(FORMATS["html"], render=broken))
    for debug in ([], ["--debug"]):
        outputs = [
            "-o",
            str(tmp_path / "r.json"),
            "-o",
            str(tmp_path / "r.html"),
            "-o",
            str(tmp_path / "r.md"),
        ]
        monkeypatch.setattr(sys, "argv", ["tlsaudit", "report", str(saved), *outputs, *debug])
        monkeypatch.setitem(cli._DEBUG, "on", False)
        with pytest.raises(SystemExit) as exited:
            cli.run()
        assert exited.value.code == 4
        err = capsys.readouterr().err
        assert "internal error while rendering html" in err
        assert ("Traceback" in err) == bool(debug)
        if not debug:
            assert len(err.strip().splitlines()) == 1
        assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["findings"]
        assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("## ")
        assert not (tmp_path / "r.html").exists()
        (tmp_path / "r.json").unlink()
        (tmp_path / "r.md").unlink()


def _sample() -> dict[str, object]:
    from tests.report_samples import sample_report

    return sample_report()


def _junit_failing_cases(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return sorted(case.get("name", "") for case in root.iter("testcase") if case.find("failure") is not None)


@pytest.mark.parametrize(
    ("fail_on", "statuses"), [("fail", {"fail"}), ("warn", {"fail", "warn"}), ("never", set())]
)
def test_junit_fails_exactly_what_the_exit_code_fails(
    tmp_path: Path, fail_on: str, statuses: set[str]
) -> None:
    report = _sample()
    saved = tmp_path / "in.json"
    saved.write_text(json.dumps(report), encoding="utf-8")
    result = run("report", str(saved), "--fail-on", fail_on, "-o", str(tmp_path / "r.xml"))
    findings = report["findings"]
    assert isinstance(findings, list)
    expected = sorted(f"{f['rule_id']}: {f['subject']}" for f in findings if f["status"] in statuses)
    assert _junit_failing_cases(tmp_path / "r.xml") == expected
    assert (result.returncode == 1) == bool(expected)
    assert any(f["status"] == "warn" for f in findings)  # the sample has warnings: the test means something


def _counts_in_every_format(folder: Path) -> dict[str, dict[str, int]]:
    """Checks by status as each format shows them."""
    statuses = ("fail", "error", "warn", "pass", "skipped")
    found: dict[str, dict[str, int]] = {}
    report = json.loads((folder / "r.json").read_text(encoding="utf-8"))
    found["json"] = {k: report["summary"]["counts"][k] for k in statuses}
    markdown = (folder / "r.md").read_text(encoding="utf-8")
    row = next(line for line in markdown.splitlines() if line.startswith("| count |"))
    found["markdown"] = dict(zip(statuses, (int(c) for c in row.strip("| ").split(" | ")[1:]), strict=True))
    html = (folder / "r.html").read_text(encoding="utf-8")
    cells = re.search(r'<table class="counts">.*?<tbody><tr>(.*?)</tr>', html, re.S)
    assert cells
    numbers = [int(n) for n in re.findall(r"<td[^>]*>(\d+)</td>", cells.group(1))]
    found["html"] = dict(zip(statuses, numbers, strict=True))
    rows = list(csv.DictReader(io.StringIO((folder / "r.csv").read_text(encoding="utf-8"))))
    found["csv"] = {k: sum(r["status"] == k for r in rows) for k in statuses}
    text = (folder / "r.txt").read_text(encoding="utf-8")
    verdict = re.search(r"Verdict: \w+  \((.*)\)", text)
    assert verdict
    found["text"] = {k: int(n) for n, k in (p.split() for p in verdict.group(1).split(", "))}
    root = ET.parse(folder / "r.xml").getroot()
    found["junit"] = {
        "fail": int(root.get("failures", "-1")),
        "error": int(root.get("errors", "-1")),
        "skipped": int(root.get("skipped", "-1")),
    }
    return found


def test_merged_report_with_an_unreachable_endpoint_counts_alike_everywhere(
    legacy: TlsServer, tmp_path: Path
) -> None:
    """Defect 17: a merge with an unreachable endpoint: summary table, rule cards, cover and every format
    agree, and the cover counts host names, not endpoints."""
    with silent_server() as silent:
        down = run(
            "scan", silent.target, "--timeout", "0.5", "--retries", "0", "-o", str(tmp_path / "a.json")
        )
    assert down.returncode == 3
    up = run(
        "scan",
        legacy.target,
        "localhost:" + str(legacy.port),
        "--timeout",
        "3",
        "-o",
        str(tmp_path / "b.json"),
    )
    assert up.returncode == 1
    out = tmp_path / "out"
    out.mkdir()
    args = [arg for ext in ALL_EXTENSIONS for arg in ("-o", str(out / f"r{ext}"))]
    merged = run("report", str(tmp_path / "a.json"), str(tmp_path / "b.json"), *args)
    assert merged.returncode == 1, merged.stderr
    found = _counts_in_every_format(out)
    reference = found["json"]
    for fmt, counts in found.items():
        assert counts == {k: reference[k] for k in counts}, fmt
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    html = (out / "r.html").read_text(encoding="utf-8")
    names = {ep["host"] for ep in report["endpoints"]}
    total = len(report["endpoints"])
    assert f"{total} endpoints on {len(names)} host names" in html
    # the TLS 1.0 rule: the main-issues row and the rule card give the same number of failed subjects
    failed = sum(
        f["rule_id"] == "endpoint.tls10-accepted" and f["status"] == "fail" for f in report["findings"]
    )
    assert failed >= 1
    issue = re.search(r"<td>TLS 1\.0 accepted</td><td class=\"right\">(\d+)</td>", html)
    assert issue and int(issue.group(1)) == failed
    card = html[html.index('<code class="rule-id">endpoint.tls10-accepted</code>') :]
    head = re.search(r'<div class="affected-head">(.*?)</div>', card, re.S)
    assert head
    assert f">{failed} failed<" in head.group(1)
    assert "failed" in head.group(1) and str(failed + 1) + " failed" not in head.group(1)


def test_any_unexpected_error_exits_4_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tlsaudit import cli

    def crash(_path: Path) -> None:
        raise KeyError("summary")

    saved = tmp_path / "in.json"
    saved.write_text(json.dumps(_sample()), encoding="utf-8")
    monkeypatch.setattr(cli, "load_report", crash)
    monkeypatch.setattr(sys, "argv", ["tlsaudit", "report", str(saved)])
    monkeypatch.setitem(cli._DEBUG, "on", False)
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == 4
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "tlsaudit: internal error: KeyError: 'summary' (run again with --debug for the traceback)"
    ]
