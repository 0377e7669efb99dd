"""The report model: building, verdicts, host roll-up, merge, loading and the schema contract."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tests.report_samples import (
    WHEN,
    A,
    R,
    U,
    big_report,
    endpoint,
    endpoint_findings,
    finding,
    hostile_report,
    runtime_findings,
    runtimes,
    sample_report,
)
from tlsaudit import data
from tlsaudit.errors import ReportInputError
from tlsaudit.models import (
    CaptureFacts,
    CertificateInfo,
    CipherSuiteResult,
    EndpointFacts,
    Evidence,
    Finding,
    FindingStatus,
    Readiness,
    RuntimeFacts,
    Severity,
    SubjectKind,
)
from tlsaudit.report import (
    build_report,
    load_report,
    merge_reports,
    report_schema,
    schema_errors,
    summarize,
    validate_report,
)


def _build(**kwargs: object) -> dict:  # type: ignore[type-arg]
    args: dict[str, object] = {
        "policy_id": "p",
        "policy_title": "P",
        "endpoints": [],
        "runtimes": [],
        "captures": [],
        "findings": [],
        "readiness": {},
        "generated_at": WHEN,
    }
    args.update(kwargs)
    return dict(build_report(**args))  # type: ignore[arg-type]


# ---------------------------------------------------------------- building and the schema


def test_sample_reports_follow_the_schema() -> None:
    for report in (
        sample_report(),
        sample_report(source_host=None, scope={}),
        hostile_report(),
        big_report(30),
    ):
        assert schema_errors(report) == []


def test_report_top_level_shape() -> None:
    report = sample_report()
    assert report["schema_version"] == "1.0"
    assert report["tool"]["name"] == "tlsaudit"
    assert report["generated_at"] == "2026-11-26T02:00:00Z"
    assert report["policy"] == {"id": "sage-intacct-2018", "title": "Sage Intacct: TLS 1.2 or later (2018)"}
    assert report["scope"]["hosts"] == ["build-01"]
    assert report["scope"]["client"] == "Example Corp"


def test_optional_keys_are_omitted_never_null() -> None:
    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                assert item is not None
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    report = sample_report(source_host=None, scope={})
    walk(report)
    assert "scope" not in report
    assert all("source_host" not in ep for ep in report["endpoints"])


def test_every_protocol_version_is_present_and_missing_ones_are_unknown() -> None:
    ep = endpoint("a.example", "192.0.2.1", (R, R, R, R, A, A))
    partial = dataclasses.replace(ep, protocols={k: v for k, v in ep.protocols.items() if k.value != "SSLv2"})
    report = _build(endpoints=[partial])
    protocols = report["endpoints"][0]["protocols"]
    assert list(protocols) == ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    assert protocols["SSLv2"] == {"status": "unknown", "reason": "not probed", "reason_code": "not-probed"}
    assert protocols["TLSv1.0"] == {"status": "rejected", "reason": "alert handshake_failure"}


def test_schema_rejects_drift() -> None:
    report = sample_report()
    broken = copy.deepcopy(report)
    broken["endpoints"][0]["protocols"]["TLSv1.0"]["status"] = "maybe"
    assert any("TLSv1.0" in e for e in schema_errors(broken))
    broken = copy.deepcopy(report)
    broken["findings"][0]["remediation"] = None
    assert schema_errors(broken)
    broken = copy.deepcopy(report)
    del broken["summary"]["verdict"]
    assert schema_errors(broken)
    with pytest.raises(ReportInputError, match="not a valid tlsaudit report"):
        validate_report(broken)


def test_schema_knows_every_model_field() -> None:
    """A field added to a model must be added to the public contract too, or saved reports stop loading."""
    defs = report_schema()["$defs"]
    pairs = [
        (EndpointFacts, "endpoint"),
        (CertificateInfo, "certificate"),
        (CipherSuiteResult, "cipher_suite_result"),
        (RuntimeFacts, "runtime"),
        (Evidence, "evidence"),
        (CaptureFacts, "capture"),
        (Finding, "finding"),
    ]
    # RuntimeFacts.pins is listed as details.pins in the contract
    elsewhere: dict[tuple[str, str], Any] = {
        ("RuntimeFacts", "pins"): defs["runtime"]["properties"]["details"]["properties"]
    }
    for model, name in pairs:
        missing = {
            f.name
            for f in dataclasses.fields(model)
            if f.name not in elsewhere.get((model.__name__, f.name), defs[name]["properties"])
        }
        assert not missing, f"{model.__name__} fields missing from $defs/{name}: {missing}"


# ---------------------------------------------------------------- verdicts and summary


def test_verdict_order_fail_over_error_over_warn_over_pass() -> None:
    ep = endpoint("a.example", "192.0.2.1", (R, R, R, R, A, A))
    cases = [
        ([FindingStatus.PASS, FindingStatus.WARN, FindingStatus.ERROR, FindingStatus.FAIL], "fail"),
        ([FindingStatus.PASS, FindingStatus.WARN, FindingStatus.ERROR], "error"),
        ([FindingStatus.PASS, FindingStatus.WARN, FindingStatus.SKIPPED], "warn"),
        ([FindingStatus.PASS, FindingStatus.SKIPPED], "pass"),
    ]
    for statuses, expected in cases:
        findings = [finding(f"endpoint.r{i}", s, Severity.LOW, ep.subject) for i, s in enumerate(statuses)]
        report = _build(endpoints=[ep], findings=findings)
        assert report["endpoints"][0]["verdict"] == expected
        assert report["summary"]["verdict"] == expected


def test_nothing_assessed_is_never_a_pass() -> None:
    assert _build()["summary"]["verdict"] == "error"
    unreachable = endpoint("down.example", "192.0.2.9", (U, U, U, U, U, U), errors=("connect timeout",))
    report = _build(endpoints=[unreachable])
    assert report["endpoints"][0]["verdict"] == "error"
    assert report["summary"]["verdict"] == "error"
    assert report["summary"]["endpoints"]["error"] == 1


def test_summary_counts() -> None:
    summary = sample_report()["summary"]
    assert summary["counts"] == {"pass": 7, "fail": 4, "warn": 4, "error": 3, "skipped": 0}
    assert summary["endpoints"] == {"total": 4, "pass": 0, "fail": 2, "warn": 1, "error": 1, "skipped": 0}
    assert summary["runtimes"] == {
        "total": 2,
        "ready": 1,
        "ready-with-config": 0,
        "needs-upgrade": 1,
        "unknown": 0,
    }
    assert summary["verdict"] == "fail"


def test_runtime_without_readiness_is_unknown() -> None:
    report = _build(runtimes=runtimes())
    assert [rt["readiness"] for rt in report["runtimes"]] == ["unknown", "unknown"]
    assert report["summary"]["runtimes"]["unknown"] == 2


def test_host_rollup_groups_addresses_and_names_disagreements() -> None:
    hosts = {h["name"]: h for h in sample_report()["summary"]["hosts"]}
    shop = hosts["shop.example.com"]
    assert shop["addresses"] == ["192.0.2.10", "2001:db8::10"]
    assert shop["disagreements"] == ["TLSv1.0"]
    assert shop["verdict"] == "fail"
    assert "disagreements" not in hosts["api.example.com"]
    assert hosts["legacy.example.com"]["verdict"] == "error"


def test_stable_order_whatever_the_input_order() -> None:
    eps = [
        endpoint("b.example", "2001:db8::2", (R, R, R, R, A, A)),
        endpoint("b.example", "192.0.2.2", (R, R, R, R, A, A)),
        endpoint("a.example", "192.0.2.1", (R, R, R, R, A, A), port=8443),
        endpoint("a.example", "192.0.2.1", (R, R, R, R, A, A)),
    ]
    findings = [f for ep in eps for f in endpoint_findings(ep)]
    one = _build(endpoints=eps, findings=findings)
    two = _build(endpoints=list(reversed(eps)), findings=list(reversed(findings)))
    assert one == two
    assert [(e["host"], e["port"], e["ip"]) for e in one["endpoints"]] == [
        ("a.example", 443, "192.0.2.1"),
        ("a.example", 8443, "192.0.2.1"),
        ("b.example", 443, "192.0.2.2"),
        ("b.example", 443, "2001:db8::2"),
    ]
    severities = [f["severity"] for f in one["findings"]]
    order = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=order.index)


def test_summarize_recomputes_from_findings() -> None:
    report = sample_report()
    for f in report["findings"]:
        if f["status"] == "fail":
            f["status"] = "pass"
    summary = summarize(report)
    assert summary["counts"]["fail"] == 0
    assert summary["counts"]["pass"] == 11


# ---------------------------------------------------------------- merge


def _runtime_report(host: str, when_minute: int, *, php_ready: bool) -> dict:  # type: ignore[type-arg]
    rts = runtimes()
    findings = runtime_findings(rts)
    if php_ready:
        findings[1] = dataclasses.replace(findings[1], status=FindingStatus.PASS, readiness=None)
    return dict(
        build_report(
            policy_id="sage-intacct-2018",
            policy_title="Sage Intacct",
            endpoints=[],
            runtimes=rts,
            captures=[],
            findings=findings,
            readiness={
                rts[0].subject: Readiness.READY,
                rts[1].subject: Readiness.READY if php_ready else Readiness.NEEDS_UPGRADE,
            },
            generated_at=WHEN.replace(minute=when_minute),
            source_host=host,
        )
    )


def test_merge_three_reports_keeps_hosts_apart_and_recomputes_the_summary() -> None:
    scan = sample_report(source_host="scanner", scope={"title": "Fleet", "client": "Example Corp"})
    web1 = _runtime_report("web-01", 10, php_ready=False)
    web2 = _runtime_report("web-02", 20, php_ready=True)
    merged = merge_reports([web1, scan, web2])
    assert schema_errors(merged) == []
    assert merged["scope"]["hosts"] == ["scanner", "web-01", "web-02"]
    assert merged["scope"]["title"] == "Fleet"
    assert merged["generated_at"] == web2["generated_at"]
    # two hosts x two runtimes, plus the scan's own two runtimes
    assert merged["summary"]["runtimes"] == {
        "total": 6,
        "ready": 4,
        "ready-with-config": 0,
        "needs-upgrade": 2,
        "unknown": 0,
    }
    assert merged["summary"]["endpoints"]["total"] == 4
    sources = {(rt["source_host"], rt["id"]): rt["verdict"] for rt in merged["runtimes"]}
    assert sources[("web-01", "php /usr/bin/php5.6")] == "fail"
    assert sources[("web-02", "php /usr/bin/php5.6")] == "pass"
    expected_counts = {k: 0 for k in ("pass", "fail", "warn", "error", "skipped")}
    for source in (scan, web1, web2):
        for key, value in source["summary"]["counts"].items():
            expected_counts[key] += value
    assert merged["summary"]["counts"] == expected_counts
    assert merged["summary"]["verdict"] == "fail"


def test_merge_removes_identical_duplicates() -> None:
    report = sample_report()
    merged = merge_reports([report, copy.deepcopy(report), copy.deepcopy(report)])
    assert merged["endpoints"] == report["endpoints"]
    assert merged["findings"] == report["findings"]
    assert merged["summary"] == report["summary"]


def test_merge_keeps_the_most_recent_result_for_the_same_subject() -> None:
    old = _runtime_report("web-01", 10, php_ready=False)
    new = _runtime_report("web-01", 40, php_ready=True)
    merged = merge_reports([new, old])
    assert merged["summary"]["runtimes"]["needs-upgrade"] == 0
    assert merged["summary"]["counts"]["fail"] == 0
    assert len(merged["runtimes"]) == 2


def test_merge_keeps_the_interrupted_flag() -> None:
    stopped = sample_report(source_host="scanner")
    stopped["interrupted"] = True
    merged = merge_reports([stopped, _runtime_report("web-01", 10, php_ready=True)])
    assert merged["interrupted"] is True
    assert schema_errors(merged) == []
    assert "interrupted" not in merge_reports(
        [sample_report(), _runtime_report("web-01", 10, php_ready=True)]
    )


def test_merge_refuses_different_policies() -> None:
    other = sample_report()
    other["policy"] = {"id": "pci-dss-3.2", "title": "PCI"}
    with pytest.raises(ReportInputError, match="different policies"):
        merge_reports([sample_report(), other])
    with pytest.raises(ReportInputError):
        merge_reports([])


def test_merging_a_merge_is_stable() -> None:
    a = sample_report(source_host="scanner")
    b = _runtime_report("web-01", 10, php_ready=False)
    once = merge_reports([a, b])
    assert merge_reports([once, a, b]) == once


# ---------------------------------------------------------------- loading


def test_load_report_round_trip(tmp_path: Path) -> None:
    report = sample_report()
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert load_report(path) == report


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"schema_version": "1.0"}', "not a valid tlsaudit report"),
        ("[]", "not a valid tlsaudit report"),
        ('{"schema_version": "2.0"}', "schema_version"),
    ],
)
def test_load_report_rejects_bad_input_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportInputError, match=message) as info:
        load_report(path)
    assert str(path) in str(info.value)


def test_load_report_missing_or_binary_file(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="cannot read"):
        load_report(tmp_path / "absent.json")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ReportInputError):
        load_report(binary)


# ---------------------------------------------------------------- data folders


def test_data_dirs_found_in_a_checkout() -> None:
    assert (data.reports_dir() / "report.html.j2").is_file()
    assert (data.reports_dir() / "report.css").is_file()
    assert data.report_schema_path().is_file()
    assert data.rules_dir().is_dir()


def test_data_dir_prefers_the_wheel_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site" / "tlsaudit"
    (package / "_data" / "reports").mkdir(parents=True)
    monkeypatch.setattr(data, "_PACKAGE_DIR", package)
    assert data.reports_dir() == package / "_data" / "reports"
    with pytest.raises(data.DataNotFoundError, match="rules"):
        data.rules_dir()


def test_finding_subject_kinds_are_checked() -> None:
    rts = runtimes()
    report = _build(
        runtimes=rts,
        findings=[
            finding("runtime.x", FindingStatus.FAIL, Severity.HIGH, rts[0].subject, SubjectKind.RUNTIME)
        ],
        readiness={rts[0].subject: Readiness.NEEDS_UPGRADE},
    )
    verdicts = {rt["id"]: rt["verdict"] for rt in report["runtimes"]}
    assert verdicts == {rts[0].subject: "fail", rts[1].subject: "pass"}


def test_findings_are_written_as_the_generic_serialisation_writes_them() -> None:
    """build_report spells a finding's JSON out field by field (it is the hot path): it must stay what
    to_json gives, optional fields omitted, for every shape of finding."""
    from tlsaudit.models import to_json
    from tlsaudit.report import _finding_json

    base = Finding(
        rule_id="endpoint.x",
        status=FindingStatus.FAIL,
        severity=Severity.HIGH,
        subject="h:443",
        subject_kind=SubjectKind.ENDPOINT,
        title="T",
        message="",
    )
    shapes = [
        base,
        dataclasses.replace(base, message="m", remediation="fix it", references=("RFC 8996",)),
        dataclasses.replace(base, readiness=Readiness.NEEDS_UPGRADE, status=FindingStatus.ERROR, title=""),
    ]
    for item in shapes:
        assert _finding_json(item, None) == to_json(item)
        assert list(_finding_json(item, None)) == list(to_json(item))  # and in the same key order
        assert _finding_json(item, "vm") == {**to_json(item), "source_host": "vm"}


def test_a_fresh_report_is_already_normalized() -> None:
    """The CLI writes make_report's report without normalising it again: it must already be what
    normalized() would make of it, whatever the input order."""
    from tlsaudit.report import normalized

    for report in (sample_report(), big_report(), hostile_report()):
        assert normalized(report) == report
