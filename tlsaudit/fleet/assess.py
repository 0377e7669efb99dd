"""Per-host results of a fleet run (collector documents, or why there is none) judged into one report."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from tlsaudit.engine import RuleSet, evaluate
from tlsaudit.fleet.observed import ObservationError, check_observations, runtimes_from_observations
from tlsaudit.models import RuntimeFacts
from tlsaudit.report import build_report, finalize
from tlsaudit.report_types import Report


class HostStatus(StrEnum):
    ASSESSED = "assessed"
    UNREACHABLE = "unreachable"
    COLLECTOR_ERROR = "collector-error"


@dataclass(frozen=True, slots=True, kw_only=True)
class HostResult:
    host: str
    status: HostStatus
    reason: str = ""
    os: Mapping[str, str] = field(default_factory=dict)
    collected_at: str = ""
    collector_python: str = ""
    errors: tuple[str, ...] = ()
    runtimes: tuple[RuntimeFacts, ...] = ()


def is_collector_document(document: object) -> bool:
    return isinstance(document, dict) and document.get("format") == "tlsaudit-collector"


def assess_document(host: str, document: object) -> HostResult:
    """A host from its collector document: its runtimes' facts, or collector-error when unreadable."""
    try:
        observations = check_observations(document)
    except ObservationError as exc:
        return HostResult(host=host, status=HostStatus.COLLECTOR_ERROR, reason=str(exc))
    os_facts = observations.get("os", {})
    errors = observations.get("errors", [])
    return HostResult(
        host=host,
        status=HostStatus.ASSESSED,
        os={str(k): str(v) for k, v in os_facts.items()} if isinstance(os_facts, dict) else {},
        collected_at=str(observations.get("collected_at", "")),
        collector_python=str(observations.get("collector_python", "")),
        errors=tuple(str(e) for e in errors) if isinstance(errors, list) else (),
        runtimes=tuple(runtimes_from_observations(observations, host)),
    )


def assess_output(host: str, text: str) -> HostResult:
    """A host from what the collector printed (one JSON document)."""
    try:
        document = json.loads(text)
    except ValueError:
        tail = text.strip().splitlines()[-1:] or ["no output"]
        return HostResult(
            host=host,
            status=HostStatus.COLLECTOR_ERROR,
            reason=f"the collector printed no JSON document: {tail[0][:200]}",
        )
    return assess_document(host, document)


def assess_ansible_result(host: str, result: Mapping[str, Any]) -> HostResult:
    """A host from an Ansible task result (the `tree` callback's per-host file, or a registered result)."""
    message = str(result.get("msg") or result.get("stderr") or "").strip()
    if result.get("unreachable"):
        return HostResult(host=host, status=HostStatus.UNREACHABLE, reason=message or "unreachable")
    stdout = result.get("stdout")
    if result.get("failed") or result.get("rc", 0) != 0 or not isinstance(stdout, str):
        return HostResult(
            host=host, status=HostStatus.COLLECTOR_ERROR, reason=message[:500] or "the collector task failed"
        )
    return assess_output(host, stdout)


def load_host_file(path: Path, host: str | None = None) -> HostResult:
    """A saved per-host file: a collector document, or an Ansible result holding one. The host is named
    by `host`, else the inventory name the playbook added, else the collector's host name, else the file
    name."""
    name = host or path.stem
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return HostResult(host=name, status=HostStatus.COLLECTOR_ERROR, reason=f"{path}: {exc}")
    if is_collector_document(document):
        named = [document.get(k) for k in ("inventory_host", "host")]
        own = next((n for n in named if isinstance(n, str) and n), name)
        return assess_document(host or own, document)
    if isinstance(document, dict):
        return assess_ansible_result(name, document)
    return HostResult(host=name, status=HostStatus.COLLECTOR_ERROR, reason=f"{path}: not a JSON object")


def host_json(result: HostResult) -> dict[str, Any]:
    out: dict[str, Any] = {"host": result.host, "status": result.status.value}
    if result.reason:
        out["reason"] = result.reason
    if result.os:
        out["os"] = dict(result.os)
    if result.collected_at:
        out["collected_at"] = result.collected_at
    if result.collector_python:
        out["collector_python"] = result.collector_python
    if result.errors:
        out["errors"] = list(result.errors)
    out["runtimes"] = []
    out["verdict"] = "error"
    return out


def fleet_report(
    ruleset: RuleSet, hosts: Sequence[HostResult], scope: Mapping[str, Any] | None = None
) -> Report:
    """One report for the fleet: every host listed (assessed or not), every runtime judged by the rules
    as `tlsaudit runtimes` judges it, its subject and findings naming the host."""
    runtimes = [rt if rt.host else dataclasses.replace(rt, host=h.host) for h in hosts for rt in h.runtimes]
    evaluation = evaluate(ruleset, endpoints=[], runtimes=runtimes, captures=[])
    report: dict[str, Any] = dict(
        build_report(
            policy_id=ruleset.policy.id,
            policy_title=ruleset.policy.title,
            endpoints=[],
            runtimes=runtimes,
            captures=[],
            findings=evaluation.findings,
            readiness=evaluation.readiness,
            scope=scope,
        )
    )
    owner = {rt.subject: rt.host for rt in runtimes}
    for item in report["runtimes"]:
        item["source_host"] = owner.get(item["id"], "")
    for finding in report["findings"]:
        if finding["subject"] in owner:
            finding["source_host"] = owner[finding["subject"]]
    names = sorted({h.host for h in hosts})
    if names:
        report.setdefault("scope", {})["hosts"] = names
    report["hosts"] = [host_json(h) for h in hosts]
    return cast(Report, finalize(report))


def is_host_file(path: Path) -> bool:
    """A fleet per-host file (collector output or an Ansible result), not a saved report."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if is_collector_document(document):
        return True
    return (
        isinstance(document, dict)
        and "schema_version" not in document
        and any(k in document for k in ("unreachable", "stdout", "failed", "rc"))
    )
