"""The terminal view: endpoint x version table in words, runtime table, problems with their remediation,
and the verdict line. Colour (ANSI) only when asked, i.e. when the stream is a terminal; every colour is
doubled by a word, and untrusted text has its control characters replaced so it cannot drive the terminal.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence

from tlsaudit.counts import tally
from tlsaudit.formats.base import (
    INTERRUPTED_NOTE,
    LEGACY_NAMES,
    VERSION_NAMES,
    RenderOptions,
    display_title,
    one_line,
    several_sources,
    subject_label,
    tls_library_label,
)
from tlsaudit.formats.session_facts import SESSION_COLUMNS, session_row
from tlsaudit.report_types import Report

_RESET = "\x1b[0m"
_COLOURS = {"red": "\x1b[31m", "green": "\x1b[32m", "yellow": "\x1b[33m", "dim": "\x1b[2m", "bold": "\x1b[1m"}
VERDICT_COLOUR = {"pass": "green", "warn": "yellow", "fail": "red", "error": "red"}
READINESS_COLOUR = {"ready": "green", "ready-with-config": "yellow", "needs-upgrade": "red", "unknown": "red"}
STATUS_COLOUR = {"fail": "red", "error": "red", "warn": "yellow", "pass": "green", "skipped": "dim"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, colour: str | None) -> str:
        if not self.color or colour is None:
            return text
        return f"{_COLOURS[colour]}{text}{_RESET}"


def protocol_colour(version: str, status: str) -> str:
    if status == "unknown":
        return "yellow"
    if status == "accepted":
        return "red" if version in LEGACY_NAMES else "green"
    return "green" if version in LEGACY_NAMES else "dim"


def _table(
    header: Sequence[str], rows: Sequence[Sequence[tuple[str, str | None]]], paint: _Painter
) -> list[str]:
    widths = [_width(h) for h in header]
    for row in rows:
        for i, (text, _) in enumerate(row):
            widths[i] = max(widths[i], _width(text))
    lines = ["  ".join(h + " " * (widths[i] - _width(h)) for i, h in enumerate(header)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [
            paint(text, colour) + " " * (widths[i] - _width(text)) for i, (text, colour) in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def render(report: Report, options: RenderOptions) -> str:
    paint = _Painter(options.color)
    with_source = several_sources(report)
    policy = report["policy"]
    lines = [
        paint(one_line(display_title(report, options)), "bold"),
        f"Policy: {one_line(policy['title'] or policy['id'])} ({one_line(policy['id'])})   "
        f"Generated: {report['generated_at']}",
        "",
    ]
    if report["endpoints"]:
        rows = []
        for ep in report["endpoints"]:
            row: list[tuple[str, str | None]] = [(one_line(subject_label(ep, with_source)), None)]
            for version in VERSION_NAMES:
                status = ep["protocols"][version]["status"]
                row.append((status, protocol_colour(version, status)))
            row.append((ep["verdict"].upper(), VERDICT_COLOUR[ep["verdict"]]))
            rows.append(row)
        lines += ["Endpoints", *_table(["Endpoint", *VERSION_NAMES, "Verdict"], rows, paint), ""]
        for host in report["summary"]["hosts"]:
            if host.get("disagreements"):
                lines.append(
                    f"Note: the addresses of {one_line(host['name'])}:{host['port']} disagree on "
                    f"{', '.join(host['disagreements'])} ({one_line(', '.join(host['addresses']))})"
                )
        if any(h.get("disagreements") for h in report["summary"]["hosts"]):
            lines.append("")
    lines += _session_facts(report, paint, with_source)
    if report["runtimes"]:
        rows = [
            [
                (one_line(subject_label(rt, with_source)), None),
                (one_line(rt.get("version", "unknown")), None),
                (one_line(tls_library_label(rt) or "-"), None),
                (rt["readiness"], READINESS_COLOUR[rt["readiness"]]),
                (rt["verdict"].upper(), VERDICT_COLOUR[rt["verdict"]]),
            ]
            for rt in report["runtimes"]
        ]
        headers = ["Runtime", "Version", "TLS library", "Readiness", "Verdict"]
        lines += ["Runtimes", *_table(headers, rows, paint), ""]
    lines += _problems(report, paint, with_source)
    if report.get("interrupted"):
        lines.append(paint(INTERRUPTED_NOTE, "yellow"))
    lines.append(_verdict_line(report, paint))
    return "\n".join(lines) + "\n"


def _session_facts(report: Report, paint: _Painter, with_source: bool) -> list[str]:
    rows = []
    for ep in report["endpoints"]:
        words = session_row(ep)
        if words is not None:
            label = one_line(subject_label(ep, with_source))
            rows.append([(label, None), *((one_line(words[k]), None) for k in SESSION_COLUMNS)])
    if not rows:
        return []
    headers = ["Endpoint", "HSTS", "OCSP stapling", "Certificate lifetime", "Revocation"]
    return ["HSTS, OCSP stapling and certificate lifetime", *_table(headers, rows, paint), ""]


def _problems(report: Report, paint: _Painter, with_source: bool) -> list[str]:
    problems = tally(report).problem_findings
    if not problems:
        return []
    lines = ["Findings"]
    for finding in problems:
        status = finding["status"]
        subject = subject_label(finding, with_source)
        head = f"{status.upper():5} {finding['severity']:8} {finding['rule_id']}  {subject}"
        lines.append(paint(one_line(head), STATUS_COLOUR[status]))
        lines += _wrapped(finding["message"], "      ")
        if finding.get("remediation"):
            lines += _wrapped("Fix: " + finding["remediation"], "      ")
        if finding.get("references"):
            lines += _wrapped("See: " + ", ".join(finding["references"]), "      ")
    lines.append("")
    return lines


def _wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        one_line(text), width=108, initial_indent=indent, subsequent_indent=indent + "  "
    ) or [indent]


def verdict_line(report: Report, color: bool = False) -> str:
    """The one-line verdict (also printed on stderr when the report goes to files)."""
    return _verdict_line(report, _Painter(color))


def _verdict_line(report: Report, paint: _Painter) -> str:
    counts = tally(report).checks
    verdict = report["summary"]["verdict"]
    detail = ", ".join(f"{counts[k]} {k}" for k in ("fail", "error", "warn", "pass", "skipped"))
    return paint(f"Verdict: {verdict.upper()}", VERDICT_COLOUR[verdict]) + f"  ({detail})"
