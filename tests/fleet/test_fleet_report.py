"""The fleet report without Ansible: host results from collector documents and Ansible results, the hosts[]
contract, the exit code, and hosts kept through merging and judging again under another policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tlsaudit.audit import rejudge
from tlsaudit.engine import Unreachable, load_ruleset
from tlsaudit.fleet.assess import (
    HostResult,
    HostStatus,
    assess_ansible_result,
    assess_output,
    fleet_report,
    load_host_file,
)
from tlsaudit.gate import ExitCode, exit_code
from tlsaudit.report import merge_reports, normalized, schema_errors

DATA = Path(__file__).parent.parent / "data" / "fleet"


def _hosts() -> list[HostResult]:
    recorded = [load_host_file(p) for p in sorted(DATA.glob("*.json"))]
    gone = assess_ansible_result(
        "branch-07", {"unreachable": True, "msg": "Failed to connect to the host via ssh: timed out"}
    )
    broken = assess_ansible_result("kiosk-3", {"rc": 0, "stdout": "Traceback (most recent call last):\n..."})
    return [*recorded, gone, broken]


def test_host_results_from_ansible_results_and_collector_output() -> None:
    assert (
        assess_ansible_result("a", {"unreachable": True, "msg": "no route"}).status == HostStatus.UNREACHABLE
    )
    failed = assess_ansible_result("b", {"failed": True, "rc": 127, "msg": "no python3, python2"})
    assert failed.status == HostStatus.COLLECTOR_ERROR and "python" in failed.reason
    assert assess_output("c", '{"format": "other"}').status == HostStatus.COLLECTOR_ERROR
    assert assess_output("d", "not json").reason.startswith("the collector printed no JSON document")


def test_fleet_report_lists_every_host_and_is_not_assessed_in_full() -> None:
    report: dict[str, Any] = dict(fleet_report(load_ruleset(), _hosts()))
    assert schema_errors(report) == []
    status = {h["host"]: h["status"] for h in report["hosts"]}
    assert status == {
        "APP-LEGACY-07": "assessed",
        "LAB-OLD-01": "assessed",
        "WS-FIN-0231": "assessed",
        "branch-07": "unreachable",
        "kiosk-3": "collector-error",
    }
    fleet = report["summary"]["fleet"]
    assert (fleet["hosts"], fleet["assessed"], fleet["unreachable"], fleet["collector_error"]) == (5, 3, 1, 1)
    not_assessed = [f for f in report["findings"] if f["rule_id"] == "fleet.host-not-assessed"]
    assert sorted(f["subject"] for f in not_assessed) == ["branch-07", "kiosk-3"]
    assert all(f["status"] == "error" for f in not_assessed)
    # rule counts: hosts per rule, only assessed hosts' runtime findings
    by_rule = {r["rule_id"]: r for r in fleet["by_rule"]}
    assert "fleet.host-not-assessed" not in by_rule
    assert by_rule["runtime.dotnet.framework-4.5-tls12-off"]["hosts"] == 1
    assert exit_code(report) == ExitCode.FINDINGS  # fails win over not assessed
    # a host not assessed counts under any threshold (its finding is critical), like JUnit marks it
    assert exit_code(report, "critical") == ExitCode.INCOMPLETE
    assert exit_code(report, "never") == ExitCode.OK
    assert report["summary"]["verdict"] == "fail"


def test_only_unreachable_hosts_make_exit_code_3() -> None:
    gone = HostResult(host="h1", status=HostStatus.UNREACHABLE, reason="timed out")
    windows11 = load_host_file(DATA / "windows-11-23h2.json")
    report = fleet_report(load_ruleset(), [windows11, gone])
    assert exit_code(report) == ExitCode.INCOMPLETE
    assert report["summary"]["verdict"] == "error"
    alone = fleet_report(load_ruleset(), [windows11])
    assert exit_code(alone) == ExitCode.OK and alone["summary"]["verdict"] == "pass"


def test_hosts_survive_merging_and_judging_again() -> None:
    first = fleet_report(load_ruleset(), _hosts()[:2])
    second = fleet_report(load_ruleset(), _hosts()[2:])
    merged = merge_reports([json.loads(json.dumps(first)), json.loads(json.dumps(second))])
    assert schema_errors(merged) == []
    assert sorted(h["host"] for h in merged["hosts"]) == sorted(h.host for h in _hosts())
    again = rejudge(merged, load_ruleset("nist-800-52r2"), unreachable=Unreachable.ERROR)
    assert schema_errors(again) == []
    assert [h["host"] for h in again["hosts"]] == [h["host"] for h in normalized(merged)["hosts"]]
    assert {h["host"]: h["status"] for h in again["hosts"]} == {
        h["host"]: h["status"] for h in merged["hosts"]
    }
    for host in again["hosts"]:
        assert [rt["id"] for rt in host["runtimes"]] == [
            rt["id"] for rt in again["runtimes"] if rt.get("source_host") == host["host"]
        ]
    assert again["policy"]["id"] == "nist-800-52r2"


def test_hosts_survive_merging_with_an_endpoint_stream(tmp_path: Path) -> None:
    """`report fleet.json scan.jsonl`: the JSONL path judges everything again and keeps every host."""
    import subprocess
    import sys

    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps(fleet_report(load_ruleset(), _hosts())), encoding="utf-8")
    stream = tmp_path / "scan.jsonl"
    scanned = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "scan", "127.0.0.1:1", "--timeout", "2", "-o", str(stream)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert scanned.returncode == 3, scanned.stderr  # a closed port: not assessed
    merged_path = tmp_path / "merged.json"
    merged = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "report", str(fleet), str(stream), "-o", str(merged_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(merged_path.read_text(encoding="utf-8"))
    assert schema_errors(report) == []
    assert sorted(h["host"] for h in report["hosts"]) == sorted(h.host for h in _hosts())
    assert [e["port"] for e in report["endpoints"]] == [1]
    not_assessed = sorted(
        f["subject"] for f in report["findings"] if f["rule_id"] == "fleet.host-not-assessed"
    )
    assert not_assessed == ["branch-07", "kiosk-3"]
    assert report["summary"]["fleet"]["hosts"] == 5
    assert merged.returncode == 1, merged.stderr  # a dotnet host fails; hosts and the port are not assessed
