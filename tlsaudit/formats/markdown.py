"""Markdown for CI job summaries (GitHub-flavoured tables).

Untrusted text (certificate subjects, banners, paths) is put on one line, its Markdown punctuation is
backslash-escaped and `< > &` become entities, so it can neither break a table nor inject a link or HTML.
"""

from __future__ import annotations

import re
from typing import Any

from tlsaudit.counts import Counts, scope_phrase, tally
from tlsaudit.formats.base import (
    INTERRUPTED_NOTE,
    VERSION_NAMES,
    RenderOptions,
    display_title,
    local_service_words,
    one_line,
    pq_hybrid_label,
    several_sources,
    subject_label,
)
from tlsaudit.formats.fleet_rows import fleet_headline, host_rows, rule_count_lines
from tlsaudit.report_types import Report

_MARKUP = re.compile(r"([\\`*_\[\]|~#!])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
VERDICT_MARK = {
    "pass": "✅ PASS",
    "warn": "⚠️ WARN",
    "fail": "❌ FAIL",
    "error": "⛔ ERROR",
    "skipped": "⏭️ SKIPPED",
}
PROTOCOL_WORD = {"accepted": "accepted", "rejected": "rejected", "unknown": "unknown ❓"}


def md(text: Any) -> str:
    """Inert Markdown for any untrusted value, safe inside a table cell."""
    escaped = _MARKUP.sub(r"\\\1", one_line(str(text)))
    return "".join(_ENTITIES.get(ch, ch) for ch in escaped)


def code(text: Any) -> str:
    """A code span for identifiers: backticks cannot close it early and a pipe cannot split a table cell."""
    return "`" + one_line(str(text)).replace("`", "'").replace("|", "\\|") + "`"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def render(report: Report, options: RenderOptions) -> str:
    summary = report["summary"]
    with_source = several_sources(report)
    policy = report["policy"]
    lines = [
        f"## {VERDICT_MARK[summary['verdict']]}: {md(display_title(report, options))}",
        "",
        f"Policy: **{md(policy['title'] or policy['id'])}** ({code(policy['id'])}), "
        f"generated {md(report['generated_at'])} by tlsaudit {md(report['tool']['version'])}.",
        "",
    ]
    if report.get("interrupted"):
        lines += [f"> **Interrupted:** {INTERRUPTED_NOTE}", ""]
    tallied = tally(report)
    counts = tallied.checks
    lines += _table(
        ["Findings", "fail", "error", "warn", "pass", "skipped"],
        [["count", *(str(counts[k]) for k in ("fail", "error", "warn", "pass", "skipped"))]],
    )
    lines.append("")
    lines.append(f"**Scope:** {md(scope_phrase(tallied))}")
    lines.append("")
    if report["endpoints"]:
        ep = tallied.endpoints
        lines.append(
            f"**Endpoints:** {ep['total']} (fail {ep['fail']}, error {ep['error']}, "
            f"warn {ep['warn']}, pass {ep['pass']}"
            + (f", skipped {ep['skipped']}" if ep["skipped"] else "")
            + ")"
        )
    if report["runtimes"]:
        rt = tallied.runtimes
        lines.append(
            f"**Runtimes:** {rt['total']} (ready {rt['ready']}, ready-with-config {rt['ready-with-config']}, "
            f"needs-upgrade {rt['needs-upgrade']}, unknown {rt['unknown']})"
        )
    lines.append("")
    lines += _endpoints(report, with_source)
    lines += _endpoint_notes(report, with_source)
    lines += _clients(report, with_source)
    lines += _hosts(report)
    lines += _fleet(report)
    lines += _runtimes(report, with_source)
    lines += _local_services(report)
    lines += _findings(tallied, with_source)
    return "\n".join(lines).rstrip("\n") + "\n"


def _fleet(report: Report) -> list[str]:
    if not report.get("hosts"):
        return []
    rows = [
        [
            md(r["host"]),
            md(r["status"]),
            md(r["os"]),
            md(r["runtimes"]),
            md(r["worst"]),
            VERDICT_MARK[r["verdict"]],
        ]
        for r in host_rows(report)
    ]
    counts = [f"- {md(line)}" for line in rule_count_lines(report)]
    return [
        "### Hosts",
        "",
        md(fleet_headline(report)),
        "",
        *_table(["Host", "Status", "OS", "Runtimes", "Worst finding", "Verdict"], rows),
        "",
        *([*counts, ""] if counts else []),
    ]


def _endpoints(report: Report, with_source: bool) -> list[str]:
    if not report["endpoints"]:
        return []
    rows = []
    for ep in report["endpoints"]:
        starttls = f" (STARTTLS {md(ep['starttls'])})" if ep.get("starttls") else ""
        cells = [md(subject_label(ep, with_source)) + starttls]
        cells += [PROTOCOL_WORD[ep["protocols"][v]["status"]] for v in VERSION_NAMES]
        cells.append(VERDICT_MARK[ep["verdict"]])
        rows.append(cells)
    return ["### Endpoints", "", *_table(["Endpoint", *VERSION_NAMES, "Verdict"], rows), ""]


def _endpoint_notes(report: Report, with_source: bool) -> list[str]:
    """Facts beside the version matrix: client-certificate requests, certificates that could not be read."""
    notes = []
    for ep in report["endpoints"]:
        label = md(subject_label(ep, with_source))
        if ep.get("client_certificate"):
            notes.append(f"- {label}: asks for a client certificate ({md(ep['client_certificate'])})")
        if ep.get("certificate_error"):
            notes.append(f"- {label}: certificate not collected: {md(ep['certificate_error'])}")
    return [*notes, ""] if notes else []


def _clients(report: Report, with_source: bool) -> list[str]:
    """Simulated clients per endpoint (scan --clients)."""
    out: list[str] = []
    for ep in report["endpoints"]:
        simulated = ep.get("clients") or []
        if not simulated:
            continue
        rows = []
        for c in simulated:
            detail = (
                f"{c.get('protocol', '')} {c.get('cipher_suite', '')}".strip()
                if c["result"] == "connects"
                else c.get("reason", "")
            )
            rows.append([md(f"{c['name']} {c['version']}"), code(c["client"]), md(c["result"]), md(detail)])
        out += [
            f"### Clients: {md(subject_label(ep, with_source))}",
            "",
            *_table(["Client", "Profile", "Result", "Protocol and suite, or why not"], rows),
            "",
        ]
    return out


def _hosts(report: Report) -> list[str]:
    split = [h for h in report["summary"]["hosts"] if h.get("disagreements")]
    if not split:
        return []
    rows = [
        [md(h["name"]), str(h["port"]), md(", ".join(h["addresses"])), md(", ".join(h["disagreements"]))]
        for h in split
    ]
    return [
        "### Addresses that disagree",
        "",
        *_table(["Name", "Port", "Addresses", "Versions that differ"], rows),
        "",
    ]


def _runtimes(report: Report, with_source: bool) -> list[str]:
    if not report["runtimes"]:
        return []
    rows = [
        [
            md(subject_label(rt, with_source)),
            md(rt["kind"]),
            md(rt.get("version", "unknown")),
            pq_hybrid_label(rt),
            md(rt["readiness"]),
            VERDICT_MARK[rt["verdict"]],
        ]
        for rt in report["runtimes"]
    ]
    header = ["Runtime", "Kind", "Version", "PQ hybrid", "Readiness", "Verdict"]
    return ["### Runtimes", "", *_table(header, rows), ""]


def _local_services(report: Report) -> list[str]:
    services = report.get("local_services", [])
    if not services:
        return []
    rows = [[md(s["address"]), md(s.get("process") or "-"), md(local_service_words(s))] for s in services]
    return ["### Local services looked at", "", *_table(["Address", "Process", "Result"], rows), ""]


def _findings(tallied: Counts, with_source: bool) -> list[str]:
    problems = tallied.problem_findings
    if not problems:
        return ["### Findings", "", "No failing, unassessed or warning findings.", ""]
    rows = [
        [
            md(f["severity"]),
            md(f["status"]),
            code(f["rule_id"]),
            md(subject_label(f, with_source)),
            md(f["message"]),
        ]
        for f in problems
    ]
    lines = ["### Findings", "", *_table(["Severity", "Status", "Rule", "Subject", "Message"], rows), ""]
    lines += ["### Remediation", ""]
    for rule in tallied.rules:
        if not rule.problems:
            continue
        # every finding keeps its own fix: subjects that share a fix are listed under it
        fixes: dict[str, list[str]] = {}
        for f in rule.problems:
            fixes.setdefault(f.get("remediation", ""), []).append(subject_label(f, with_source))
        refs = ", ".join(md(r) for r in rule.references)
        head = f"- **{md(rule.title)}** ({code(rule.rule_id)}, {md(rule.severity)})"
        if len(fixes) == 1:
            text = head + ": " + md(next(iter(fixes)) or "no remediation recorded")
            if refs:
                text += f" References: {refs}"
            lines.append(text)
            continue
        lines.append(head + (f" References: {refs}" if refs else ""))
        for fix, subjects in fixes.items():
            lines.append(f"  - {md(', '.join(subjects))}: {md(fix or 'no remediation recorded')}")
    lines.append("")
    return lines
