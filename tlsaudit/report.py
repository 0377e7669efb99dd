"""The report: plain JSON data built from facts and findings, the only input of every output format.

The shape is the public contract described by `reports/report.schema.json`. Verdicts and the summary are
computed here (formats never compute them), and again after a merge, from the findings and facts alone.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, cast

from tlsaudit import __version__
from tlsaudit.counts import tally
from tlsaudit.data import report_schema_path
from tlsaudit.errors import ReportInputError
from tlsaudit.fleet.rollup import finalize_hosts, fleet_summary, host_findings
from tlsaudit.models import (
    ALL_VERSIONS,
    SEVERITY_ORDER,
    CaptureFacts,
    EndpointFacts,
    Finding,
    FindingStatus,
    HttpOutcome,
    Readiness,
    RuntimeFacts,
    Severity,
    to_json,
)
from tlsaudit.report_types import Report

SCHEMA_VERSION = "1.0"
# from best to worst; `skipped`: not assessed, ignored by choice (--unreachable ignore), so it never
# outweighs what was assessed
VERDICTS = ("skipped", "pass", "warn", "error", "fail")
_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}
_SEVERITY_RANK = {s.value: SEVERITY_ORDER[s] for s in Severity}
_STATUS_KEYS = tuple(s.value for s in FindingStatus)
_READINESS_KEYS = tuple(r.value for r in Readiness)
_SKIPPED: str = FindingStatus.SKIPPED.value  # a plain string: compared once per finding
_SUBJECT_LISTS = {"endpoint": "endpoints", "runtime": "runtimes", "capture": "captures"}

ReportData = dict[str, Any]  # a report while it is being put together or read back, before it is checked


def build_report(
    *,
    policy_id: str,
    policy_title: str,
    endpoints: Sequence[EndpointFacts],
    runtimes: Sequence[RuntimeFacts],
    captures: Sequence[CaptureFacts],
    findings: Sequence[Finding],
    readiness: Mapping[str, Readiness],
    scope: Mapping[str, str] | None = None,
    generated_at: datetime | None = None,
    source_host: str | None = None,
) -> Report:
    """A complete report dict (schema-valid) from one run.

    `readiness` maps runtime (and capture) subjects to their readiness. `source_host` names the machine the
    data was collected on; it is recorded on every subject and finding so that merged reports keep it apart.
    """
    when = (generated_at or datetime.now(UTC)).astimezone(UTC)
    report: ReportData = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "tlsaudit", "version": __version__},
        "generated_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": {"id": policy_id, "title": policy_title},
    }
    scope_out: dict[str, Any] = {k: v for k, v in (scope or {}).items() if v}
    if source_host:
        scope_out["hosts"] = [source_host]
    if scope_out:
        report["scope"] = scope_out
    report["summary"] = {}
    report["endpoints"] = [_endpoint_json(ep, source_host) for ep in endpoints]
    report["runtimes"] = [_runtime_json(rt, readiness, source_host) for rt in runtimes]
    report["captures"] = [_capture_json(cap, readiness, source_host) for cap in captures]
    report["findings"] = [_finding_json(f, source_host) for f in findings]
    return cast(Report, finalize(report))


def _endpoint_json(ep: EndpointFacts, source_host: str | None) -> dict[str, Any]:
    body = to_json(ep)
    protocols = body.get("protocols", {})
    body["protocols"] = {
        v.value: protocols.get(
            v.value, {"status": "unknown", "reason": "not probed", "reason_code": "not-probed"}
        )
        for v in ALL_VERSIONS
    }
    if "key_exchange" in body:  # these four say "not assessed" with an explicit null
        for key in ("pq_hybrid", "dh_bits", "forward_secrecy", "large_hello_tolerant"):
            body["key_exchange"].setdefault(key, None)
        body["key_exchange"].setdefault("groups", {})
    out = {"id": ep.subject, **body}
    if ep.http is not None and ep.http.outcome == HttpOutcome.ANSWERED and ep.hsts is None:
        out["hsts"] = None  # an HTTP answer without the header (the key is absent when not assessed)
    if source_host:
        out["source_host"] = source_host
    return out


def _runtime_json(
    rt: RuntimeFacts, readiness: Mapping[str, Readiness], source_host: str | None
) -> dict[str, Any]:
    out = {"id": rt.subject, **to_json(rt)}
    if "pins" in out:  # the contract lists them with the other details
        out["details"] = {**out.get("details", {}), "pins": out.pop("pins")}
    out["readiness"] = readiness.get(rt.subject, Readiness.UNKNOWN).value
    if source_host:
        out["source_host"] = source_host
    return out


def _capture_json(
    cap: CaptureFacts, readiness: Mapping[str, Readiness], source_host: str | None
) -> dict[str, Any]:
    out = {"id": cap.subject, **to_json(cap)}
    if cap.subject in readiness:
        out["readiness"] = readiness[cap.subject].value
    if source_host:
        out["source_host"] = source_host
    return out


def _finding_json(finding: Finding, source_host: str | None) -> dict[str, Any]:
    """`to_json(finding)`, spelt out: a report holds a finding per rule and endpoint, thousands of them.
    (An enum member's `_value_` is its value without the `value` property's descriptor call.)"""
    out: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "status": finding.status._value_,
        "severity": finding.severity._value_,
        "subject": finding.subject,
        "subject_kind": finding.subject_kind._value_,
        "title": finding.title,
        "message": finding.message,
    }
    if finding.remediation:
        out["remediation"] = finding.remediation
    if finding.references:
        out["references"] = list(finding.references)
    if finding.readiness is not None:
        out["readiness"] = finding.readiness._value_
    if source_host:
        out["source_host"] = source_host
    return out


# ---------------------------------------------------------------- verdicts and summary


def worst_verdict(verdicts: Iterable[str]) -> str | None:
    """`fail` over `error` over `warn` over `pass`; None when given nothing."""
    ranked = [v for v in verdicts if v in _VERDICT_RANK]
    return max(ranked, key=_VERDICT_RANK.__getitem__) if ranked else None


def subject_key(kind: str, item: Mapping[str, Any]) -> tuple[str, str, str]:
    """Identity of a subject or of the subject a finding is about: (kind, source host, id)."""
    if "rule_id" in item:
        return (item["subject_kind"], item.get("source_host", ""), item["subject"])
    return (kind, item.get("source_host", ""), item["id"])


def finalize(report: ReportData) -> ReportData:
    """Sort every list, recompute each subject's verdict and the summary. Mutates and returns `report`."""
    report["endpoints"].sort(key=_endpoint_order)
    report["runtimes"].sort(key=lambda r: (r["kind"], r["path"], r.get("source_host", ""), r["id"]))
    if "hosts" in report:
        host_findings(report)
    report["captures"].sort(
        key=lambda c: (c["client"], c.get("runtime", ""), c.get("source_host", ""), c["id"])
    )
    report["findings"].sort(key=_finding_order)
    statuses: dict[tuple[str, str, str], list[str]] = {}
    rule_ids: dict[tuple[str, str, str], list[str]] = {}
    for finding in report["findings"]:  # subject_key("", finding), inline: once per finding
        key = (finding["subject_kind"], finding.get("source_host", ""), finding["subject"])
        held = statuses.get(key)
        if held is None:
            statuses[key] = [finding["status"]]
            rule_ids[key] = [finding["rule_id"]]
        else:
            held.append(finding["status"])
            rule_ids[key].append(finding["rule_id"])
    # One finding per (rule, subject), the usual case: the summary need not look for repeated checks.
    unique = all(len(ids) == len(set(ids)) for ids in rule_ids.values())
    for kind, list_name in _SUBJECT_LISTS.items():
        for item in report[list_name]:
            item["verdict"] = _subject_verdict(item, statuses.get(subject_key(kind, item), []))
    if "hosts" in report:
        finalize_hosts(report)
    report["summary"] = summarize(report, unique=unique)
    if "hosts" in report:
        report["summary"]["fleet"] = fleet_summary(report)
    return report


