"""SARIF written by `scan`, `runtimes` and `audit` themselves (not only rendered from sample reports) is
valid SARIF 2.1.0 and gives every result a physical location with a relative URI, as GitHub code scanning
requires (issue 17, defect 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support.certs import make_cert
from tests.support.servers import python_tls_server, silent_server
from tlsaudit.models import TlsVersion

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@cache
def _validator() -> Any:
    return jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsaudit", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )


def _check(path: Path) -> list[dict[str, Any]]:
    log = json.loads(path.read_text(encoding="utf-8"))
    assert [e.message for e in _validator().iter_errors(log)] == []
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    for result in results:
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        uri = artifact["uri"]
        assert uri and not uri.startswith("/") and "://" not in uri, uri  # relative
        assert location["physicalLocation"]["region"]["startLine"] >= 1
        assert result["partialFingerprints"]
    return results


@pytest.mark.parametrize("command", ["scan", "audit"])
def test_scan_and_audit_write_valid_sarif_with_physical_locations(command: str, tmp_path: Path) -> None:
    ca = ["--ca-file", str(make_cert().ca)]
    with python_tls_server({TlsVersion.TLSv1_0, TlsVersion.TLSv1_2}) as legacy, silent_server() as silent:
        if command == "scan":
            targets = tmp_path / "targets.txt"
            targets.write_text(f"# scanned by CI\n{legacy.target}\n{silent.target}\n", encoding="utf-8")
            args = ["scan", "-f", "targets.txt", "--timeout", "1", "--retries", "0", *ca]
        else:
            args = [
                "audit",
                "--no-runtimes",
                "--local-port",
                str(legacy.port),
                "--local-port",
                str(silent.port),
            ]
            args += ["--timeout", "1", "--retries", "0", *ca]
        done = _run([*args, "-o", "out.sarif"], tmp_path)
    assert done.returncode in (1, 3), done.stderr
    results = _check(tmp_path / "out.sarif")
    assert any(r["kind"] == "fail" for r in results)  # TLS 1.0 accepted
    if command == "scan":  # endpoints point at their line of the targets file
        lines = {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results}
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
        assert uris == {"targets.txt"} and lines == {2, 3}
    else:  # every local service is a result too
        services = [r for r in results if r["ruleId"] == "audit.local-service"]
        assert len(services) == 2


def test_runtimes_writes_valid_sarif_with_physical_locations(tmp_path: Path) -> None:
    done = _run(["runtimes", "--no-system-search", "--python", sys.executable, "-o", "out.sarif"], tmp_path)
    assert done.returncode in (0, 1, 3), done.stderr
    results = _check(tmp_path / "out.sarif")
    for result in results:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact.get("uriBaseId") == "ROOTPATH" or artifact["uri"] == "tlsaudit-scope.txt"
