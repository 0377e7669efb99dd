"""`tlsaudit report` over JSONL streams (shards of one scan, resumed runs, other vantage points), alone or
together with JSON reports: every subject of every input is gathered, duplicates are dropped, and the
whole set is judged again under one policy, so the summary and the exit code cover everything.

Duplicates: the same subject (kind, machine it was seen from, id) in more than one input, or twice in one
stream. The last occurrence wins, in command-line order and then line order: a later file (e.g. a rescan)
overrides an earlier one, the same way on every run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from tlsaudit.endpoint_lines import is_stream, parse_endpoint_lines
from tlsaudit.engine import RuleSet, Unreachable, evaluate
from tlsaudit.errors import ReportInputError
from tlsaudit.report import build_report, finalize, load_report, merge_reports, subject_key
from tlsaudit.report_facts import captures_of, endpoints_of, runtimes_of
from tlsaudit.report_types import Report
from tlsaudit.shared_keys import link_sslv2_key_sharing

_LISTS = {"endpoint": "endpoints", "runtime": "runtimes", "capture": "captures"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Input:
    path: str
    report: Report | None = None  # a JSON report
    endpoints: tuple[tuple[int, dict[str, Any]], ...] = ()  # a JSONL stream: (line, endpoint object)
    incomplete_line: int | None = None


def load_input(path: Path) -> Input:
    if not is_stream(path):
        return Input(path=str(path), report=load_report(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    lines = parse_endpoint_lines(data, str(path))
    return Input(path=str(path), endpoints=lines.endpoints, incomplete_line=lines.incomplete_line)


@dataclass(slots=True)
class Gathered:
    subjects: dict[tuple[str, str, str], dict[str, Any]]
    where: dict[tuple[str, str, str], str]
    duplicates: list[str]


def gather(inputs: Sequence[Input]) -> Gathered:
    """Every subject once; the last occurrence wins (see the module description)."""
    gathered = Gathered(subjects={}, where={}, duplicates=[])

    def add(kind: str, item: Mapping[str, Any], place: str) -> None:
        key = subject_key(kind, item)
        if key in gathered.subjects:
            gathered.duplicates.append(f"{key[2]} ({place} kept over {gathered.where[key]})")
            del gathered.subjects[key]  # re-inserted last: the winner's position in input order
        gathered.subjects[key] = dict(item)
        gathered.where[key] = place

    for number, source in enumerate(inputs, start=1):
        if source.report is not None:
            for kind, list_name in _LISTS.items():
                for item in cast(Mapping[str, Any], source.report).get(list_name, []):
                    add(kind, item, f"input {number} {source.path}")
        for line, endpoint in source.endpoints:
            add("endpoint", endpoint, f"input {number} {source.path}:{line}")
    return gathered


def chosen_policy(inputs: Sequence[Input]) -> str | None:
    """The policy of the most recent JSON report among the inputs (None when there is none)."""
    reports = [(str(i.report["generated_at"]), n, i.report) for n, i in enumerate(inputs) if i.report]
    if not reports:
        return None
    return str(max(reports, key=lambda r: (r[0], r[1]))[2]["policy"]["id"])


def judge_inputs(inputs: Sequence[Input], ruleset: RuleSet, *, unreachable: Unreachable) -> Report:
    """One report judged under `ruleset` from the gathered subjects of every input."""
    gathered = gather(inputs)
    items = list(gathered.subjects.items())
    reports = [cast(Mapping[str, Any], i.report) for i in inputs if i.report is not None]
    scope: dict[str, str] = {}
    for report in sorted(reports, key=lambda r: str(r["generated_at"])):  # the most recent title wins
        given = report.get("scope", {})
        scope.update({k: v for k, v in given.items() if k != "hosts" and isinstance(v, str)})
    lines = sum(len(i.endpoints) for i in inputs)
    scope["policy_note"] = (
        f"{lines} JSONL lines and {len(reports)} JSON reports merged and judged under {ruleset.policy.id}"
    )
    dates = [str(r["generated_at"]) for r in reports]
    generated_at = datetime.strptime(max(dates), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if dates else None
    all_endpoints = [item for (kind, _, _), item in items if kind == "endpoint"]
    depths = [
        name
        for name, key in (("certificate", "certificate"), ("cipher-suites", "cipher_suites"))
        if any(key in ep for ep in all_endpoints)
    ]
    parts: list[Report] = []
    for host in sorted({key[1] for key, _ in items}) or [""]:

        def mine(kind: str, host: str = host) -> dict[str, Any]:
            return {_LISTS[kind]: [item for (k, h, _), item in items if k == kind and h == host]}

        # DROWN key sharing is a fact about the whole set: computed again over the merged endpoints.
        endpoints = link_sslv2_key_sharing(
            [dataclasses.replace(e, key_shared_with_sslv2=()) for e in endpoints_of(mine("endpoint"))]
        )
        runtimes = runtimes_of(mine("runtime"))
        captures = captures_of(mine("capture"))
        evaluation = evaluate(
            ruleset,
            endpoints=endpoints,
            runtimes=runtimes,
            captures=captures,
            unreachable=unreachable,
            collected=depths,
        )
        parts.append(
            build_report(
                policy_id=ruleset.policy.id,
                policy_title=ruleset.policy.title,
                endpoints=endpoints,
                runtimes=runtimes,
                captures=captures,
                findings=evaluation.findings,
                readiness=evaluation.readiness,
                scope=scope,
                generated_at=generated_at,
                source_host=host or None,
            )
        )
    merged = cast(dict[str, Any], merge_reports(parts))
    if any(r.get("interrupted") for r in reports):
        merged["interrupted"] = True
    services = {repr(sorted(s.items())): s for r in reports for s in r.get("local_services", [])}
    if services:
        merged["local_services"] = list(services.values())
    if any("hosts" in r for r in reports):  # fleet hosts: the most recent report's entry for each host
        hosts: dict[str, dict[str, Any]] = {}
        for report in sorted(reports, key=lambda r: str(r["generated_at"])):
            hosts.update({str(h["host"]): dict(h) for h in report.get("hosts", [])})
        merged["hosts"] = list(hosts.values())
        finalize(merged)  # host findings, verdicts and the fleet summary from the merged runtimes
    return cast(Report, merged)


def notes(inputs: Sequence[Input]) -> list[str]:
    """What the user should know about the inputs: cut-off lines, duplicates."""
    out = [
        f"{i.path}:{i.incomplete_line}: a line cut short (a killed scan) is ignored"
        for i in inputs
        if i.incomplete_line is not None
    ]
    duplicates = gather(inputs).duplicates
    if duplicates:
        more = f"; and {len(duplicates) - 5} more" if len(duplicates) > 5 else ""
        shown = "; ".join(duplicates[:5]) + more
        out.append(f"{len(duplicates)} duplicate subjects, the last occurrence kept: {shown}")
    return out
