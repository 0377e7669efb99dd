"""The fleet parts every format shows, as plain rows from the report JSON (no verdict computed here):
the per-host roll-up and the per-rule host counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tlsaudit.counts import plural

STATUS_WORDS = {"assessed": "assessed", "unreachable": "unreachable", "collector-error": "collector error"}
_FINDING_WORDS = {"fail": "fails", "warn": "warns", "error": "not assessed"}


def os_label(host: Mapping[str, Any]) -> str:
    os_facts = host.get("os", {})
    return str(
        os_facts.get("pretty_name")
        or " ".join(v for v in (os_facts.get("system"), os_facts.get("release")) if v)
        or "-"
    )


def runtimes_label(host: Mapping[str, Any]) -> str:
    """`java 17.0.2, python 2.7.18, ...` (each kind and version once)."""
    seen: dict[str, None] = {}
    for rt in host.get("runtimes", []):
        seen.setdefault(f"{rt['kind']} {rt.get('version', '?')}", None)
    return ", ".join(seen) or "-"


def worst_label(host: Mapping[str, Any]) -> str:
    if host["status"] != "assessed":
        return f"not assessed: {host.get('reason', STATUS_WORDS[host['status']])}"
    worst = host.get("worst_finding")
    if not worst:
        return "-"
    return f"{worst['status'].upper()} {worst['severity']}: {worst['title']} ({worst['rule_id']})"


def host_rows(report: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "host": h["host"],
            "status": STATUS_WORDS[h["status"]],
            "os": os_label(h),
            "runtimes": runtimes_label(h),
            "worst": worst_label(h),
            "verdict": h["verdict"],
        }
        for h in report.get("hosts", [])
    ]


def rule_count_lines(report: Mapping[str, Any]) -> list[str]:
    """'37 hosts (52 runtimes: java) fail: Runtime pins TLS 1.0 [runtime.java.pinned-tls10]'."""
    fleet = report.get("summary", {}).get("fleet")
    if not fleet:
        return []
    lines = []
    for r in fleet["by_rule"]:
        kinds = ", ".join(r["kinds"]) or "runtime"
        lines.append(
            f"{plural(r['hosts'], 'host')} ({plural(r['runtimes'], 'runtime')}: {kinds}) "
            f"{_FINDING_WORDS[r['status']]}: {r['title']} [{r['rule_id']}]"
        )
    return lines


def fleet_headline(report: Mapping[str, Any]) -> str:
    fleet = report.get("summary", {}).get("fleet")
    if not fleet:
        return ""
    return (
        f"{plural(fleet['hosts'], 'host')}: {fleet['assessed']} assessed, "
        f"{fleet['unreachable']} unreachable, "
        f"{fleet['collector_error']} with a collector error"
    )
