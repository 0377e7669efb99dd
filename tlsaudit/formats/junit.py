"""JUnit XML for CI test tabs: a test suite per host, a test case per rule and subject.

Suites: one per scanned host name and port for endpoints, one per machine for runtimes and captures.
A finding that makes the exit code 1 (a `fail`, or a `warn` under `--fail-on warn`: `RenderOptions.fails`)
is a <failure>; `error` (could not be assessed, exit code 3) an <error>; `skipped` a <skipped>; any other
problem passes with its text in <system-out>. So the test tab fails exactly when the exit code does.

`audit`'s local services get a suite per machine ("local services on HOST"), a test case each: a TLS one
passes (its findings are in its endpoint's suite), another protocol is <skipped> (not judged as TLS), and
an unknown one is an <error> (not assessed: it makes the run exit 3).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from tlsaudit.counts import tally
from tlsaudit.formats.base import (
    LOCAL_SERVICE_RULE,
    RenderOptions,
    finding_fails,
    local_service_message,
    strip_controls,
)
from tlsaudit.report_types import Report

_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _x(text: Any) -> str:
    """Text XML 1.0 can carry: no control characters, surrogates or U+FFFE/U+FFFF, even escaped."""
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", strip_controls(str(text)))


def _suite_names(report: Report) -> dict[tuple[str, str, str], str]:
    """Suite name for each subject key (kind, source host, id)."""
    names: dict[tuple[str, str, str], str] = {}
    for ep in report["endpoints"]:
        host = f"[{ep['host']}]" if ":" in ep["host"] else ep["host"]
        names[("endpoint", ep.get("source_host", ""), ep["id"])] = f"{host}:{ep['port']}"
    for rt in report["runtimes"]:
        machine = rt.get("host") or rt.get("source_host") or "local"
        names[("runtime", rt.get("source_host", ""), rt["id"])] = f"runtimes on {machine}"
    for cap in report["captures"]:
        names[("capture", cap.get("source_host", ""), cap["id"])] = (
            f"captures on {cap.get('source_host') or 'local'}"
        )
    return names


def render(report: Report, options: RenderOptions) -> str:
    names = _suite_names(report)
    suites: dict[str, list[Mapping[str, Any]]] = {}
    for finding in tally(report).findings:
        key = (finding["subject_kind"], finding.get("source_host", ""), finding["subject"])
        suites.setdefault(names.get(key, finding["subject"]), []).append(finding)
    root = ET.Element("testsuites", name=f"tlsaudit {_x(report['policy']['id'])}")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite_name in sorted(suites):
        findings = suites[suite_name]
        suite = ET.SubElement(root, "testsuite", name=_x(suite_name), timestamp=report["generated_at"][:19])
        counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
        for finding in findings:
            counts["tests"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                name=_x(f"{finding['rule_id']}: {finding['subject']}"),
                classname=_x(finding["rule_id"]),
                time="0",
            )
            detail = _detail(finding)
            status = finding["status"]
            if finding_fails(finding, options):
                counts["failures"] += 1
                ET.SubElement(
                    case, "failure", message=_x(finding["message"]), type=finding["severity"]
                ).text = detail
            elif status == "error":
                counts["errors"] += 1
                ET.SubElement(
                    case, "error", message=_x(finding["message"]), type="not-assessed"
                ).text = detail
            elif status == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=_x(finding["message"]))
            elif status in ("warn", "fail"):
                word = "WARNING" if status == "warn" else "FAILED (not gating under --fail-on)"
                ET.SubElement(case, "system-out").text = f"{word}: {detail}"
        for name, value in counts.items():
            suite.set(name, str(value))
            totals[name] += value
    for name, value in _local_services(root, report).items():
        totals[name] += value
    for name, value in totals.items():
        root.set(name, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _local_services(root: ET.Element, report: Report) -> dict[str, int]:
    """A suite per machine with one case per local service `audit` looked at; returns the counts."""
    machines: dict[str, list[Mapping[str, Any]]] = {}
    for service in report.get("local_services", []):
        machines.setdefault(service.get("source_host") or "local", []).append(service)
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for machine in sorted(machines):
        suite = ET.SubElement(
            root, "testsuite", name=_x(f"local services on {machine}"), timestamp=report["generated_at"][:19]
        )
        counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
        for listed in machines[machine]:
            counts["tests"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                name=_x(f"{LOCAL_SERVICE_RULE}: {listed['address']}"),
                classname=LOCAL_SERVICE_RULE,
                time="0",
            )
            message = _x(local_service_message(listed))
            if listed["status"] == "unknown":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=message, type="not-assessed").text = message
            elif listed["status"] == "not-tls":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=message)
            else:
                ET.SubElement(case, "system-out").text = message
        for name, value in counts.items():
            suite.set(name, str(value))
            totals[name] += value
    return totals


def _detail(finding: Mapping[str, Any]) -> str:
    lines = [
        f"{finding['title']} [{finding['severity']}]",
        f"Subject: {finding['subject']}",
        finding["message"],
    ]
    if finding.get("remediation"):
        lines.append(f"Remediation: {finding['remediation']}")
    if finding.get("references"):
        lines.append("References: " + ", ".join(finding["references"]))
    return _x("\n".join(lines))
