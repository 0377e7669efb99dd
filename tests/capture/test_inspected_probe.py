"""From the inspectors' RuntimeFacts to findings: the version tables (runtime rules) against the wire.

`.curlrc` is a pin the inspectors do not read: the tables call curl ready, the handshake shows TLS 1.1
at most, and `capture.contradicts-version-table` fails. `JAVA_TOOL_OPTIONS` is one they do read: the
tables already say ready-with-config, so the observation agrees with them."""

from __future__ import annotations

import os
from pathlib import Path

from tests.capture.conftest import java17, named
from tlsaudit.capture import probe_runtimes
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.inspectors.base import InspectOptions
from tlsaudit.inspectors.discover import inspect_runtimes
from tlsaudit.models import FindingStatus, Readiness


def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[policy]\nid = "probe"\ntitle = "Runtimes and captures"\ninclude = ["runtime.*", "capture.*"]\n'
    )
    return path


def test_curlrc_pin_contradicts_the_version_table(tmp_path: Path) -> None:
    curl = named("curl", "curl")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".curlrc").write_text("--tls-max 1.1\n")
    env = {**os.environ, "HOME": str(home)}
    runtimes = inspect_runtimes(
        InspectOptions(kinds=("curl",), extra_paths={"curl": [curl.path]}, search_system=False, environ=env)
    )
    assert [rt.kind for rt in runtimes] == ["curl"]
    captures = probe_runtimes(runtimes, timeout=30, env=env)
    result = evaluate(load_ruleset(policy(tmp_path)), runtimes=runtimes, captures=captures)
    assert result.readiness[runtimes[0].subject] == Readiness.READY
    found = {f.rule_id: f for f in result.findings if f.subject_kind.value == "capture"}
    assert found["capture.contradicts-version-table"].status == FindingStatus.FAIL
    assert "TLSv1.1" in found["capture.contradicts-version-table"].message
    assert found["capture.no-tls12-offered"].status == FindingStatus.FAIL


def test_java_tool_options_pin_agrees_with_tables_that_saw_it(tmp_path: Path) -> None:
    jdk = java17()
    env = {**os.environ, "JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"}
    runtimes = inspect_runtimes(
        InspectOptions(kinds=("java",), extra_paths={"java": [jdk.path]}, search_system=False, environ=env)
    )
    assert len(runtimes) == 1
    captures = probe_runtimes(runtimes, timeout=30, env=env)
    result = evaluate(load_ruleset(policy(tmp_path)), runtimes=runtimes, captures=captures)
    assert result.readiness[runtimes[0].subject] == Readiness.READY_WITH_CONFIG
    capture_findings = [f for f in result.findings if f.subject_kind.value == "capture"]
    statuses = {(f.rule_id, f.status) for f in capture_findings}
    assert ("capture.no-tls12-offered", FindingStatus.FAIL) in statuses
    assert ("capture.contradicts-version-table", FindingStatus.PASS) in statuses
