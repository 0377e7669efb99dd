"""SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning accepts it as is).

One run; one reportingDescriptor per rule seen (stable id, `security-severity`); one result per check that
is not a pass or skipped, at most 25,000 (GitHub's limit; the most severe first, the cut is recorded).
`fail` and `warn` are kind "fail" with a level from the severity (critical/high: error, medium: warning,
low/info: note); `error` (could not be assessed) is kind "open" (level none). Each result carries its own
remediation in its message and its subject as a logical location, and a physical location with a relative
URI, because code scanning drops results without one:

- an endpoint read from a targets file (`RenderOptions.targets_files`): that file and the target's line;
- a runtime: its configuration file when the inspector named one, else its executable, relative to the
  file-system root (`uriBaseId` ROOTPATH, `file:///`);
- anything else: line 1 of `tlsaudit-scope.txt` (ANCHOR_FILE), a file the user keeps in the repository that
  uploads the SARIF (for example the list of what the job scans).

`audit`'s local services are results of the rule `audit.local-service`, one each (level none): a TLS one is
kind "pass" (its findings are its endpoint's results), another protocol "notApplicable" (not judged as
TLS), an unknown one "open" (not assessed: the run exits 3). They come after the findings' results and
count towards the 25,000.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from tlsaudit.counts import tally
from tlsaudit.formats.base import (
    LOCAL_SERVICE_KIND,
    LOCAL_SERVICE_RULE,
    RenderOptions,
    local_service_message,
)
from tlsaudit.report_types import Report

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
MAX_RESULTS = 25_000
ANCHOR_FILE = "tlsaudit-scope.txt"
ROOT_BASE = "ROOTPATH"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
# runtime details that name the file whose setting a finding is about, most specific first
_CONFIG_KEYS = ("config_path", "java_security_path", "openssl_conf", "php_ini", "ssl_conf")

Location = dict[str, Any]


def render(report: Report, options: RenderOptions) -> str:
    lines = _target_lines(options.targets_files)
    runtimes = {(rt.get("source_host", ""), rt["id"]): rt for rt in report["runtimes"]}
    endpoints = {(ep.get("source_host", ""), ep["id"]): ep for ep in report["endpoints"]}
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    problems = tally(report).problem_findings
    services = report.get("local_services", [])
    for finding in problems[:MAX_RESULTS]:
        rule_index = _rule(rules, finding)
        key = (finding.get("source_host", ""), finding["subject"])
        message = finding["message"]
        if finding.get("remediation"):
            message += f"\nRemediation: {finding['remediation']}"
        result: dict[str, Any] = {
            "ruleId": finding["rule_id"],
            "ruleIndex": rule_index,
            "message": {"text": message},
            "locations": [_location(finding, endpoints.get(key), runtimes.get(key), lines)],
            "partialFingerprints": {"tlsauditSubject/v1": _fingerprint(finding)},
            "properties": {
                "status": finding["status"],
                "severity": finding["severity"],
                "subject": finding["subject"],
                "subjectKind": finding["subject_kind"],
            },
        }
        if finding.get("remediation"):
            result["properties"]["remediation"] = finding["remediation"]
        if finding["status"] == "error":
            result["kind"] = "open"
            result["level"] = "none"
        else:
            result["kind"] = "fail"
            result["level"] = "warning" if finding["status"] == "warn" else _LEVEL[finding["severity"]]
        if finding.get("source_host"):
            result["properties"]["sourceHost"] = finding["source_host"]
        results.append(result)
    for service in services[: max(0, MAX_RESULTS - len(results))]:
        results.append(_service_result(rules, service))
    invocation: dict[str, Any] = {"executionSuccessful": True, "endTimeUtc": report["generated_at"]}
    run_properties: dict[str, Any] = {
        "policy": dict(report["policy"]),
        "verdict": report["summary"]["verdict"],
        "counts": dict(report["summary"]["counts"]),
        "anchorFile": ANCHOR_FILE,
    }
    if len(problems) + len(services) > MAX_RESULTS:
        note = (
            f"{len(problems) + len(services)} results, only the first {MAX_RESULTS} (most severe first) "
            "are included; the JSON report has them all"
        )
        invocation["toolExecutionNotifications"] = [{"message": {"text": note}, "level": "warning"}]
        run_properties["truncatedResults"] = len(problems) + len(services) - MAX_RESULTS
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
                "originalUriBaseIds": {ROOT_BASE: {"uri": "file:///"}},
                "invocations": [invocation],
                "results": results,
                "properties": run_properties,
            }
        ],
    }
    # indented when small enough to read; json's fast C encoder only runs without `indent`
    indent = 2 if len(results) <= 1000 else None
    return json.dumps(log, indent=indent, ensure_ascii=False) + "\n"


def _rule(rules: dict[str, dict[str, Any]], finding: Mapping[str, Any]) -> int:
    rule_id = finding["rule_id"]
    if rule_id not in rules:
        help_lines = [finding["title"], "Each result carries the remediation for its own subject."]
        if finding.get("references"):
            help_lines.append("References: " + ", ".join(finding["references"]))
        rule: dict[str, Any] = {
            "id": rule_id,
            "name": rule_id,
            "shortDescription": {"text": finding["title"] or rule_id},
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


_SERVICE_KIND = {"tls": "pass", "not-tls": "notApplicable", "unknown": "open"}


def _service_result(rules: dict[str, dict[str, Any]], service: Mapping[str, Any]) -> dict[str, Any]:
    if LOCAL_SERVICE_RULE not in rules:
        rules[LOCAL_SERVICE_RULE] = {
            "id": LOCAL_SERVICE_RULE,
            "name": LOCAL_SERVICE_RULE,
            "shortDescription": {"text": "Local service looked at by audit"},
            "help": {
                "text": "What a service listening on this machine spoke: TLS (judged as an endpoint), "
                "another protocol (not judged), or unknown (not assessed: the run exits 3)."
            },
            "defaultConfiguration": {"level": "none"},
            "properties": {
                "tags": ["security", "tls", LOCAL_SERVICE_KIND],
                "security-severity": _SECURITY_SEVERITY["info"],
                "severity": "info",
            },
        }
    identity = "\0".join(
        (LOCAL_SERVICE_RULE, LOCAL_SERVICE_KIND, service["address"], service.get("source_host", ""))
    )
    properties: dict[str, Any] = {
        "status": service["status"],
        "subject": service["address"],
        "subjectKind": LOCAL_SERVICE_KIND,
    }
    if service.get("source_host"):
        properties["sourceHost"] = service["source_host"]
    return {
        "ruleId": LOCAL_SERVICE_RULE,
        "ruleIndex": list(rules).index(LOCAL_SERVICE_RULE),
        "kind": _SERVICE_KIND[service["status"]],
        "level": "none",
        "message": {"text": local_service_message(service)},
        "locations": [
            {
                "logicalLocations": [{"name": service["address"], "kind": LOCAL_SERVICE_KIND}],
                "physicalLocation": _physical(ANCHOR_FILE, 1),
            }
        ],
        "partialFingerprints": {"tlsauditSubject/v1": hashlib.sha256(identity.encode("utf-8")).hexdigest()},
        "properties": properties,
    }


def _target_lines(files: Sequence[str]) -> dict[str, tuple[str, int]]:
    """Each target text found in the targets files -> (relative file URI, line number), first one wins."""
    found: dict[str, tuple[str, int]] = {}
    for name in files:
        if name == "-":
            continue
        relative = _relative_uri(Path(name))
        if relative is None:
            continue
        try:
            text = Path(name).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            target = line.split("#", 1)[0].strip()
            if target:
                found.setdefault(target, (relative, number))
    return found


def _relative_uri(path: Path) -> str | None:
    """A file's path relative to the working directory (the repository a CI job runs in), or None."""
    try:
        relative = os.path.relpath(path.resolve(), Path.cwd().resolve())
    except ValueError:
        return None
    if relative.startswith(".."):
        return None
    return PurePosixPath(*Path(relative).parts).as_posix()


