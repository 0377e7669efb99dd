"""`--mode full`: versions + certificate + suites, tlsaudit against SSLyze and testssl.sh."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.certfacts import truth_facts, verifies
from bench.fullmodel import FullRun
from bench.fullscore import FullScore, score_full
from bench.lab import Lab, running_lab
from bench.measure import tree_cpu_seconds
from bench.model import Endpoint
from bench.nginx import LabError
from bench.report import MB
from bench.scanners import sslyze, testssl
from bench.scanners import tlsaudit as tlsaudit_scanner
from bench.scanners.common import RunSpec, ScannerUnavailable
from bench.suitetruth import SuiteTruth, probe_suites

SHOWN_MISMATCHES = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class FullOutcome:
    run: FullRun
    score: FullScore
    repetitions: int

    @property
    def rate(self) -> float:
        wall = self.run.run.wall_seconds
        return self.run.run.targets / wall if wall > 0 else 0.0

    @property
    def label(self) -> str:
        return f"{self.run.run.tool} ({self.run.run.mode})"


class FullSession:
    def __init__(self, args: argparse.Namespace, lab: Lab, workdir: Path, truth: SuiteTruth) -> None:
        self.args = args
        self.lab = lab
        self.workdir = workdir
        self.suite_truth = truth
        # the lab's certificates as trust anchors for every tool (unless --no-trust-anchor)
        self.ca_file: Path | None = None
        if not args.no_trust_anchor:
            self.ca_file = workdir / "lab-ca.pem"
            self.ca_file.write_text("".join(p.read_text() for p in lab.certs.values()))
        self.cert_truth = self._cert_truth()
        self.deadline = time.monotonic() + args.budget
        self.outcomes: list[FullOutcome] = []
        self.skipped: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self.subset = lab.tls[: args.full_endpoints]

    def _cert_truth(self) -> dict[str, dict[str, str]]:
        """Per key type, from the certificate file; hostname match and trust from a real client's
        verification of one endpoint (with the lab CA file: trust is then expected)."""
        now = dt.datetime.now(dt.UTC)
        truth = {}
        for kind, path in self.lab.certs.items():
            port = next(e.port for e in self.lab.tls if e.key_type == kind and "TLSv1.2" in e.accepted)
            bundle = self.ca_file or self.workdir / f"{kind}-only-for-hostname-check.pem"
            if self.ca_file is None:
                bundle.write_text(path.read_text())
            host_matches = verifies(port, bundle)
            trusted = verifies(port, self.ca_file, check_hostname=False)
            truth[kind] = truth_facts(path, now=now, host_matches=host_matches, trusted=trusted)
        return truth

    def measure(
        self,
        tool: str,
        mode: str,
        endpoints: list[Endpoint],
        runner: Callable[[RunSpec], FullRun],
        *,
        repeats: int = 1,
        limit: float | None = None,
    ) -> None:
        runs: list[FullRun] = []
        for attempt in range(repeats):
            remaining = self.deadline - time.monotonic()
            if remaining < 5:
                self.skipped[f"{tool} ({mode})"] = "overall time budget used up"
                break
            slug = "".join(c if c.isalnum() else "-" for c in f"full-{tool}-{mode}-{attempt}")
            workdir = self.workdir / slug
            workdir.mkdir(parents=True)
            spec = RunSpec(
                endpoints=endpoints,
                mode=mode,
                workdir=workdir,
                timeout=min(limit or self.args.run_timeout, remaining),
                connect_timeout=self.args.connect_timeout,
            )
            print(f"  {tool} ({mode}), run {attempt + 1}/{repeats} ...", file=sys.stderr, flush=True)
            before = tree_cpu_seconds(self.lab.nginx_pid)
            result = runner(spec)
            server_cpu = tree_cpu_seconds(self.lab.nginx_pid) - before
            runs.append(replace(result, run=replace(result.run, server_cpu_seconds=server_cpu)))
        if not runs:
            return
        ordered = sorted(runs, key=lambda r: r.run.wall_seconds)
        median = ordered[(len(ordered) - 1) // 2]
        shown = replace(
            median,
            run=replace(
                median.run,
                peak_rss_bytes=max(r.run.peak_rss_bytes for r in runs),
                timed_out=any(r.run.timed_out for r in runs),
                all_wall_seconds=tuple(r.run.wall_seconds for r in runs),
            ),
        )
        score = score_full(runs, endpoints, self.suite_truth, self.cert_truth)
        self.outcomes.append(FullOutcome(run=shown, score=score, repetitions=len(runs)))

    def run_tlsaudit(self) -> None:
        try:
            tlsaudit_scanner.check_available()
        except ScannerUnavailable as exc:
            self.skipped["tlsaudit"] = str(exc)
            return
        args = tlsaudit_scanner.scan_args(
            self.args.tlsaudit_arg, self.args.connect_timeout, protocol_only=False
        )
        if not any(a in ("--ciphers", "--no-ciphers") for a in args):
            args.append("--ciphers")
        if self.ca_file is not None and not any(a.startswith("--ca-file") for a in args):
            args += ["--ca-file", str(self.ca_file)]

        def runner(spec: RunSpec) -> FullRun:
            result, version = tlsaudit_scanner.run_full(spec, args)
            self.versions["tlsaudit"] = version
            return result

        self.versions["tlsaudit scan"] = " ".join(args)
        for endpoints in self._sizes():
            self.measure("tlsaudit", f"full, {len(endpoints)}", endpoints, runner, repeats=self.args.repeat)

    def run_sslyze(self) -> None:
        try:
            sslyze.ensure_installed()
            self.versions["sslyze"] = sslyze.version()
        except ScannerUnavailable as exc:
            self.skipped["sslyze"] = str(exc)
            return
        for endpoints in self._sizes():
            self.measure(
                "sslyze",
                f"full, {len(endpoints)}",
                endpoints,
                lambda spec: sslyze.run_full(spec, self.ca_file),
            )

    def run_testssl(self) -> None:
        try:
            self.versions["testssl.sh"] = testssl.version()
        except ScannerUnavailable as exc:
            self.skipped["testssl.sh"] = str(exc)
            return
        pool = self.args.testssl_pool
        self.measure(
            "testssl.sh",
            f"full, {len(self.subset)}, pool {pool}",
            self.subset,
            lambda spec: testssl.run_full(spec, pool, self.ca_file),
            limit=self.args.testssl_timeout,
        )
        if not self.args.testssl_no_mass:
            try:
                self.measure(
                    "testssl.sh",
                    f"full, {len(self.subset)}, --parallel",
                    self.subset,
                    lambda spec: testssl.run_mass(spec, self.ca_file),
                    limit=self.args.testssl_timeout,
                )
            except ScannerUnavailable as exc:
                self.skipped["testssl.sh (--file --parallel)"] = str(exc)

    def _sizes(self) -> list[list[Endpoint]]:
        """All endpoints, and the testssl.sh subset when it is smaller (for a like-for-like ratio)."""
        if len(self.subset) < len(self.lab.tls):
            return [self.lab.tls, self.subset]
        return [self.lab.tls]


def table(outcomes: list[FullOutcome]) -> str:
    header = (
        f"{'tool (mode)':<32} {'wall s':>7} {'cpu s':>6} {'srv cpu':>7} {'ep/s':>7} {'peak MB':>7} "
        f"{'versions right':>21} {'suite sets right':>19} {'cert facts right':>26}"
    )
    lines = [header, "-" * len(header)]
    for o in outcomes:
        run, s = o.run.run, o.score
        facts = f"{s.facts.right}/{s.facts.reported}"
        if s.facts.missing:
            facts += f" ({s.facts.missing} n/r)"
        flag = "  TIMED OUT" if run.timed_out else ""
        lines.append(
            f"{o.label:<32} {run.wall_seconds:>7.2f} {run.cpu_seconds:>6.2f} {run.server_cpu_seconds:>7.2f} "
            f"{o.rate:>7.2f} {run.peak_rss_bytes / MB:>7.1f} "
            f"{s.versions.percent:>6.1f}% {s.versions.right:>5}/{s.versions.cells:<6} "
            f"{s.suites.percent:>6.1f}% {s.suites.right:>4}/{s.suites.cells:<5} "
            f"{facts:>26}{flag}"
        )
    lines.append("(n/r: facts the tool does not report; cert facts right counts only the reported ones)")
    return "\n".join(lines)


def ratios(outcomes: list[FullOutcome]) -> list[str]:
    mine = {o.run.run.targets: o for o in outcomes if o.run.run.tool == "tlsaudit"}
    lines = []
    for other in outcomes:
        base = mine.get(other.run.run.targets)
        if other.run.run.tool == "tlsaudit" or base is None or other.rate == 0:
            continue
        memory = other.run.run.peak_rss_bytes
        lines.append(
            f"tlsaudit / {other.label} on the same {other.run.run.targets} endpoints: "
            f"throughput x{base.rate / other.rate:.1f}, "
            f"peak memory x{base.run.run.peak_rss_bytes / memory if memory else 0:.2f}"
        )
    return lines or ["no ratios: tlsaudit or its peers did not run"]


def mismatches(outcomes: list[FullOutcome]) -> list[str]:
    lines = []
    for o in outcomes:
        for problem in o.run.run.problems[:SHOWN_MISMATCHES]:
            lines.append(f"{o.label}: {problem}")
        for kind, found in (
            ("version cells", o.score.versions.mismatches),
            ("suite sets", o.score.suites.mismatches),
            ("certificate facts", o.score.facts.mismatches),
        ):
            if not found:
                continue
            lines.append(f"{o.label}: {len(found)} wrong {kind}")
            lines += [f"    {m}" for m in found[:SHOWN_MISMATCHES]]
            if len(found) > SHOWN_MISMATCHES:
                lines.append(f"    ... {len(found) - SHOWN_MISMATCHES} more in the JSON record")
    return lines


def record(session: FullSession, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "meta": meta,
        "suite_truth": {
            f"{profile}/{key}": {v: sorted(s) for v, s in versions.items()}
            for (profile, key), versions in sorted(session.suite_truth.items())
        },
        "certificate_truth": session.cert_truth,
        "endpoints": [
            {"target": e.target, "profile": e.profile, "key_type": e.key_type, "accepted": sorted(e.accepted)}
            for e in session.lab.tls
        ],
        "skipped": session.skipped,
        "runs": [
            {
                "tool": o.run.run.tool,
                "mode": o.run.run.mode,
                "targets": o.run.run.targets,
                "repetitions": o.repetitions,
                "wall_seconds": round(o.run.run.wall_seconds, 4),
                "all_wall_seconds": [round(w, 4) for w in o.run.run.all_wall_seconds],
                "cpu_seconds": round(o.run.run.cpu_seconds, 4),
                "server_cpu_seconds": round(o.run.run.server_cpu_seconds, 4),
                "endpoints_per_second": round(o.rate, 3),
                "peak_rss_bytes": o.run.run.peak_rss_bytes,
                "exit_codes": list(o.run.run.exit_codes),
                "timed_out": o.run.run.timed_out,
                "problems": list(o.run.run.problems),
                "evidence": o.run.evidence,
                "versions": {"cells": o.score.versions.cells, "right": o.score.versions.right},
                "suites": {"cells": o.score.suites.cells, "right": o.score.suites.right},
                "certificate_facts": {
                    "reported": o.score.facts.reported,
                    "right": o.score.facts.right,
                    "not_reported": o.score.facts.missing,
                },
                "mismatches": [
                    *o.score.versions.mismatches,
                    *o.score.suites.mismatches,
                    *o.score.facts.mismatches,
                ],
                "reported_suites": {
                    t: {v: sorted(s) for v, s in row.items()} for t, row in o.run.suites.items()
                },
                "reported_certificates": o.run.certs,
            }
            for o in session.outcomes
        ],
    }


def run_full_mode(args: argparse.Namespace, machine: dict[str, Any]) -> int:
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    raw = args.out / f"raw-full-{stamp}"
    raw.mkdir(parents=True, exist_ok=True)
    print(f"starting {args.endpoints} TLS endpoints (nginx) on 127.0.0.1 ...", file=sys.stderr, flush=True)
    try:
        with running_lab(tls_count=args.endpoints, silent_count=0, workers=args.nginx_workers or None) as lab:
            print("probing the accepted suites of each profile ...", file=sys.stderr, flush=True)
            session = FullSession(args, lab, raw, probe_suites(lab.tls))
            for tool in args.tools:
                getattr(session, f"run_{tool.replace('.sh', '')}")()
    except LabError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    trust_note = (
        "The certificates are self-signed and no tool is given them as trusted: the right answer is "
        "'not trusted'."
        if session.ca_file is None
        else f"Every tool is given the lab's self-signed certificates as trust anchors ({session.ca_file}); "
        "Python's ssl verifies them: the right answer is 'trusted'."
    )
    print(
        f"\nFull scan (versions + certificate + suites): tlsaudit and SSLyze on {len(lab.tls)} endpoints "
        f"and on "
        f"the first {len(session.subset)} (one per profile and key type), testssl.sh on those "
        f"{len(session.subset)} only (it is slow). {trust_note}\n"
    )
    load, cpus = machine["load_average_at_start"][0], machine["cpus"] or 1
    if load > cpus:
        print(
            f"note: the machine was busy (1-minute load average {load} on {cpus} CPUs at the start): "
            "wall times are inflated, CPU times less so\n"
        )
    print(table(session.outcomes))
    print()
    for line in ratios(session.outcomes):
        print(line)
    problems = mismatches(session.outcomes)
    if problems:
        print("\nDifferences from the known truth and tool problems:")
        for line in problems:
            print(f"  {line}")
    for name, reason in session.skipped.items():
        print(f"\nskipped {name}: {reason}")
    meta = {
        "mode": "full",
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "tool_versions": session.versions,
        "settings": {
            "endpoints": args.endpoints,
            "full_endpoints": args.full_endpoints,
            "testssl_pool": args.testssl_pool,
            "connect_timeout": args.connect_timeout,
            "repeat": args.repeat,
            "trust_anchor": str(session.ca_file) if session.ca_file else None,
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record(session, meta), indent=2) + "\n"
    path = args.out / f"full-{stamp}.json"
    path.write_text(text)
    (args.out / "latest-full.json").write_text(text)
    print(f"\nrecord: {path}\neach tool's own output: {raw}")
    return 0
