"""The fleet parts of a report, recomputed from its facts and findings: each host's runtimes, verdict and
worst finding, and the per-rule host counts ("37 hosts run a JDK with TLS 1.0 pinned"). Pure; called by
tlsaudit.report.finalize whenever a report has `hosts[]`."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

_VERDICT_RANK = {"pass": 0, "warn": 1, "error": 2, "fail": 3}
_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
NOT_PASSING = ("fail", "warn", "error")


def _rank(finding: Mapping[str, Any]) -> tuple[int, int]:
    return (_VERDICT_RANK[finding["status"]], _SEVERITY_RANK[finding["severity"]])


HOST_NOT_ASSESSED = "fleet.host-not-assessed"
_STATUS_WORDS = {"unreachable": "unreachable", "collector-error": "the collector failed"}


def host_findings(report: MutableMapping[str, Any]) -> None:
    """One `error` finding (not assessed) for each host that was not assessed, so the exit code (3), JUnit,
    SARIF and CSV all show it (critical: under any --fail-on but `never`); recomputed from `hosts[]` each
    time. Mutates `report`."""
    report["findings"] = [f for f in report.get("findings", []) if f["rule_id"] != HOST_NOT_ASSESSED]
    for host in report.get("hosts", []):
        if host["status"] == "assessed":
            continue
        reason = host.get("reason") or _STATUS_WORDS[host["status"]]
        report["findings"].append(
            {
                "rule_id": HOST_NOT_ASSESSED,
                "status": "error",
                "severity": "critical",  # nothing is known about the host: counts under every --fail-on
                "subject": host["host"],
                "subject_kind": "runtime",
                "title": "Fleet host not assessed",
                "message": f"{host['host']}: {_STATUS_WORDS[host['status']]}: {reason}",
                "remediation": "Make the host reachable by Ansible (inventory, SSH key, user) and give it "
                "Python 2.7+ (Linux/Unix) or PowerShell (Windows), then run tlsaudit fleet again.",
                "source_host": host["host"],
            }
        )


def finalize_hosts(report: MutableMapping[str, Any]) -> None:
    """Fill every host's `runtimes`, `verdict` and `worst_finding` from the report's runtimes and findings
    (matched by `source_host`), and sort the hosts by name. Mutates `report`."""
    hosts: list[dict[str, Any]] | None = report.get("hosts")
    if hosts is None:
        return
    runtimes: dict[str, list[dict[str, Any]]] = {}
    for rt in report.get("runtimes", []):
        runtimes.setdefault(rt.get("source_host", ""), []).append(rt)
    findings: dict[str, list[Mapping[str, Any]]] = {}
    for f in report.get("findings", []):
        if f["status"] in NOT_PASSING and f["subject_kind"] == "runtime":
            findings.setdefault(f.get("source_host", ""), []).append(f)
    for host in hosts:
        name = host["host"]
        host["runtimes"] = [dict(rt) for rt in runtimes.get(name, [])]
        mine = findings.get(name, [])
        host.pop("worst_finding", None)
        if mine:
            worst = max(mine, key=_rank)
            host["worst_finding"] = {
                k: worst[k] for k in ("rule_id", "status", "severity", "title", "subject")
            }
        if host["status"] != "assessed":
            host["verdict"] = "error"
            continue
        verdicts = [rt["verdict"] for rt in host["runtimes"]] + [f["status"] for f in mine]
        if host.get("errors"):
            verdicts.append("error")
        host["verdict"] = max(verdicts, key=_VERDICT_RANK.__getitem__) if verdicts else "pass"
    hosts.sort(key=lambda h: h["host"].lower())


def fleet_summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """How many hosts were assessed, and per runtime rule and status how many hosts and runtimes have it."""
    hosts: Sequence[Mapping[str, Any]] = report.get("hosts", [])
    names = {h["host"] for h in hosts}
    kinds = {(rt.get("source_host", ""), rt["id"]): rt["kind"] for rt in report.get("runtimes", [])}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for f in report.get("findings", []):
        host = f.get("source_host", "")
        if f["status"] not in NOT_PASSING or f["subject_kind"] != "runtime" or host not in names:
            continue
        if f["rule_id"] == HOST_NOT_ASSESSED:
            continue
        entry = groups.setdefault(
            (f["rule_id"], f["status"]),
            {
                "title": f["title"],
                "severity": f["severity"],
                "kinds": set(),
                "hosts": set(),
                "runtimes": set(),
            },
        )
        entry["hosts"].add(host)
        entry["runtimes"].add((host, f["subject"]))
        kind = kinds.get((host, f["subject"]))
        if kind:
            entry["kinds"].add(kind)
    by_rule = [
        {
            "rule_id": rule_id,
            "title": e["title"],
            "status": status,
            "severity": e["severity"],
            "kinds": sorted(e["kinds"]),
            "hosts": len(e["hosts"]),
            "runtimes": len(e["runtimes"]),
        }
        for (rule_id, status), e in groups.items()
    ]
    by_rule.sort(key=lambda r: (-r["hosts"], -_VERDICT_RANK[r["status"]], r["rule_id"]))
    return {
        "hosts": len(hosts),
        "assessed": sum(1 for h in hosts if h["status"] == "assessed"),
        "unreachable": sum(1 for h in hosts if h["status"] == "unreachable"),
        "collector_error": sum(1 for h in hosts if h["status"] == "collector-error"),
        "by_rule": by_rule,
    }
