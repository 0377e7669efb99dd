"""`scan --format jsonl` and `report` over JSONL, end to end against real loopback servers: targets from
stdin, each line exactly the report's endpoint object (schema-valid), stdout streaming, merging with JSON
reports, duplicates kept once the documented way, a cut-off last line ignored, bad lines named."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.certs import make_cert
from tests.support.servers import VERSION_SETS, TlsServer, tls_server
from tlsaudit.endpoint_lines import endpoint_errors
from tlsaudit.formats import FORMATS, format_for_path
from tlsaudit.report import schema_errors


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--ca-file", str(make_cert().ca), "--timeout", "3"] if args[0] == "scan" else []
    return subprocess.run(
        [sys.executable, "-m", "tlsaudit", *args, *extra],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


def lines_of(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n") or not text
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def modern() -> Iterator[TlsServer]:
    with tls_server(VERSION_SETS["tls12+13"]) as server:
        yield server


@pytest.fixture(scope="module")
def legacy() -> Iterator[TlsServer]:
    with tls_server(VERSION_SETS["tls10-13"]) as server:
        yield server


CLOSED = "127.0.3.9:9"  # nothing listens there: refused at once, not assessed


def test_jsonl_is_registered_with_its_extension() -> None:
    assert FORMATS["jsonl"].extensions == (".jsonl",)
    assert format_for_path("shard-1.jsonl") == "jsonl"


def test_each_line_is_the_report_endpoint_object(
    tmp_path: Path, modern: TlsServer, legacy: TlsServer
) -> None:
    stream, report_file = tmp_path / "scan.jsonl", tmp_path / "scan.json"
    targets = f"# from stdin\n{modern.target}\n{legacy.target}\n{CLOSED}\n"
    result = run("scan", "-f", "-", "-q", "-o", str(stream), "-o", str(report_file), stdin=targets)
    assert result.returncode == 1, result.stderr  # legacy accepts TLS 1.0: a failure beats not-assessed
    assert result.stdout == ""
    lines = lines_of(stream.read_text(encoding="utf-8"))
    report = json.loads(report_file.read_text())
    assert schema_errors(report) == []
    for line in lines:
        assert endpoint_errors(line) == []
    assert sorted(lines, key=lambda e: e["id"]) == sorted(report["endpoints"], key=lambda e: e["id"])
    verdicts = {e["port"]: e["verdict"] for e in lines}
    assert verdicts == {modern.port: "pass", legacy.port: "fail", 9: "error"}


def test_stdout_stream_and_the_verdict_on_stderr(modern: TlsServer) -> None:
    result = run("scan", "-f", "-", "--format", "jsonl", "-q", stdin=f"{modern.target}\n{CLOSED}\n")
    assert result.returncode == 3, result.stderr  # the closed port is not assessed
    lines = lines_of(result.stdout)
    assert {e["id"] for e in lines} == {modern.target, CLOSED}
    assert "Verdict: ERROR" in result.stderr


def test_bad_stdin_lines_are_named(modern: TlsServer) -> None:
    result = run("scan", "-f", "-", "--format", "jsonl", stdin=f"{modern.target}\nbad name!\nx:99999\n")
    assert result.returncode == 2
    assert "<stdin>:2: " in result.stderr and "<stdin>:3: invalid port" in result.stderr
    assert result.stdout == ""


def test_report_merges_json_and_jsonl_and_keeps_the_last_duplicate(
    tmp_path: Path, modern: TlsServer, legacy: TlsServer
) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.json", tmp_path / "c.jsonl"
    assert run("scan", modern.target, CLOSED, "-q", "-o", str(a)).returncode == 3
    assert run("scan", legacy.target, "-q", "-o", str(b)).returncode == 1
    assert run("scan", modern.target, "-q", "-o", str(c)).returncode == 0
    merged = tmp_path / "merged.json"
    result = run("report", str(a), str(b), str(c), "-o", str(merged), "--policy", "sage-intacct-2018")
    assert result.returncode == 1, result.stderr
    report = json.loads(merged.read_text())
    assert schema_errors(report) == []
    assert sorted(e["id"] for e in report["endpoints"]) == sorted([modern.target, legacy.target, CLOSED])
    assert report["summary"]["verdict"] == "fail"
    # the modern server is in a.jsonl and c.jsonl: the later one on the command line is kept, and said so
    kept = next(e for e in report["endpoints"] if e["id"] == modern.target)
    assert kept == {**lines_of(c.read_text())[0], "verdict": "pass"}
    assert f"1 duplicate subjects, the last occurrence kept: {modern.target} (input 3 {c}:1 kept over " \
        f"input 1 {a}:" in result.stderr  # fmt: skip
    # the same inputs in another order keep the other copy: the rule is position, not chance
    swapped = run("report", str(c), str(b), str(a), "-o", str(tmp_path / "swapped.json"))
    assert swapped.returncode == 1
    again = json.loads((tmp_path / "swapped.json").read_text())
    assert (
        next(e for e in again["endpoints"] if e["id"] == modern.target)["elapsed_ms"]
        == next(e for e in lines_of(a.read_text()) if e["id"] == modern.target)["elapsed_ms"]
    )


def test_jsonl_alone_is_judged_under_the_default_policy_and_not_assessed_exits_3(tmp_path: Path) -> None:
    stream = tmp_path / "closed.jsonl"
    assert run("scan", CLOSED, "-q", "-o", str(stream)).returncode == 3
    result = run("report", str(stream), "--format", "json")
    assert result.returncode == 3
    assert "JSONL streams carry no policy" in result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["verdict"] == "error"
    assert [e["verdict"] for e in report["endpoints"]] == ["error"]
    # a JSONL stream back out of `report`: the same endpoint objects
    out = tmp_path / "again.jsonl"
    assert run("report", str(stream), "-o", str(out)).returncode == 3
    assert lines_of(out.read_text()) == report["endpoints"]


def test_a_cut_off_last_line_is_ignored_and_a_bad_middle_line_is_an_error(
    tmp_path: Path, modern: TlsServer
) -> None:
    stream = tmp_path / "s.jsonl"
    assert run("scan", modern.target, CLOSED, "-q", "-o", str(stream)).returncode == 3
    whole = stream.read_text()
    cut = tmp_path / "cut.jsonl"
    cut.write_text(whole + whole.splitlines()[0][:40])  # a killed writer
    result = run("report", str(cut), "--format", "json")
    assert result.returncode == 3, result.stderr
    assert f"{cut}:3: a line cut short" in result.stderr
    assert len(json.loads(result.stdout)["endpoints"]) == 2
    broken = tmp_path / "broken.jsonl"
    broken.write_text(whole.splitlines()[0][:40] + "\n" + whole)
    result = run("report", str(broken))
    assert result.returncode == 2 and f"{broken}:1: not a JSON line" in result.stderr
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(whole + '{"id": "x"}\n')
    result = run("report", str(wrong))
    assert result.returncode == 2 and f"{wrong}:3: not a tlsaudit endpoint object" in result.stderr


def test_a_stream_is_recognised_without_its_extension(tmp_path: Path) -> None:
    stream = tmp_path / "shard.out"
    assert run("scan", CLOSED, "-q", "--format", "jsonl", "-o", str(stream)).returncode == 3
    result = run("report", str(stream), "--format", "json")
    assert result.returncode == 3, result.stderr
    assert [e["id"] for e in json.loads(result.stdout)["endpoints"]] == [CLOSED]


def test_a_reader_that_goes_away_stops_the_stream_not_the_scan() -> None:
    """`scan --format jsonl | head -1`: no traceback, no internal error; the usual exit code."""
    listing = "".join(f"127.0.4.{i}:9\n" for i in range(1, 201))
    process = subprocess.Popen(
        [sys.executable, "-m", "tlsaudit", "scan", "-f", "-", "--format", "jsonl", "-q", "--retries", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write(listing)
    process.stdin.close()
    first = process.stdout.readline()
    process.stdout.close()  # like `head -1`
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 3, stderr
    assert json.loads(first)["port"] == 9
    assert stderr.startswith("Verdict: ERROR") and "internal error" not in stderr, stderr
    assert "Traceback" not in stderr