def _subject_verdict(item: Mapping[str, Any], statuses: Sequence[str]) -> str:
    assessed = [s for s in statuses if s != _SKIPPED]
    verdict = worst_verdict(assessed)
    if verdict is None and statuses and item.get("errors"):
        # Not assessed, and the only finding about it says to ignore that (--unreachable ignore): the
        # verdict says so too, as the exit code does, instead of `error`.
        return "skipped"
    if verdict is None:
        # Nothing judged this subject: if collecting it failed, it was not assessed (never a silent pass).
        return "error" if item.get("errors") else "pass"
    return verdict


def summarize(report: Mapping[str, Any], *, unique: bool = False) -> dict[str, Any]:
    """The `summary` block, recomputed from the findings and facts of a report dict. `unique`: the caller
    knows no rule has two findings about the same subject."""
    endpoints: Sequence[Mapping[str, Any]] = report.get("endpoints", [])
    runtimes: Sequence[Mapping[str, Any]] = report.get("runtimes", [])
    captures: Sequence[Mapping[str, Any]] = report.get("captures", [])
    tallied = tally(report, unique=unique)
    counts = {status: tallied.checks[status] for status in _STATUS_KEYS}
    subject_verdicts = [s["verdict"] for s in (*endpoints, *runtimes, *captures, *report.get("hosts", []))]
    finding_verdicts = [f["status"] for f in tallied.findings if f["status"] != _SKIPPED]
    # An empty report assessed nothing: it must not read as compliant.
    verdict = worst_verdict([*subject_verdicts, *finding_verdicts]) or "error"
    return {
        "verdict": verdict,
        "counts": counts,
        "endpoints": tallied.endpoints,
        "runtimes": tallied.runtimes,
        "hosts": host_rollup(endpoints),
    }


