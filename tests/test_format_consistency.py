"""What the formats say must agree with the findings: each finding keeps its own remediation, the HTML never
contradicts itself (pass titles, one status per rule and subject, readiness colours, singular and plural),
and SARIF is what GitHub code scanning accepts (physical locations, relative URIs, at most 25,000 results)."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for

from tests.report_samples import WHEN, A, R, U, endpoint, runtimes, sample_report
from tlsaudit.formats import RenderOptions, render
from tlsaudit.formats.html import view_model
from tlsaudit.formats.sarif import ANCHOR_FILE, MAX_RESULTS
from tlsaudit.models import Finding, FindingStatus, Readiness, Severity, SubjectKind
from tlsaudit.report import build_report, normalized

OPTIONS = RenderOptions()
FIX_B = "Turn TLS 1.0 off on the load balancer B (ssl_protocols TLSv1.2 TLSv1.3)."
FIX_C = "Upgrade the appliance C to firmware 9.2, which can turn TLS 1.0 off."


@cache
def sarif_schema() -> dict[str, Any]:
    path = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _finding(
    rule_id: str,
    status: FindingStatus,
    subject: str,
    *,
    remediation: str = "",
    title: str = "TLS 1.0 accepted",
    severity: Severity = Severity.HIGH,
    kind: SubjectKind = SubjectKind.ENDPOINT,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        status=status,
        severity=severity,
        subject=subject,
        subject_kind=kind,
        title=title,
        message=f"{subject}: {status.value}",
        remediation=remediation,
        references=(),
    )


def _three_endpoints_report(findings: list[Finding]) -> dict[str, Any]:
    eps = [
        endpoint("a.example", "192.0.2.1", (U, U, U, U, U, U), errors=("connect timeout",)),
        endpoint("b.example", "192.0.2.2", (R, R, A, A, A, A)),
        endpoint("c.example", "192.0.2.3", (R, R, A, A, A, A)),
    ]
    report: dict[str, Any] = dict(
        build_report(
            policy_id="p",
            policy_title="P",
            endpoints=eps,
            runtimes=[],
            captures=[],
            findings=findings,
            readiness={},
            generated_at=WHEN,
        )
    )
    return report


def _error_first_report() -> dict[str, Any]:
    rule = "endpoint.tls10-accepted"
    return _three_endpoints_report(
        [
            _finding(rule, FindingStatus.ERROR, "a.example:443 (192.0.2.1)"),
            _finding(rule, FindingStatus.FAIL, "b.example:443 (192.0.2.2)", remediation=FIX_B),
            _finding(rule, FindingStatus.FAIL, "c.example:443 (192.0.2.3)", remediation=FIX_C),
        ]
    )


@pytest.mark.parametrize("fmt", ["html", "markdown", "sarif", "text", "csv", "junit"])
def test_every_finding_keeps_its_own_remediation(fmt: str) -> None:
    """Defect 3: the fix was taken from the rule's first finding (here an `error` one, with no fix)."""
    report = _error_first_report()
    assert report["findings"][0]["status"] == "error"  # the error finding comes first
    out = render(report, fmt, OPTIONS)
    if fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        fixes = {r["properties"]["subject"]: r["properties"].get("remediation") for r in results}
        assert fixes == {
            "a.example:443 (192.0.2.1)": None,
            "b.example:443 (192.0.2.2)": FIX_B,
            "c.example:443 (192.0.2.3)": FIX_C,
        }
        assert all(
            FIX_B in r["message"]["text"] for r in results if r["properties"]["subject"].startswith("b.")
        )
        return
    text = out.replace("\\", "")  # Markdown escapes punctuation
    if fmt == "text":
        text = " ".join(text.split())  # the terminal view wraps long lines to the console width
    assert FIX_B in text and FIX_C in text


def test_html_shares_one_remediation_when_every_subject_has_the_same_fix() -> None:
    rule = "endpoint.tls10-accepted"
    report = _three_endpoints_report(
        [
            _finding(rule, FindingStatus.FAIL, "b.example:443 (192.0.2.2)", remediation=FIX_B),
            _finding(rule, FindingStatus.FAIL, "c.example:443 (192.0.2.3)", remediation=FIX_B),
        ]
    )
    html = render(report, "html", OPTIONS)
    assert html.count(FIX_B) == 1


def test_passed_checks_are_titled_as_passes() -> None:
    """Defect 6: the passed list showed the failure title ("TLS 1.0 accepted" under "Checks passed")."""
    rule = "endpoint.tls10-accepted"
    report = _three_endpoints_report(
        [
            _finding(rule, FindingStatus.PASS, "b.example:443 (192.0.2.2)"),
            _finding(rule, FindingStatus.FAIL, "c.example:443 (192.0.2.3)", remediation=FIX_B),
        ]
    )
    html = render(report, "html", OPTIONS)
    passed = html[html.index("<h3>Checks passed</h3>") :]
    passed = passed[: passed.index("</table>")]
    assert "<td>Not found: TLS 1.0 accepted</td>" in passed
    assert "<td>TLS 1.0 accepted</td>" not in passed


def test_a_rule_is_never_failed_and_passed_for_the_same_subject() -> None:
    rule = "endpoint.tls10-accepted"
    subject = "b.example:443 (192.0.2.2)"
    report = _three_endpoints_report(
        [
            _finding(rule, FindingStatus.PASS, subject),
            _finding(rule, FindingStatus.FAIL, subject, remediation=FIX_B),
        ]
    )
    model = view_model(normalized(report), OPTIONS)
    assert model["passed_rules"] == []
    (group,) = model["finding_groups"]
    assert [item["subject"] for item in group["rules"][0]["items"]] == [subject]
    assert model["counts"]["pass"] == 0 and model["counts"]["fail"] == 1
    for fmt in ("json", "markdown", "text"):
        out = render(report, fmt, OPTIONS)
        if fmt == "json":
            assert json.loads(out)["summary"]["counts"]["pass"] == 0


