"""HTML: one self-contained file for a client's management (inline CSS and SVG, nothing fetched).

The template (`reports/report.html.j2`) and stylesheet (`reports/report.css`) are shipped data. Jinja2 runs
with autoescape, and a Content-Security-Policy forbids every script, so attacker-controlled text (certificate
subjects, banners, paths) stays inert text. A logo is checked (PNG, JPEG or SVG) and embedded as an <img>
data URI: an image loaded that way never runs script, even an SVG one.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from tlsaudit.counts import Counts, passed_title, plural, scope_phrase, tally
from tlsaudit.data import reports_dir
from tlsaudit.errors import UsageError
from tlsaudit.formats.base import (
    INTERRUPTED_NOTE,
    LEGACY_NAMES,
    PROBLEM_STATUSES,
    SEVERITIES,
    VERSION_NAMES,
    RenderOptions,
    display_assessor,
    display_client,
    display_title,
    local_service_words,
    pq_hybrid_label,
    several_sources,
    strip_controls,
    subject_label,
    tls_library_label,
)
from tlsaudit.formats.fleet_rows import fleet_headline, host_rows, rule_count_lines
from tlsaudit.formats.key_exchange_rows import key_exchange_rows
from tlsaudit.formats.session_facts import session_row
from tlsaudit.report_types import Report

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_EVIDENCE_CHARS = 4000
VERDICT_WORDS = {
    "pass": "Compliant",
    "warn": "Compliant, with warnings",
    "fail": "Not compliant",
    "error": "Incomplete: some checks could not be assessed",
    "skipped": "Not assessed: every subject was ignored (--unreachable ignore)",
}
READINESS_WORDS = {
    "ready": "Ready",
    "ready-with-config": "Ready with configuration",
    "needs-upgrade": "Needs upgrade",
    "unknown": "Unknown",
}
_CERTIFICATE_DEFAULTS: dict[str, Any] = {
    "san": [],
    "not_after": "",
    "days_left": None,
    "expired": None,
    "key_type": "",
    "key_bits": None,
    "signature_algorithm": "",
    "signature_hash": "",
    "trusted": None,
    "trust_error": "",
    "hostname_match": None,
}
_SVG_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!DOCTYPE[^>]*>\s*)?<svg[\s>]", re.DOTALL | re.I
)


class LogoError(UsageError):
    """The logo file cannot be embedded."""


def logo_data_uri(path: Path) -> str:
    """A data URI for a PNG, JPEG or SVG logo, recognised by content (not by name)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LogoError(f"cannot read logo {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(f"logo {path} is larger than {MAX_LOGO_BYTES // 1024} KiB")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    elif _SVG_START.match(data.lstrip(b"\xef\xbb\xbf")):
        mime = "image/svg+xml"
    else:
        raise LogoError(f"logo {path} is not a PNG, JPEG or SVG image")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _clean(value: Any) -> Any:
    """Every value the template prints: control characters (escape sequences, NUL) become U+FFFD."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_controls(value)
    return value


def breakable(value: Any) -> Markup:
    """Escaped text with line-break opportunities after dots and colons, for long host names in tables."""
    escaped = str(escape(strip_controls(str(value))))
    return Markup(escaped.replace(".", ".<wbr>").replace(":", ":<wbr>"))  # noqa: S704 (escaped first)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(reports_dir())),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_clean,
    )
    env.filters["breakable"] = breakable
    return env


def render(report: Report, options: RenderOptions) -> str:
    env = _environment()
    css = (reports_dir() / "report.css").read_text(encoding="utf-8")
    template = env.get_template("report.html.j2")
    return template.render(
        css=Markup(css.replace("</", "<\\/")),  # noqa: S704 (our own stylesheet, cannot close <style>)
        logo=logo_data_uri(options.logo) if options.logo else None,
        **view_model(report, options),
    )


def view_model(report: Report, options: RenderOptions) -> dict[str, Any]:
    """Everything the template shows, prepared from the report alone; every number from `tally`."""
    summary = report["summary"]
    counts = tally(report)
    with_source = several_sources(report)
    scope = report.get("scope", {})
    return {
        "title": display_title(report, options),
        "client": display_client(report, options),
        "assessor": display_assessor(report, options),
        "date": _human_date(report["generated_at"]),
        "generated_at": report["generated_at"],
        "tool_version": report["tool"]["version"],
        "policy": report["policy"],
        "source_hosts": list(scope.get("hosts", [])),
        "verdict": summary["verdict"],
        "verdict_words": VERDICT_WORDS[summary["verdict"]],
        "verdict_sentence": _verdict_sentence(counts),
        "scope_phrase": scope_phrase(counts),
        "tiles": _tiles(counts),
        "interrupted_note": INTERRUPTED_NOTE if report.get("interrupted") else "",
        "summary": summary,
        "counts": counts.checks,
        "chart": readiness_chart(counts),
        "versions": VERSION_NAMES,
        "legacy_versions": LEGACY_NAMES,
        "endpoint_rows": [_endpoint_row(ep, with_source) for ep in report["endpoints"]],
        "key_exchange_rows": key_exchange_rows(report, with_source),
        "hosts": summary["hosts"],
        "disagreeing_hosts": [h for h in summary["hosts"] if h.get("disagreements")],
        "runtimes": [_runtime_row(rt, with_source) for rt in report["runtimes"]],
        "fleet_hosts": host_rows(report),
        "fleet_headline": fleet_headline(report),
        "fleet_counts": rule_count_lines(report),
        "captures": [
            {"negotiated_version": "", "outcome": "", **cap, "label": subject_label(cap, with_source)}
            for cap in report["captures"]
        ],
        "finding_groups": _finding_groups(counts, with_source),
        "top_issues": _top_issues(counts),
        "passed_rules": _passed_rules(counts),
        "readiness_words": READINESS_WORDS,
        "certificates": [
            {**_CERTIFICATE_DEFAULTS, **ep["certificate"], "label": subject_label(ep, with_source)}
            for ep in report["endpoints"]
            if "certificate" in ep
        ],
        "session_rows": [
            {**words, "label": subject_label(ep, with_source)}
            for ep in report["endpoints"]
            if (words := session_row(ep)) is not None
        ],
        "suite_groups": _suite_groups(report["endpoints"], with_source),
        "local_services": [
            {**s, "process": s.get("process", ""), "words": local_service_words(s)}
            for s in report.get("local_services", [])
        ],
        "collection_errors": _collection_errors(report, with_source),
        "evidence": [
            {"label": subject_label(rt, with_source), "items": [_clip_evidence(e) for e in rt["evidence"]]}
            for rt in report["runtimes"]
            if rt.get("evidence")
        ],
    }


def _human_date(stamp: str) -> str:
    try:
        when = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return stamp
    return f"{when.day} {when:%B %Y}"


def _verdict_sentence(counts: Counts) -> str:
    ep, rt = counts.endpoints, counts.runtimes
    parts = []
    if ep["total"]:
        parts.append(
            f"{ep['fail']} of {plural(ep['total'], 'endpoint')} failed the policy"
            + (f", {ep['error']} could not be assessed" if ep["error"] else "")
            + (f", {ep['skipped']} unreachable and ignored" if ep["skipped"] else "")
        )
    if rt["total"]:
        parts.append(
            f"{rt['ready']} of {plural(rt['total'], 'client runtime')} ready as installed"
            + (
                f", {rt['needs-upgrade']} need{'s' if rt['needs-upgrade'] == 1 else ''} an upgrade"
                if rt["needs-upgrade"]
                else ""
            )
        )
    if not parts:
        return "Nothing was assessed."
    return "; ".join(parts) + "."


def _tiles(counts: Counts) -> list[dict[str, Any]]:
    """The summary tiles: a number and a label that agrees with it in number."""
    ep, rt = counts.endpoints, counts.runtimes

    def tile(n: int, singular: str, plural_label: str, css: str = "") -> dict[str, Any]:
        return {"n": n, "label": singular if n == 1 else plural_label, "css": css}

    return [
        tile(ep["total"], "endpoint assessed", "endpoints assessed"),
        tile(ep["fail"], "endpoint failing", "endpoints failing", "tile-fail"),
        tile(rt["total"], "client runtime", "client runtimes"),
        tile(rt["needs-upgrade"], "runtime needs an upgrade", "runtimes need an upgrade", "tile-fail"),
        tile(counts.checks["error"], "check not assessed", "checks not assessed", "tile-error"),
    ]


def _protocol_class(version: str, status: str) -> str:
    if status == "unknown":
        return "unknown"
    legacy = version in LEGACY_NAMES
    if status == "accepted":
        return "bad" if legacy else "good"
    return "good-muted" if legacy else "neutral"


def _endpoint_row(ep: Mapping[str, Any], with_source: bool) -> dict[str, Any]:
    cells = []
    for version in VERSION_NAMES:
        result = ep["protocols"][version]
        cells.append(
            {
                "status": result["status"],
                "reason": result.get("reason", ""),
                "css": _protocol_class(version, result["status"]),
            }
        )
    return {
        "label": subject_label(ep, with_source),
        "target": ep["target"],
        "sni": ep.get("sni", ""),
        "starttls": ep.get("starttls", ""),
        "client_certificate": ep.get("client_certificate", ""),
        "certificate_error": ep.get("certificate_error", ""),
        "cells": cells,
        "verdict": ep["verdict"],
        "clients": [
            {
                "label": f"{c['name']} {c['version']}",
                "profile": c["client"],
                "result": c["result"],
                "detail": (
                    f"{c.get('protocol', '')} {c.get('cipher_suite', '')}".strip()
                    if c["result"] == "connects"
                    else c.get("reason", "")
                ),
            }
            for c in ep.get("clients", [])
        ],
    }


def _runtime_row(rt: Mapping[str, Any], with_source: bool) -> dict[str, Any]:
    return {
        "label": subject_label(rt, with_source),
        "kind": rt["kind"],
        "path": rt["path"],
        "version": rt.get("version", ""),
        "tls_library": tls_library_label(rt),
        "pq_hybrid": pq_hybrid_label(rt),
        "readiness": rt["readiness"],
        "readiness_css": readiness_css(rt["readiness"], rt["verdict"]),
        "verdict": rt["verdict"],
        "details": rt.get("details", {}),
        "errors": rt.get("errors", []),
    }


def readiness_css(readiness: str, verdict: str) -> str:
    """The colour class of a readiness word: never greener than the runtime's verdict next to it."""
    if readiness == "ready" and verdict in ("fail", "error"):
        return "rd-neutral"
    if readiness == "ready" and verdict == "warn":
        return "rd-ready-with-config"
    return f"rd-{readiness}"


_STATUS_HEAD = {"fail": "failed", "error": "not assessed", "warn": "warning"}


def _finding_groups(counts: Counts, with_source: bool) -> list[dict[str, Any]]:
    """Problems by severity, then by rule. Each subject once (its worst status), with its own remediation;
    a remediation shared by every subject of the rule is shown once at the top of the card."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for rule in counts.rules:
        problems = rule.problems
        if not problems:
            continue
        fixes = list(dict.fromkeys(f.get("remediation", "") for f in problems))
        shared = fixes[0] if len(fixes) == 1 else ""
        items = [
            {
                "subject": subject_label(f, with_source),
                "message": f["message"],
                "status": f["status"],
                "remediation": "" if shared else f.get("remediation", ""),
            }
            for f in problems
        ]
        tallies = [
            {"status": status, "count": rule.count(status), "words": _STATUS_HEAD[status]}
            for status in PROBLEM_STATUSES
            if rule.count(status)
        ]
        groups.setdefault(rule.severity, []).append(
            {
                "rule_id": rule.rule_id,
                "title": rule.title,
                "remediation": shared,
                "references": list(rule.references),
                "status": problems[0]["status"],
                "tallies": tallies,
                "items": items,
            }
        )
    return [
        {"severity": severity, "rules": groups[severity]} for severity in SEVERITIES if severity in groups
    ]


def _suite_groups(endpoints: Sequence[Mapping[str, Any]], with_source: bool) -> list[dict[str, Any]]:
    """Endpoints that accept exactly the same suites share one entry: fleets share configurations."""
    groups: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        if not ep.get("cipher_suites"):
            continue
        # optional keys get their defaults here: the template never meets a missing key (a single-suite
        # scan has no server order to report)
        suites = [
            {"classes": [], "server_preference": False, "errors": [], **cs} for cs in ep["cipher_suites"]
        ]
        key = json.dumps(suites, sort_keys=True)
        groups.setdefault(key, {"suites": suites, "labels": []})["labels"].append(
            subject_label(ep, with_source)
        )
    return list(groups.values())


def _top_issues(counts: Counts) -> list[dict[str, Any]]:
    """The failing rules for the executive summary: most severe first, then most widespread."""
    failing = [r for r in counts.rules if r.count("fail")]
    ranked = sorted(failing, key=lambda r: (SEVERITIES.index(r.severity), -r.count("fail"), r.title))
    return [{"title": r.title, "severity": r.severity, "count": r.count("fail")} for r in ranked[:8]]


def _passed_rules(counts: Counts) -> list[dict[str, Any]]:
    """Rules that passed, titled as passes, counting subjects that passed (never one that failed)."""
    return [
        {"rule_id": r.rule_id, "title": passed_title(r.title), "count": r.count("pass")}
        for r in sorted(counts.rules, key=lambda r: r.rule_id)
        if r.count("pass")
    ]


def _collection_errors(report: Report, with_source: bool) -> list[dict[str, Any]]:
    out = []
    for list_name in ("endpoints", "runtimes", "captures"):
        for item in report[list_name]:
            if item.get("errors"):
                out.append({"label": subject_label(item, with_source), "errors": item["errors"]})
    return out


def _clip(text: str) -> str:
    if len(text) <= MAX_EVIDENCE_CHARS:
        return text
    return (
        text[:MAX_EVIDENCE_CHARS]
        + f"\n… ({len(text) - MAX_EVIDENCE_CHARS} more characters in the JSON report)"
    )


def _clip_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "command": " ".join(evidence["argv"]),
        "exit_code": evidence.get("exit_code"),
        "stdout": _clip(evidence.get("stdout", "")),
        "stderr": _clip(evidence.get("stderr", "")),
        "note": evidence.get("note", ""),
    }


# ---------------------------------------------------------------- the readiness chart (inline SVG)

_CHART_COLOURS = {
    "pass": "#2f855a",
    "warn": "#b7791f",
    "error": "#6b7280",
    "skipped": "#9ca3af",
    "fail": "#c53030",
    "ready": "#2f855a",
    "ready-with-config": "#b7791f",
    "needs-upgrade": "#c53030",
    "unknown": "#6b7280",
}
_CHART_LABELS = {
    "pass": "pass",
    "warn": "warn",
    "error": "not assessed",
    "skipped": "ignored",
    "fail": "fail",
    "ready": "ready",
    "ready-with-config": "ready with config",
    "needs-upgrade": "needs upgrade",
    "unknown": "unknown",
}


def readiness_chart(counts: Counts) -> Markup:
    """Stacked bars (endpoints by verdict, runtimes by readiness), each segment labelled in words."""
    bars: list[tuple[str, list[tuple[str, int]]]] = []
    ep = counts.endpoints
    if ep["total"]:
        bars.append(("Endpoints", [(k, ep[k]) for k in ("pass", "warn", "skipped", "error", "fail")]))
    rt = counts.runtimes
    if rt["total"]:
        bars.append(
            (
                "Client runtimes",
                [(k, rt[k]) for k in ("ready", "ready-with-config", "unknown", "needs-upgrade")],
            )
        )
    if not bars:
        return Markup("")
    width, label_w, bar_h, gap = 640, 130, 26, 40
    bar_w = width - label_w - 10
    height = len(bars) * (bar_h + gap) + 4
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="Readiness chart">'
    ]
    for row, (name, segments) in enumerate(bars):
        y = row * (bar_h + gap) + 2
        total = sum(n for _, n in segments) or 1
        parts.append(f'<text x="0" y="{y + bar_h / 2 + 5}" class="chart-name">{escape(name)}</text>')
        x = float(label_w)
        legend_x = float(label_w)
        for key, count in segments:
            if count:
                w = bar_w * count / total
                colour = _CHART_COLOURS[key]
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                    f"<title>{count} {escape(_CHART_LABELS[key])}</title></rect>"
                )
                if w > 28:
                    mid, base = x + w / 2, y + bar_h / 2 + 5
                    parts.append(f'<text x="{mid:.1f}" y="{base}" class="chart-count">{count}</text>')
                x += w
            if count:
                legend = f"{count} {_CHART_LABELS[key]}"
                parts.append(
                    f'<rect x="{legend_x:.1f}" y="{y + bar_h + 8}" width="10" height="10" '
                    f'fill="{_CHART_COLOURS[key]}"></rect>'
                    f'<text x="{legend_x + 14:.1f}" y="{y + bar_h + 17}" class="chart-legend">'
                    f"{escape(legend)}</text>"
                )
                legend_x += 14 + 7.2 * len(legend) + 16
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (numbers and escaped words only)