def _root_relative(path: str) -> str | None:
    """An absolute path as a URI relative to the file-system root (ROOTPATH), or None."""
    if PurePosixPath(path).is_absolute():
        parts = PurePosixPath(path).parts[1:]
    elif PureWindowsPath(path).is_absolute():
        windows = PureWindowsPath(path)
        parts = (windows.drive.rstrip(":\\/"), *windows.parts[1:])
    else:
        return None
    if not parts:
        return None
    return "/".join(_uri_segment(p) for p in parts)


def _uri_segment(part: str) -> str:
    return quote(part, safe="")


def _physical(uri: str, line: int, base: str | None = None) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    return {"artifactLocation": artifact, "region": {"startLine": line}}


def _location(
    finding: Mapping[str, Any],
    endpoint: Mapping[str, Any] | None,
    runtime: Mapping[str, Any] | None,
    lines: Mapping[str, tuple[str, int]],
) -> Location:
    location: Location = {
        "logicalLocations": [{"name": finding["subject"], "kind": finding["subject_kind"]}],
    }
    physical = None
    if endpoint is not None and endpoint["target"] in lines:
        uri, line = lines[endpoint["target"]]
        physical = _physical(uri, line)
    elif runtime is not None:
        details = runtime.get("details", {})
        candidates = [str(details[k]) for k in _CONFIG_KEYS if isinstance(details.get(k), str)]
        for path in [*candidates, runtime["path"]]:
            relative = _root_relative(path)
            if relative:
                physical = _physical(relative, 1, ROOT_BASE)
                break
    location["physicalLocation"] = physical or _physical(ANCHOR_FILE, 1)
    return location


def _fingerprint(finding: Mapping[str, Any]) -> str:
    identity = "\0".join(
        (finding["rule_id"], finding["subject_kind"], finding["subject"], finding.get("source_host", ""))
    )
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()
