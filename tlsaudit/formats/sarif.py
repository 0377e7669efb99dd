"""SARIF 2.1.0 for code-scanning dashboards.

One run; one reportingDescriptor per rule seen; one result per finding that is not a pass or skipped.
`fail` and `warn` are kind "fail" with a level from the severity (critical/high: error, medium: warning,
low/info: note); `error` (could not be assessed) is kind "open" (level none). Each result names its subject as
a logical location (endpoint, runtime or capture); a runtime also carries its path as a physical location.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from tlsaudit.formats.base import RenderOptions, Report

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def _file_uri(path: str) -> str | None:
    """An absolute file URI for a runtime path, or None when the path is not absolute."""
    if PurePosixPath(path).is_absolute():
        return PurePosixPath(path).as_uri()
    if PureWindowsPath(path).is_absolute():
        return PureWindowsPath(path).as_uri()
    return None


def render(report: Report, options: RenderOptions) -> str:
    runtime_paths = {(rt.get("source_host", ""), rt["id"]): rt["path"] for rt in report["runtimes"]}
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for finding in report["findings"]:
        if finding["status"] not in ("fail", "warn", "error"):
            continue
        rule_index = _rule(rules, finding)
        result: dict[str, Any] = {
            "ruleId": finding["rule_id"],
            "ruleIndex": rule_index,
            "message": {"text": f"{finding['message']}"},
            "locations": [_location(finding, runtime_paths)],
            "partialFingerprints": {"tlsauditSubject/v1": _fingerprint(finding)},
            "properties": {
                "status": finding["status"],
                "severity": finding["severity"],
                "subject": finding["subject"],
                "subjectKind": finding["subject_kind"],
            },
        }
        if finding["status"] == "error":
            result["kind"] = "open"
            result["level"] = "none"
        else:
            result["kind"] = "fail"
            result["level"] = "warning" if finding["status"] == "warn" else _LEVEL[finding["severity"]]
        if finding.get("source_host"):
            result["properties"]["sourceHost"] = finding["source_host"]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tlsaudit",
                        "version": report["tool"]["version"],
                        "semanticVersion": report["tool"]["version"],
                        "rules": list(rules.values()),
                    }
                },
                "automationDetails": {"id": f"tlsaudit/{report['policy']['id']}/"},
                "invocations": [{"executionSuccessful": True, "endTimeUtc": report["generated_at"]}],
                "results": results,
                "properties": {
                    "policy": report["policy"],
                    "verdict": report["summary"]["verdict"],
                    "counts": report["summary"]["counts"],
                },
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(rules: dict[str, dict[str, Any]], finding: dict[str, Any]) -> int:
    rule_id = finding["rule_id"]
    if rule_id not in rules:
        help_lines = [finding.get("remediation") or "No remediation recorded."]
        if finding.get("references"):
            help_lines.append("References: " + ", ".join(finding["references"]))
        rule: dict[str, Any] = {
            "id": rule_id,
            "name": rule_id,
            "shortDescription": {"text": finding["title"]},
            "help": {"text": "\n".join(help_lines)},
            "defaultConfiguration": {"level": _LEVEL[finding["severity"]]},
            "properties": {
                "tags": ["security", "tls", finding["subject_kind"]],
                "security-severity": _SECURITY_SEVERITY[finding["severity"]],
                "severity": finding["severity"],
            },
        }
        links = [r for r in finding.get("references", []) if r.startswith("https://")]
        if links:
            rule["helpUri"] = links[0]
        rules[rule_id] = rule
    return list(rules).index(rule_id)


def _location(finding: dict[str, Any], runtime_paths: dict[tuple[str, str], str]) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [{"name": finding["subject"], "kind": finding["subject_kind"]}],
    }
    if finding["subject_kind"] == "runtime":
        path = runtime_paths.get((finding.get("source_host", ""), finding["subject"]))
        uri = _file_uri(path) if path else None
        if uri:
            location["physicalLocation"] = {"artifactLocation": {"uri": uri}}
    return location


def _fingerprint(finding: dict[str, Any]) -> str:
    identity = "\0".join(
        (finding["rule_id"], finding["subject_kind"], finding["subject"], finding.get("source_host", ""))
    )
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()
