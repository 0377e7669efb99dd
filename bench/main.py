"""Start the loopback lab, run every scanner on the same endpoints, score, print and record."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.fullmode import run_full_mode
from bench.lab import Lab, running_lab
from bench.measure import TreeMemorySampler, run_measured, tree_cpu_seconds
from bench.model import Endpoint, ToolRun
from bench.nginx import LabError
from bench.paired import Paired
from bench.report import (
    Outcome,
    mismatch_section,
    outcome,
    ratios,
    record,
    silent_section,
    table,
    write_record,
)
from bench.scanners import sslscan, sslyze
from bench.scanners import tlsaudit as tlsaudit_scanner
from bench.scanners.common import RunSpec, ScannerUnavailable

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "bench" / "out"
BASELINE = "tlsaudit (baseline)"
TOOLS = ("tlsaudit", "sslscan", "sslyze")
FULL_TOOLS = ("tlsaudit", "sslyze", "testssl.sh")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Benchmark tlsaudit's version sweep against sslscan and sslyze on loopback endpoints "
        "(--mode full: versions + certificate + suites against sslyze and testssl.sh).",
    )
    parser.add_argument(
        "--mode",
        choices=("protocols", "full"),
        default="protocols",
        help="protocols (default): version sweep only; full: versions + certificate + cipher suites",
    )
    parser.add_argument(
        "--full-endpoints",
        type=int,
        default=14,
        help="full mode: endpoints for testssl.sh (and a same-size run of the others), default 14 = "
        "one per profile and key type",
    )
    parser.add_argument(
        "--testssl-pool",
        type=int,
        default=0,
        help="full mode: testssl.sh processes at once (default: 2 x CPUs)",
    )
    parser.add_argument(
        "--testssl-no-mass",
        action="store_true",
        help="full mode: skip the second testssl.sh run in its own mass mode (--file --parallel)",
    )
    parser.add_argument(
        "--no-trust-anchor",
        action="store_true",
        help="full mode: do not give the tools the lab's certificates as trusted (truth: not trusted)",
    )
    parser.add_argument(
        "--testssl-timeout",
        type=float,
        default=200.0,
        help="full mode: hard limit for each testssl.sh run (s)",
    )
    parser.add_argument("--endpoints", type=int, default=105, help="TLS endpoints (nginx), default 105")
    parser.add_argument("--silent", type=int, default=3, help="silent TCP endpoints, default 3 (0: none)")
    parser.add_argument(
        "--tools",
        default="",
        help="comma list among tlsaudit,sslscan,sslyze (full mode: tlsaudit,sslyze,testssl.sh); default: all",
    )
    parser.add_argument(
        "--sslscan-pool",
        type=int,
        default=0,
        help="parallel sslscan processes, one per endpoint (default: 4 x CPUs); 0 or less: default",
    )
    parser.add_argument(
        "--connect-timeout", type=float, default=3.0, help="per-connection timeout given to the tools (s)"
    )
    parser.add_argument("--run-timeout", type=float, default=150.0, help="hard limit for one tool run (s)")
    parser.add_argument(
        "--budget", type=float, default=540.0, help="hard limit for all tool runs together (s)"
    )
    parser.add_argument(
        "--tlsaudit-arg",
        action="append",
        default=[],
        help="extra argument for `tlsaudit scan` (repeatable, e.g. --tlsaudit-arg=--timeout=3)",
    )
    parser.add_argument(
        "--tlsaudit-baseline",
        type=Path,
        metavar="DIR",
        help="also run the tlsaudit package of checkout DIR (an older version) as the row "
        "'tlsaudit (baseline)', alternating with this checkout's run by run, and print after/before ratios",
    )
    parser.add_argument(
        "--tlsaudit-baseline-arg",
        action="append",
        default=None,
        help="extra argument for the baseline's `tlsaudit scan` (repeatable); "
        "default: the --tlsaudit-arg ones",
    )
    parser.add_argument(
        "--source-compile",
        action="store_true",
        help="run tlsaudit as the environment says (with PYTHONDONTWRITEBYTECODE set, every run compiles "
        "the package from source again); default: compiled once beforehand and kept, as when installed",
    )
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each TLS-only run (median)")
    parser.add_argument("--sslyze-repeat", type=int, default=1, help="at most this many sslyze repetitions")
    parser.add_argument("--nginx-workers", type=int, default=0, help="nginx worker processes (default: CPUs)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the JSON record goes")
    args = parser.parse_args(argv)
    allowed = FULL_TOOLS if args.mode == "full" else TOOLS
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()] or list(allowed)
    unknown = [t for t in args.tools if t not in allowed]
    if unknown:
        parser.error(f"unknown tool(s): {', '.join(unknown)}")
    if args.endpoints < 1 or args.silent < 0 or args.repeat < 1 or args.sslyze_repeat < 1:
        parser.error("--endpoints, --repeat and --sslyze-repeat must be >= 1, --silent >= 0")
    if args.full_endpoints < 1:
        parser.error("--full-endpoints must be >= 1")
    if args.tlsaudit_baseline is not None:
        if args.mode == "full" or "tlsaudit" not in args.tools:
            parser.error("--tlsaudit-baseline needs protocol mode and the tool tlsaudit")
        if not (args.tlsaudit_baseline / "tlsaudit" / "__init__.py").is_file():
            parser.error(f"--tlsaudit-baseline: no tlsaudit package in {args.tlsaudit_baseline}")
        args.tlsaudit_baseline = args.tlsaudit_baseline.resolve()
    if args.tlsaudit_baseline_arg is None:
        args.tlsaudit_baseline_arg = args.tlsaudit_arg
    if args.testssl_pool <= 0:
        args.testssl_pool = 2 * (os.cpu_count() or 1)
    if args.sslscan_pool <= 0:
        args.sslscan_pool = 4 * (os.cpu_count() or 1)
    return args


def spread(tls: list[Endpoint], silent: list[Endpoint]) -> list[Endpoint]:
    """Silent endpoints placed evenly among the TLS ones (not all at the start or at the end)."""
    if not silent:
        return list(tls)
    mixed = list(tls)
    step = len(tls) // (len(silent) + 1) or 1
    for i, endpoint in enumerate(silent):
        mixed.insert(min(len(mixed), (i + 1) * step + i), endpoint)
    return mixed


def machine() -> dict[str, Any]:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


class Session:
    """Runs the selected tools one after the other, each bounded by the run limit and the budget."""

    def __init__(self, args: argparse.Namespace, lab: Lab, workdir: Path) -> None:
        self.args = args
        self.lab = lab
        self.workdir = workdir
        self.deadline = time.monotonic() + args.budget
        self.outcomes: list[Outcome] = []
        self.skipped: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self.budgets: dict[str, str] = {}
        self.startup: dict[str, float] = {}
        self.paired: list[Paired] = []
        self.imported: dict[str, str] = {}
        self.machine = machine()

    def measure_startup(self, tool: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        """Median time of a do-nothing invocation: the fixed cost inside every wall time."""
        times = []
        for _ in range(3):
            with TreeMemorySampler() as sampler:
                done = run_measured(argv, timeout=60, sampler=sampler, env=env)
            times.append(done.seconds)
        self.startup[tool] = sorted(times)[1]

    def spec(self, tool: str, mode: str, endpoints: list[Endpoint], attempt: int) -> RunSpec | None:
        remaining = self.deadline - time.monotonic()
        if remaining < 5:
            self.skipped[f"{tool} ({mode})"] = "overall time budget used up"
            return None
        # a fresh directory per run: a run that writes nothing must not be scored on an older file
        slug = "".join(c if c.isalnum() else "-" for c in f"{tool}-{mode}-{attempt}")
        workdir = self.workdir / slug
        workdir.mkdir(parents=True)
        return RunSpec(
            endpoints=endpoints,
            mode=mode,
            workdir=workdir,
            timeout=min(self.args.run_timeout, remaining),
            connect_timeout=self.args.connect_timeout,
        )

    def measure(
        self, mode: str, endpoints: list[Endpoint], runners: dict[str, Callable[[RunSpec], ToolRun]]
    ) -> dict[str, list[ToolRun]]:
        """Repetitions of each tool's run; with several tools they alternate run by run (the order is
        reversed every other repetition), so that drifting load on the machine hits them alike."""
        repeats = 1 if mode.startswith("mixed") else self.args.repeat
        if "sslyze" in runners:
            repeats = min(repeats, self.args.sslyze_repeat)
        runs: dict[str, list[ToolRun]] = {tool: [] for tool in runners}
        for i in range(repeats):
            for tool in list(runners) if i % 2 == 0 else reversed(runners):
                spec = self.spec(tool, mode, endpoints, i)
                if spec is None:
                    break
                progress = f"  {tool} ({mode}): {len(endpoints)} endpoints, run {i + 1}/{repeats} ..."
                print(progress, file=sys.stderr, flush=True)
                server_before = tree_cpu_seconds(self.lab.nginx_pid)
                result = runners[tool](spec)
                server_cpu = tree_cpu_seconds(self.lab.nginx_pid) - server_before
                runs[tool].append(replace(result, server_cpu_seconds=server_cpu))
        for done in runs.values():
            if done:
                self.outcomes.append(outcome(done, self.lab.tls, self.lab.silent))
        return runs

    def run_tlsaudit(self) -> None:
        bytecode = not self.args.source_compile
        checkouts = [tlsaudit_scanner.Checkout(bytecode=bytecode)]
        if self.args.tlsaudit_baseline is not None:
            # both as `python -m tlsaudit` from their own directory: the same start-up path
            checkouts = [
                tlsaudit_scanner.Checkout(root=REPO, bytecode=bytecode),
                tlsaudit_scanner.Checkout(tool=BASELINE, root=self.args.tlsaudit_baseline, bytecode=bytecode),
            ]
        sweeps: dict[str, Callable[[RunSpec], ToolRun]] = {}
        with_certs: dict[str, Callable[[RunSpec], ToolRun]] = {}
        without_suites: dict[str, Callable[[RunSpec], ToolRun]] = {}
        for checkout in checkouts:
            user_args = (
                self.args.tlsaudit_baseline_arg if checkout.tool == BASELINE else self.args.tlsaudit_arg
            )
            try:
                tlsaudit_scanner.compile_bytecode(checkout)
                tlsaudit_scanner.check_available(checkout)
                if checkout.root is not None:
                    self.imported[checkout.tool] = (
                        f"{tlsaudit_scanner.imported_from(checkout)} @ {tlsaudit_scanner.commit(checkout)}"
                    )
                    print(f"{checkout.tool} runs {self.imported[checkout.tool]}", file=sys.stderr, flush=True)
            except ScannerUnavailable as exc:
                self.skipped[checkout.tool] = str(exc)
                continue
            extra = tlsaudit_scanner.scan_args(user_args, self.args.connect_timeout, checkout=checkout)
            full = tlsaudit_scanner.scan_args(
                user_args, self.args.connect_timeout, protocol_only=False, checkout=checkout
            )
            self.budgets[checkout.tool] = " ".join(extra) or "tlsaudit defaults"
            prefix, env = tlsaudit_scanner.command(checkout)
            self.measure_startup(checkout.tool, [*prefix, "--version"], env)
            sweeps[checkout.tool] = self.tlsaudit_runner(checkout, extra)
            if full != extra:
                with_certs[checkout.tool] = self.tlsaudit_runner(checkout, full)
                if "--ciphers" not in full and "--no-ciphers" not in full:
                    # the defaults before suites were enumerated by default: the cost of that choice
                    without_suites[checkout.tool] = self.tlsaudit_runner(checkout, [*full, "--no-ciphers"])
        # what a user gets without the protocol-only switches (certificates and cipher suites included)
        modes = [
            ("tls", self.lab.tls, sweeps),
            ("tls, defaults", self.lab.tls, with_certs),
            ("tls, defaults without suites", self.lab.tls, without_suites),
        ]
        if self.lab.silent:
            modes.append(("mixed", spread(self.lab.tls, self.lab.silent), sweeps))
        for mode, endpoints, runners in modes:
            if not runners:
                continue
            runs = self.measure(mode, endpoints, runners)
            if len(runs) == 2 and all(runs.values()):
                after, before = self.outcomes[-2:]
                self.paired.append(
                    Paired(
                        mode=mode,
                        after=tuple(runs["tlsaudit"]),
                        before=tuple(runs[BASELINE]),
                        after_outcome=after,
                        before_outcome=before,
                    )
                )

    def tlsaudit_runner(
        self, checkout: tlsaudit_scanner.Checkout, args: list[str]
    ) -> Callable[[RunSpec], ToolRun]:
        def runner(spec: RunSpec) -> ToolRun:
            result, version = tlsaudit_scanner.run(spec, args, checkout)
            self.versions[checkout.tool] = version
            return result

        return runner

    def run_sslscan(self) -> None:
        try:
            self.versions["sslscan"] = sslscan.version()
            self.measure_startup("sslscan", [sslscan.binary(), "--version"])
        except ScannerUnavailable as exc:
            self.skipped["sslscan"] = str(exc)
            return
        pool = self.args.sslscan_pool
        self.budgets["sslscan"] = f"--timeout={max(1, round(self.args.connect_timeout))} per connection"
        self.measure("tls", self.lab.tls, {"sslscan": sslscan.run_sequential})
        self.measure(f"tls, pool {pool}", self.lab.tls, {"sslscan": lambda s: sslscan.run_pool(s, pool)})
        if self.lab.silent:
            mixed = spread(self.lab.tls, self.lab.silent)
            self.measure(f"mixed, pool {pool}", mixed, {"sslscan": lambda s: sslscan.run_pool(s, pool)})

    def run_sslyze(self) -> None:
        try:
            sslyze.ensure_installed()
            self.versions["sslyze"] = sslyze.version()
            self.measure_startup("sslyze", [str(sslyze.python()), "-m", "sslyze", "--help"])
        except ScannerUnavailable as exc:
            self.skipped["sslyze"] = str(exc)
            return
        self.budgets["sslyze"] = "sslyze defaults (no timeout option)"
        self.measure("tls", self.lab.tls, {"sslyze": sslyze.run})
        if self.lab.silent:
            self.measure("mixed", spread(self.lab.tls, self.lab.silent), {"sslyze": sslyze.run})


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.mode == "full":
        return run_full_mode(args, machine())
    started = dt.datetime.now(dt.UTC)
    print(
        f"starting {args.endpoints} TLS endpoints (nginx) and {args.silent} silent ones on 127.0.0.1 ...",
        file=sys.stderr,
        flush=True,
    )
    # every tool's own output files are kept as evidence next to the record
    raw = args.out / f"raw-{started.strftime('%Y%m%dT%H%M%SZ')}"
    raw.mkdir(parents=True, exist_ok=True)
    try:
        with running_lab(
            tls_count=args.endpoints, silent_count=args.silent, workers=args.nginx_workers or None
        ) as lab:
            print("endpoint truth verified with Python's ssl client", file=sys.stderr, flush=True)
            session = Session(args, lab, raw)
            for tool in args.tools:
                getattr(session, f"run_{tool}")()
    except LabError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return finish(args, lab, session, started)


def finish(args: argparse.Namespace, lab: Lab, session: Session, started: dt.datetime) -> int:
    outcomes = session.outcomes
    load = session.machine["load_average_at_start"][0]
    cpus = session.machine["cpus"] or 1
    if load > cpus:
        print(
            f"\nnote: the machine was busy (1-minute load average {load} on {cpus} CPUs at the start): "
            "wall times are inflated, CPU times less so",
        )
    print()
    print(table(outcomes, session.startup))
    print()
    for line in ratios(outcomes):
        print(line)
    for pair in session.paired:
        print()
        for line in pair.lines():
            print(line)
    silent_lines = silent_section(outcomes, session.budgets)
    if silent_lines:
        print("\nSilent endpoints (accept TCP, never answer):")
        for line in silent_lines:
            print(f"  {line}")
    problems = mismatch_section(outcomes)
    if problems:
        print("\nWrong verdicts and tool problems:")
        for line in problems:
            print(f"  {line}")
    for name, reason in session.skipped.items():
        print(f"\nskipped {name}: {reason}")
    meta = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": session.machine,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "tool_versions": session.versions,
        "timeouts": session.budgets,
        "startup_seconds": {k: round(v, 4) for k, v in session.startup.items()},
        "imported_from": session.imported,
        "settings": {
            "endpoints": args.endpoints,
            "silent": args.silent,
            "sslscan_pool": args.sslscan_pool,
            "connect_timeout": args.connect_timeout,
            "run_timeout": args.run_timeout,
            "budget": args.budget,
            "repeat": args.repeat,
            "sslyze_repeat": args.sslyze_repeat,
            "tlsaudit_baseline": str(args.tlsaudit_baseline or ""),
            "tlsaudit_bytecode": "from source every run" if args.source_compile else "compiled once, kept",
        },
    }
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    data = record(meta=meta, endpoints=lab.all, outcomes=outcomes, skipped=session.skipped)
    data["paired"] = [pair.record() for pair in session.paired]
    path = write_record(args.out, stamp, data)
    print(f"\nrecord: {path}\neach tool's own output: {session.workdir}")
    return 0
