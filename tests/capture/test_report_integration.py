"""Real probe results go through the engine into a schema-valid report that every format renders."""

from __future__ import annotations

import os
from pathlib import Path

from tests.capture.conftest import java17
from tlsaudit.capture.probe import probe_runtimes
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.formats import FORMATS, RenderOptions, render
from tlsaudit.models import FindingStatus
from tlsaudit.report import build_report, schema_errors


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
