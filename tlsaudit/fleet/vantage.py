"""`tlsaudit fleet --scan-targets FILE`: the inventory hosts scan one target list from where they stand, each
its own shard, and their JSONL streams come back to the controller to be merged into one report.

Shards: the n hosts the play targets (--limit applied), sorted by inventory name, take shards 1..n in that
order (`scan --shard k/n`, the same stable split as by hand). Nothing is dropped: every target of a shard
that did not come back (the host was unreachable, its scan failed, its output was cut short) is recorded as
an endpoint not assessed (verdict error, exit code 3), seen from the host that should have scanned it, with
the reason. The controller never scans a shard itself: the point of a vantage point is where it stands.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tlsaudit.audit import endpoint_record
from tlsaudit.endpoint_lines import read_endpoint_lines
from tlsaudit.engine import RuleSet
from tlsaudit.errors import ReportInputError
from tlsaudit.fleet.ansible_run import FleetRun, ansible_env, run_playbook, targeted_hosts
from tlsaudit.merge_inputs import Input
from tlsaudit.models import ReasonCode, Target
from tlsaudit.probe.scanner import unknown_endpoint
from tlsaudit.probe.shard import Shard, select_shard

SCAN_PLAYBOOK = "scan_playbook.yml"


@dataclass(frozen=True, slots=True, kw_only=True)
class VantageScan:
    hosts: tuple[str, ...]  # the play's hosts, in shard order
    inputs: tuple[Input, ...]  # each host's JSONL stream, then the targets not scanned
    notes: tuple[str, ...] = ()


def shard_plan(hosts: Sequence[str]) -> dict[str, int]:
    """Inventory host -> its shard (1..n): the sorted host names in order."""
    return {host: number for number, host in enumerate(sorted(hosts), start=1)}


def run_vantage_scan(
    run: FleetRun, targets: Sequence[Target], listing: str, ruleset: RuleSet, scan_args: Sequence[str] = ()
) -> VantageScan:
    """Run the scan playbook; `listing` is the targets file's text (each host parses it as `targets` were)."""
    run = replace(run, playbook=SCAN_PLAYBOOK)
    work = Path(tempfile.mkdtemp(prefix="tlsaudit-vantage-"))
    try:
        out = run.keep or work / "scans"
        out.mkdir(parents=True, exist_ok=True)
        tree = work / "tree"
        env = ansible_env(out, tree)
        hosts = targeted_hosts(run, env)
        if not hosts:
            return VantageScan(hosts=(), inputs=())
        plan = shard_plan(hosts)
        for host in plan:  # a stream left by an earlier run (--keep-facts) must not stand in for this one
            (out / f"{host}.jsonl").unlink(missing_ok=True)
        extra = work / "vars.json"
        extra.write_text(
            json.dumps(
                {
                    "tlsaudit_targets": listing,
                    "tlsaudit_shards": plan,
                    "tlsaudit_shard_count": len(plan),
                    "tlsaudit_scan_args": list(scan_args),
                }
            ),
            encoding="utf-8",
        )
        run_playbook(run, env, work / "ansible.log", "-e", f"@{extra}")
        return _gather(plan, targets, out, tree, ruleset)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _gather(
    plan: dict[str, int], targets: Sequence[Target], out: Path, tree: Path, ruleset: RuleSet
) -> VantageScan:
    inputs: list[Input] = []
    notes: list[str] = []
    missing: list[dict[str, Any]] = []
    for host, number in sorted(plan.items(), key=lambda item: item[1]):
        shard = Shard(index=number, count=len(plan))
        stream, why = _stream(out / f"{host}.jsonl")
        if stream is not None:
            inputs.append(stream)
        seen = {str(line.get("target")) for _, line in stream.endpoints} if stream else set()
        lost = [t for t in select_shard(targets, shard) if t.raw not in seen]
        if not lost:
            continue
        if stream is None:
            why = why or _failure(tree / host)
        elif not why:
            why = "its scan returned no result for it"
        reason = f"not scanned: vantage host {host} (shard {shard}): {why}"
        notes.append(f"{len(lost)} targets of shard {shard} ({host}) recorded as not assessed: {why}")
        for target in lost:
            facts = unknown_endpoint(target, target.address or "", reason, ReasonCode.NOT_PROBED)
            missing.append({**endpoint_record(ruleset, facts), "source_host": host})
    if missing:
        inputs.append(Input(path="(shards not scanned)", endpoints=tuple(enumerate(missing, start=1))))
    return VantageScan(hosts=tuple(sorted(plan)), inputs=tuple(inputs), notes=tuple(notes))


def _stream(path: Path) -> tuple[Input | None, str]:
    """A host's saved JSONL as a merge input, else why there is none (empty: no file came back)."""
    if not path.is_file():
        return None, ""
    try:
        lines = read_endpoint_lines(path)
    except ReportInputError as exc:
        return None, str(exc)
    stream = Input(path=str(path), endpoints=lines.endpoints, incomplete_line=lines.incomplete_line)
    return stream, "its output was cut short" if lines.incomplete_line is not None else ""


def _failure(last: Path) -> str:
    """Why a host sent nothing back, from its last task result (the `tree` callback's file)."""
    try:
        result = json.loads(last.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no result came back from this host"
    if not isinstance(result, dict):
        return "no result came back from this host"
    message = " ".join(str(result.get("msg") or "").split())
    if result.get("unreachable"):
        return f"unreachable: {message or 'no connection'}"[:300]
    said = str(result.get("stderr") or result.get("module_stderr") or "")
    tail = [line.strip() for line in said.splitlines() if line.strip()][-1:]
    rc = f"exit code {result['rc']}" if isinstance(result.get("rc"), int) else ""
    return "; ".join(p for p in (rc, message, *tail) if p)[:300] or "the scan task failed"