def _runtime_report(readiness: Readiness, status: FindingStatus) -> dict[str, Any]:
    rts = runtimes()[:1]
    findings = [
        _finding(
            "runtime.java.tls12-off",
            status,
            rts[0].subject,
            kind=SubjectKind.RUNTIME,
            title="TLS 1.2 off for clients",
            remediation="Set jdk.tls.client.protocols=TLSv1.2.",
        )
    ]
    return dict(
        build_report(
            policy_id="p",
            policy_title="P",
            endpoints=[],
            runtimes=rts,
            captures=[],
            findings=findings,
            readiness={rts[0].subject: readiness},
            generated_at=WHEN,
        )
    )


@pytest.mark.parametrize(
    ("readiness", "status", "css"),
    [
        (Readiness.READY_WITH_CONFIG, FindingStatus.FAIL, "rd-ready-with-config"),
        (Readiness.READY, FindingStatus.FAIL, "rd-neutral"),
        (Readiness.READY, FindingStatus.PASS, "rd-ready"),
    ],
)
def test_readiness_colour_is_never_greener_than_the_verdict(
    readiness: Readiness, status: FindingStatus, css: str
) -> None:
    html = render(_runtime_report(readiness, status), "html", OPTIONS)
    assert f'class="readiness {css}"' in html
    stylesheet = (Path(__file__).parents[1] / "reports" / "report.css").read_text(encoding="utf-8")
    rule = re.search(r"\.rd-ready-with-config \{([^}]*)\}", stylesheet)
    assert rule and "--pass" not in rule.group(1) and "var(--warn" in rule.group(1)


def test_singular_and_plural_and_host_names() -> None:
    one = dict(
        build_report(
            policy_id="p",
            policy_title="P",
            endpoints=[endpoint("a.example", "192.0.2.1", (R, R, R, R, A, A))],
            runtimes=[],
            captures=[],
            findings=[],
            readiness={},
            generated_at=WHEN,
        )
    )
    html = render(one, "html", OPTIONS)
    assert "1 endpoint on 1 host name" in html and "1 endpoints" not in html
    assert "endpoint assessed" in html
    two_names = sample_report()  # four endpoints: shop (two addresses), api, legacy
    html = render(two_names, "html", OPTIONS)
    assert "4 endpoints on 3 host names" in html
    markdown = render(two_names, "markdown", OPTIONS)
    assert "4 endpoints on 3 host names" in markdown


# ---------------------------------------------------------------- SARIF


def _assert_code_scanning_ready(log: dict[str, Any]) -> None:
    validator_for(sarif_schema())(sarif_schema()).validate(log)
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(run["results"]) <= MAX_RESULTS
    for rule in run["tool"]["driver"]["rules"]:
        assert float(rule["properties"]["security-severity"]) > 0
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["partialFingerprints"]
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        uri = artifact["uri"]
        assert not uri.startswith("/") and "://" not in uri and not uri.startswith(".."), uri
        assert location["physicalLocation"]["region"]["startLine"] >= 1
        if "uriBaseId" in artifact:
            assert artifact["uriBaseId"] in run["originalUriBaseIds"]


def test_sarif_has_a_relative_physical_location_for_every_result() -> None:
    """Defect 7: results had only logical locations, which GitHub code scanning rejects."""
    log = json.loads(render(sample_report(), "sarif", OPTIONS))
    _assert_code_scanning_ready(log)
    uris = {
        r["properties"]["subjectKind"]: r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris["endpoint"] == ANCHOR_FILE  # no targets file given: the documented anchor file
    assert uris["runtime"].startswith("usr/")


def test_sarif_points_endpoints_at_their_targets_file_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ci").mkdir()
    targets = tmp_path / "ci" / "targets.txt"
    targets.write_text("# fleet\napi.example.com\n\nshop.example.com  # two addresses\n", encoding="utf-8")
    options = RenderOptions(targets_files=(str(targets),))
    log = json.loads(render(sample_report(), "sarif", options))
    _assert_code_scanning_ready(log)
    lines = {
        r["properties"]["subject"].split(":")[0]: r["locations"][0]["physicalLocation"]
        for r in log["runs"][0]["results"]
        if r["properties"]["subjectKind"] == "endpoint"
    }
    assert lines["shop.example.com"] == {
        "artifactLocation": {"uri": "ci/targets.txt"},
        "region": {"startLine": 4},
    }
    assert lines["legacy.example.com"]["artifactLocation"]["uri"] == ANCHOR_FILE


def test_sarif_keeps_at_most_25000_results_most_severe_first() -> None:
    report = sample_report()
    many = copy.deepcopy(report["findings"][0])
    many.update(status="fail", severity="low", rule_id="endpoint.many")
    extra = []
    for i in range(MAX_RESULTS + 10):
        item = dict(many)
        item["subject"] = f"host{i}.example:443 (192.0.2.1)"
        extra.append(item)
    report["findings"] = report["findings"] + extra
    log = json.loads(render(report, "sarif", OPTIONS))
    run = log["runs"][0]
    assert len(run["results"]) == MAX_RESULTS
    sample = copy.deepcopy(log)
    sample["runs"][0]["results"] = run["results"][:: MAX_RESULTS // 50]  # schema checks are slow: a sample
    _assert_code_scanning_ready(sample)
    assert run["properties"]["truncatedResults"] > 0
    assert run["invocations"][0]["toolExecutionNotifications"]
    severities = [r["properties"]["severity"] for r in run["results"]]
    assert "critical" in severities or "high" in severities  # the cut drops the least severe
