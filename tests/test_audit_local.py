"""`tlsaudit audit`: this machine's listening services through loopback; Ctrl-C keeps what finished."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.certs import make_cert
from tests.support.servers import VERSION_SETS, http_server, silent_server, tls_server
from tlsaudit.probe.local_services import ListeningService, listening_services, loopback_targets


def test_listening_services_include_a_fresh_server() -> None:
    with tls_server(VERSION_SETS["tls12"]) as server:
        ports = {s.port for s in listening_services()}
    assert server.port in ports


def test_wildcard_binds_map_to_loopback_and_foreign_binds_need_opt_in() -> None:
    services = [
        ListeningService(bind_address="0.0.0.0", port=443),
        ListeningService(bind_address="::", port=443),
        ListeningService(bind_address="127.0.0.5", port=8443),
        ListeningService(bind_address="10.1.2.3", port=9443),
    ]
    default = {(t.host, t.port) for t in loopback_targets(services, include_non_loopback=False)}
    assert default == {("127.0.0.1", 443), ("::1", 443), ("127.0.0.5", 8443)}
    opted = {(t.host, t.port) for t in loopback_targets(services, include_non_loopback=True)}
    assert ("10.1.2.3", 9443) in opted


def test_audit_finds_and_judges_local_tls_services(tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    with (
        tls_server(VERSION_SETS["tls10-13"]) as legacy,
        tls_server(VERSION_SETS["tls12+13"]) as modern,
        http_server() as http,
    ):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tlsaudit",
                "audit",
                *("--local-port", str(legacy.port), "--local-port", str(modern.port)),
                *("--local-port", str(http.port), "--no-runtimes"),
                "--timeout",
                "2",
                "--retries",
                "0",
                "-o",
                str(out),
                "--ca-file",
                str(make_cert().ca),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 1, result.stderr
    report = json.loads(out.read_text())
    by_port = {e["port"]: e for e in report["endpoints"] if e["ip"] == "127.0.0.1"}
    assert by_port[legacy.port]["protocols"]["TLSv1.0"]["status"] == "accepted"
    assert by_port[legacy.port]["verdict"] == "fail"
    assert by_port[modern.port]["verdict"] == "pass"
    assert f"127.0.0.1:{http.port}" in report["scope"]["local_services_not_tls"]
    assert all(e["port"] != http.port for e in report["endpoints"])


def _finished_ports(stream: Path) -> set[int]:
    """The ports of the endpoints a JSONL stream holds so far (whole lines only)."""
    text = stream.read_text(encoding="utf-8") if stream.exists() else ""
    return {int(json.loads(line)["port"]) for line in text.splitlines(keepends=True) if line.endswith("\n")}


def test_ctrl_c_writes_what_finished(tmp_path: Path) -> None:
    out = tmp_path / "partial.json"
    stream = tmp_path / "partial.jsonl"  # each finished endpoint lands here: Ctrl-C once the good one is in
    with tls_server(VERSION_SETS["tls12"]) as good, silent_server() as silent:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tlsaudit",
                "scan",
                good.target,
                silent.target,
                "--timeout",
                "60",
                "--retries",
                "0",
                "-o",
                str(out),
                "-o",
                str(stream),
                "--ca-file",
                str(make_cert().ca),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 90
        while good.port not in _finished_ports(stream):
            assert process.poll() is None and time.monotonic() < deadline, "the good endpoint never finished"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 3, stderr
    report = json.loads(out.read_text())
    assert report["interrupted"] is True
    by_port = {e["port"]: e for e in report["endpoints"]}
    assert by_port[good.port]["protocols"]["TLSv1.2"]["status"] == "accepted"
    assert by_port[silent.port]["protocols"]["TLSv1.2"]["status"] == "unknown"
    assert "interrupted" in by_port[silent.port]["protocols"]["TLSv1.2"]["reason"]
