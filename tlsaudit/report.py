"""Assemble the report document (the JSON contract) from facts and findings; recompute its summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tlsaudit import __version__
from tlsaudit.models import CaptureFacts, EndpointFacts, Finding, Readiness, RuntimeFacts, to_json

SCHEMA_VERSION = "1.0"
STATUS_RANK = {"fail": 3, "error": 2, "warn": 1, "pass": 0, "skipped": 0}


def verdict_of(statuses: Sequence[str]) -> str:
    worst = max((STATUS_RANK.get(s, 0) for s in statuses), default=0)
    return {3: "fail", 2: "error", 1: "warn", 0: "pass"}[worst]


def build_report(
    *,
    policy_id: str,
    policy_title: str,
    endpoints: Sequence[EndpointFacts],
    runtimes: Sequence[RuntimeFacts],
    captures: Sequence[CaptureFacts],
    findings: Sequence[Finding],
    readiness: Mapping[str, Readiness],
    scope: Mapping[str, Any] | None = None,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    when = (generated_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "tlsaudit", "version": __version__},
        "generated_at": when.isoformat().replace("+00:00", "Z"),
        "policy": {"id": policy_id, "title": policy_title},
    }
    if scope:
        report["scope"] = dict(scope)
    report["endpoints"] = [
        {"id": ep.subject, **to_json(ep)} for ep in sorted(endpoints, key=lambda e: (e.host, e.port, e.ip))
    ]
    report["runtimes"] = [
        {"id": rt.subject, **to_json(rt), "readiness": readiness.get(rt.subject, Readiness.UNKNOWN).value}
        for rt in sorted(runtimes, key=lambda r: (r.kind, r.path))
    ]
    report["captures"] = [{"id": cap.subject, **to_json(cap)} for cap in captures]
    severity_rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    report["findings"] = sorted(
        (to_json(f) for f in findings),
        key=lambda f: (severity_rank[f["severity"]], f["rule_id"], f["subject"]),
    )
    report["summary"] = summarize(report)
    return report


def summarize(report: Mapping[str, Any]) -> dict[str, Any]:
    findings = report.get("findings", [])
    counts = {s: 0 for s in ("pass", "fail", "warn", "error", "skipped")}
    by_subject: dict[str, list[str]] = {}
    for f in findings:
        counts[f["status"]] += 1
        by_subject.setdefault(f["subject"], []).append(f["status"])
    for section in ("endpoints", "runtimes", "captures"):
        for item in report.get(section, []):
            item["verdict"] = verdict_of(by_subject.get(item["id"], []))
    endpoint_counts = {"total": len(report.get("endpoints", []))}
    for key in ("pass", "fail", "warn", "error"):
        endpoint_counts[key] = sum(1 for e in report.get("endpoints", []) if e["verdict"] == key)
    runtime_counts = {"total": len(report.get("runtimes", []))}
    for r in Readiness:
        runtime_counts[r.value] = sum(
            1 for rt in report.get("runtimes", []) if rt.get("readiness") == r.value
        )
    return {
        "verdict": verdict_of([f["status"] for f in findings]),
        "counts": counts,
        "endpoints": endpoint_counts,
        "runtimes": runtime_counts,
        "hosts": _hosts(report.get("endpoints", [])),
    }


def _hosts(endpoints: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for ep in endpoints:
        groups.setdefault((ep["host"], ep["port"]), []).append(ep)
    hosts = []
    for (name, port), members in sorted(groups.items()):
        disagreements = []
        for version in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"):
            statuses = {m["protocols"].get(version, {}).get("status") for m in members}
            if len(statuses) > 1:
                disagreements.append(version)
        entry: dict[str, Any] = {
            "name": name,
            "port": port,
            "addresses": [m["ip"] for m in members],
            "verdict": verdict_of([m["verdict"] for m in members]),
        }
        if disagreements:
            entry["disagreements"] = disagreements
        hosts.append(entry)
    return hosts