def host_rollup(endpoints: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per scanned (host name, port): its addresses, worst verdict and where addresses disagree."""
    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for ep in endpoints:
        groups.setdefault((ep["host"], ep["port"]), []).append(ep)
    rollup: list[dict[str, Any]] = []
    for (host, port), members in sorted(groups.items(), key=lambda kv: (_host_order(kv[0][0]), kv[0][1])):
        addresses = sorted({m["ip"] for m in members}, key=_host_order)
        disagreements = [
            v.value for v in ALL_VERSIONS if len({m["protocols"][v.value]["status"] for m in members}) > 1
        ]
        entry: dict[str, Any] = {
            "name": host,
            "port": port,
            "addresses": addresses,
            "verdict": worst_verdict(m["verdict"] for m in members) or "error",
        }
        if disagreements:
            entry["disagreements"] = disagreements
        rollup.append(entry)
    return rollup


@lru_cache(maxsize=4096)
def _host_order(value: str) -> tuple[int, int, Any]:
    """IPv4 before IPv6 in numeric order, then names in alphabetical order."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return (1, 0, value.lower())
    return (0, address.version, int(address))


def _endpoint_order(ep: Mapping[str, Any]) -> tuple[Any, ...]:
    return (_host_order(ep["host"]), ep["port"], _host_order(ep["ip"]), ep.get("source_host", ""), ep["id"])


def _finding_order(f: Mapping[str, Any]) -> tuple[Any, ...]:
    return (-_SEVERITY_RANK[f["severity"]], f["rule_id"], f["subject"], f.get("source_host", ""), f["status"])


# ---------------------------------------------------------------- merge


def merge_reports(reports: Sequence[Mapping[str, Any]]) -> Report:
    """One report from many: each source keeps its host identity, duplicates go, the summary is recomputed.

    Subjects are keyed by (kind, source host, id). When two inputs hold the same subject, the more recent
    input (by `generated_at`, then by position) wins, together with its findings about that subject.
    Reports judged under different policies cannot be merged: their findings would not mean the same thing.
    """
    if not reports:
        raise ReportInputError("no report to merge")
    policies = sorted({r["policy"]["id"] for r in reports})
    if len(policies) > 1:
        raise ReportInputError(f"cannot merge reports judged under different policies: {', '.join(policies)}")
    ordered = sorted(enumerate(reports), key=lambda ir: (ir[1]["generated_at"], ir[0]))
    owner: dict[tuple[str, str, str], int] = {}
    subjects: dict[tuple[str, str, str], dict[str, Any]] = {}
    for index, source in ordered:
        for kind, list_name in _SUBJECT_LISTS.items():
            for item in source.get(list_name, []):
                key = subject_key(kind, item)
                owner[key] = index
                subjects[key] = copy.deepcopy(item)
    findings: dict[str, dict[str, Any]] = {}
    for index, source in ordered:
        for finding in source.get("findings", []):
            key = subject_key("", finding)
            if owner.get(key, index) != index:
                continue  # superseded by a more recent report about the same subject
            findings.setdefault(json.dumps(finding, sort_keys=True), copy.deepcopy(finding))
    latest = ordered[-1][1]
    merged: ReportData = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "tlsaudit", "version": __version__},
        "generated_at": latest["generated_at"],
        "policy": dict(latest["policy"]),
    }
    scope = _merge_scope([source.get("scope", {}) for _, source in ordered])
    if scope:
        merged["scope"] = scope
    if any(source.get("interrupted") for source in reports):
        merged["interrupted"] = True
    merged["summary"] = {}
    for kind, list_name in _SUBJECT_LISTS.items():
        merged[list_name] = [item for key, item in subjects.items() if key[0] == kind]
    merged["findings"] = list(findings.values())
    services: dict[str, dict[str, Any]] = {}
    for _, source in ordered:  # the audit listings of every input, each service once
        for service in source.get("local_services", []):
            services.setdefault(json.dumps(service, sort_keys=True), copy.deepcopy(service))
    if services:
        merged["local_services"] = list(services.values())
    hosts: dict[str, dict[str, Any]] = {}
    for _, source in ordered:  # fleet hosts: the most recent input's entry for each host
        for host in source.get("hosts", []):
            hosts[host["host"]] = copy.deepcopy(host)
    if any("hosts" in source for source in reports):
        merged["hosts"] = list(hosts.values())
    return cast(Report, finalize(merged))


