"""The terminal view: endpoint x version table, runtimes, failing findings, verdict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

VERSIONS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
SHOWN = {"fail", "error", "warn"}


def render_text(report: Mapping[str, Any]) -> str:
    lines: list[str] = []
    endpoints = report.get("endpoints", [])
    if endpoints:
        width = max(len("endpoint"), *(len(e["id"]) for e in endpoints))
        lines.append("endpoint".ljust(width) + "  " + "  ".join(v.ljust(8) for v in VERSIONS) + "  verdict")
        for ep in endpoints:
            cells = [ep["protocols"].get(v, {}).get("status", "-").ljust(8) for v in VERSIONS]
            lines.append(ep["id"].ljust(width) + "  " + "  ".join(cells) + "  " + ep.get("verdict", ""))
        lines.append("")
    runtimes = report.get("runtimes", [])
    if runtimes:
        for rt in runtimes:
            lines.append(f"{rt['kind']:8} {rt.get('version') or '?':24} {rt['readiness']:18} {rt['path']}")
        lines.append("")
    for f in report.get("findings", []):
        if f["status"] in SHOWN:
            lines.append(f"[{f['status'].upper():5}] {f['severity']:8} {f['rule_id']}: {f['message']}")
            if f.get("remediation"):
                lines.append(f"        fix: {f['remediation']}")
    summary = report["summary"]
    counts = ", ".join(f"{k} {v}" for k, v in summary["counts"].items() if v)
    lines.append(
        f"verdict: {summary['verdict'].upper()} ({counts or 'no findings'}) policy {report['policy']['id']}"
    )
    return "\n".join(lines) + "\n"
