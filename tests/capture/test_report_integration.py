"""Real probe results go through the engine into a schema-valid report that every format renders."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from tests.capture.conftest import java17
from tlsaudit.capture.probe import probe_runtimes
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.formats import FORMATS, RenderOptions, render
from tlsaudit.models import FindingStatus
from tlsaudit.report import build_report, schema_errors
from tlsaudit.tls.client_hello_parse import parse_client_hello


def test_pinned_jdk_report_carries_the_contradiction(tmp_path: Path) -> None:
    jdk = java17()
    policy = tmp_path / "policy.toml"
    policy.write_text('[policy]\nid = "capture-only"\ntitle = "Capture rules"\ninclude = ["capture.*"]\n')
    env = {**os.environ, "JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"}
    captures = probe_runtimes([jdk], timeout=30, env=env)
    ruleset = load_ruleset(policy)
    evaluation = evaluate(ruleset, runtimes=[jdk], captures=captures)
    contradictions = [f for f in evaluation.findings if f.rule_id == "capture.contradicts-version-table"]
    assert len(contradictions) == 2
    assert {f.status for f in contradictions} == {FindingStatus.FAIL}
    report = build_report(
        policy_id=ruleset.policy.id,
        policy_title=ruleset.policy.title,
        endpoints=[],
        runtimes=[jdk],
        captures=captures,
        findings=evaluation.findings,
        readiness=evaluation.readiness,
    )
    assert schema_errors(report) == []
    assert report["summary"]["verdict"] == "fail"
    assert {c["client_result"].split(":")[0] for c in report["captures"]} == {
        "FAIL javax.net.ssl.SSLHandshakeException"
    }
    for name in FORMATS:
        if name == "jsonl":
            continue  # one line per endpoint, and this report has none
        text = render(report, name, RenderOptions())
        assert "java HttpsURLConnection" in text, name


TLSAUDIT = (sys.executable, "-m", "tlsaudit")
AS_JSON = ("--format", "json", "-o", "-", "-q")


def test_runtimes_probe_json_keeps_each_clients_exact_hello(tmp_path: Path) -> None:
    """Issue 13, item 1: `runtimes --probe` keeps the exact ClientHello bytes each client sent, as hex in
    the JSON, next to the parsed facts and the client's name, and its runtime with its version."""
    done = subprocess.run(
        [*TLSAUDIT, "runtimes", "--probe", "--no-system-search", "--python", sys.executable, *AS_JSON],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout)
    (runtime,) = report["runtimes"]
    (capture,) = report["captures"]
    assert capture["client"] == "python urllib" and capture["runtime"] == runtime["id"]
    assert runtime["version"] == platform.python_version()
    hello = bytes.fromhex(capture["raw_hello"])
    assert hello[:1] == b"\x16"  # a TLS record, as sent
    parsed = parse_client_hello(hello)
    assert parsed.wire_length == len(hello)
    assert list(capture["versions_offered"]) == list(parsed.versions_offered)