def _merge_scope(scopes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    hosts: set[str] = set()
    for scope in scopes:  # oldest first: the most recent title, client and assessor win
        for key, value in scope.items():
            if key == "hosts":
                hosts.update(value)
            else:
                merged[key] = value
    if hosts:
        merged["hosts"] = sorted(hosts, key=_host_order)
    return merged


# ---------------------------------------------------------------- reading and validating


@cache
def report_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(report_schema_path().read_text(encoding="utf-8"))
    return schema


def schema_errors(report: Any) -> list[str]:
    """Every way `report` breaks the schema, as readable lines (empty when valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(report_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors]


def validate_report(report: Any) -> None:
    """Raise ReportInputError naming the first problems if `report` does not follow the schema."""
    if not isinstance(report, dict):
        raise ReportInputError(
            f"not a valid tlsaudit report: a JSON object is expected, not {type(report).__name__}"
        )
    version = report.get("schema_version")
    if isinstance(version, str) and version.split(".")[0] != SCHEMA_VERSION.split(".", maxsplit=1)[0]:
        raise ReportInputError(
            f"not a valid tlsaudit report: schema_version {version!r} is not supported "
            f"(this tlsaudit reads {SCHEMA_VERSION.split('.', maxsplit=1)[0]}.x)"
        )
    errors = schema_errors(report)
    if errors:
        shown = "; ".join(errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ReportInputError(f"not a valid tlsaudit report: {shown}{more}")


def load_report(path: Path) -> Report:
    """A saved JSON report, checked against the schema. Any problem is a ReportInputError naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path}: cannot read report: {exc}") from exc
    try:
        report = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{path}: not valid JSON: {exc}") from exc
    try:
        validate_report(report)
    except ReportInputError as exc:
        raise ReportInputError(f"{path}: {exc}") from exc
    return cast(Report, report)


def normalized(report: Mapping[str, Any]) -> Report:
    """A copy of `report` with every verdict and the summary recomputed (sorted like a fresh report): what
    the formats render, so that every count they show comes from the same computation."""
    copied: dict[str, Any] = dict(report)
    # finalize sorts the top-level lists and sets each subject's `verdict`: copy exactly what it changes
    # (a deep copy of a large report costs more than the whole scan's analysis).
    for name in _SUBJECT_LISTS.values():
        copied[name] = [dict(item) for item in report.get(name, [])]
    copied["findings"] = list(report.get("findings", []))
    if "hosts" in report:
        copied["hosts"] = [dict(h) for h in report["hosts"]]
    return cast(Report, finalize(copied))
