"""tlsaudit's own version sweep, run from this checkout (or an older one), read from its JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.certfacts import hash_label, key_label, minute, parse_time, yes_no
from bench.fullmodel import CertVerdicts, FullRun, SuiteVerdicts
from bench.measure import TreeMemorySampler, run_measured
from bench.model import VERSIONS, Status, ToolRun, Verdicts
from bench.scanners.common import RunSpec, ScannerUnavailable
from tlsaudit.tls.constants import suite_by_name

REPO = Path(__file__).resolve().parents[2]
# 1: findings at or above --fail-on, 3: something could not be assessed; both are results here
RESULT_EXIT_CODES = frozenset({0, 1, 3})


@dataclass(frozen=True, slots=True)
class Checkout:
    """Which tlsaudit runs: this checkout as installed (root None), or the package of a checkout
    directory run with `python -m tlsaudit` and the directory first on PYTHONPATH (and as the working
    directory, which `-m` puts before PYTHONPATH), so that it shadows the editable install."""

    tool: str = "tlsaudit"
    root: Path | None = None
    # Let Python keep the compiled modules (__pycache__, git-ignored) even where the environment says
    # PYTHONDONTWRITEBYTECODE, as an installed package has them: otherwise every run compiles the whole
    # package from source again, a cost no installed copy pays and that grows with the code's size.
    bytecode: bool = False

    @property
    def cwd(self) -> Path:
        return self.root or REPO


HERE = Checkout()


def python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def command(checkout: Checkout = HERE) -> tuple[list[str], dict[str, str]]:
    """argv prefix and environment that run the checkout's tlsaudit."""
    env = dict(os.environ)
    if checkout.bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    console = REPO / ".venv" / "bin" / "tlsaudit"
    if checkout.root is None and console.exists():
        return [str(console)], env
    root = checkout.cwd
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    if (root / "tlsaudit" / "__main__.py").exists():
        return [python(), "-m", "tlsaudit"], env
    return [python(), "-c", "import sys; from tlsaudit.cli import main; sys.exit(main())"], env


def compile_bytecode(checkout: Checkout) -> None:
    """Compile the checkout's package once before measuring (with `bytecode`: what an install does)."""
    if not checkout.bytecode:
        return
    _, env = command(checkout)
    package = checkout.cwd / "tlsaudit"
    subprocess.run(
        [python(), "-m", "compileall", "-q", str(package)],
        capture_output=True,
        timeout=120,
        env=env,
        cwd=checkout.cwd,
        check=False,
    )


def check_available(checkout: Checkout = HERE) -> None:
    argv, env = command(checkout)
    try:
        done = subprocess.run(
            [*argv, "scan", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=checkout.cwd,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ScannerUnavailable(f"tlsaudit could not be started: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ScannerUnavailable(f"`tlsaudit scan` is not available in {checkout.cwd} ({tail[0]})")


def imported_from(checkout: Checkout) -> str:
    """The tlsaudit package the checkout's command really imports (same interpreter, environment and
    working directory); refuses one from elsewhere, e.g. the editable install of another checkout."""
    _, env = command(checkout)
    probe = [python(), "-c", "import tlsaudit; print(tlsaudit.__file__)"]
    done = subprocess.run(
        probe, capture_output=True, text=True, timeout=60, env=env, cwd=checkout.cwd, check=False
    )
    where = Path(done.stdout.strip()).resolve().parent if done.returncode == 0 else None
    if where != (checkout.cwd / "tlsaudit").resolve():
        raise ScannerUnavailable(f"{checkout.tool}: imports tlsaudit from {where}, not from {checkout.cwd}")
    return str(where)


def commit(checkout: Checkout) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout.cwd), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    verdicts: Verdicts
    tool_version: str
    # time per endpoint as the report states it (elapsed_ms)
    seconds: dict[str, float]


# what a protocol-only sweep switches off, like the peers' protocol-only flags (when the CLI has them)
NOT_PROTOCOL_WORK = (
    ("--certificates", "--no-certificates"),
    ("--ciphers", "--no-ciphers"),
    ("--hsts", "--no-hsts"),
    ("--key-exchange", "--no-key-exchange"),
    ("--handshake-checks", "--no-handshake-checks"),
    ("--flaw-checks", "--no-flaw-checks"),
)


def scan_args(
    user_args: list[str],
    connect_timeout: float,
    *,
    protocol_only: bool = True,
    retries: int = 1,
    checkout: Checkout = HERE,
) -> list[str]:
    """The user's arguments, plus the shared per-connection timeout, one retry and (for the protocol
    sweep) no certificate or cipher-suite work, unless the user said otherwise."""
    argv, env = command(checkout)
    helptext = subprocess.run(
        [*argv, "scan", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=checkout.cwd,
        check=False,
    ).stdout
    args = list(user_args)
    if "--timeout" in helptext and not any(a.startswith("--timeout") for a in args):
        args += ["--timeout", f"{connect_timeout:g}"]
    if "--retries" in helptext and not any(a.startswith("--retries") for a in args):
        args += ["--retries", str(retries)]
    for on, off in NOT_PROTOCOL_WORK if protocol_only else ():
        if off in helptext and not any(a in (on, off) for a in args):
            args.append(off)
    return args


def parse_json(path: Path) -> Parsed:
    """Target -> version -> status, the tool version the report names, and each endpoint's time."""
    verdicts: Verdicts = {}
    seconds: dict[str, float] = {}
    if not path.exists():
        return Parsed(verdicts=verdicts, tool_version="unknown", seconds=seconds)
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        return Parsed(verdicts=verdicts, tool_version="unknown", seconds=seconds)
    for endpoint in document.get("endpoints", []):
        target = f"{endpoint.get('ip') or endpoint.get('host')}:{endpoint.get('port')}"
        if isinstance(endpoint.get("elapsed_ms"), int):
            seconds[target] = endpoint["elapsed_ms"] / 1000
        protocols = endpoint.get("protocols") or {}
        row: dict[str, Status] = {}
        for version_name in VERSIONS:
            status = (protocols.get(version_name) or {}).get("status")
            row[version_name] = Status(status) if status in set(Status) else Status.UNKNOWN
        verdicts[target] = row
    tool = document.get("tool") or {}
    return Parsed(verdicts=verdicts, tool_version=str(tool.get("version", "unknown")), seconds=seconds)


def run(spec: RunSpec, extra_args: list[str], checkout: Checkout = HERE) -> tuple[ToolRun, str]:
    argv, env = command(checkout)
    targets = spec.write_targets()
    out = spec.workdir / "tlsaudit.json"
    argv = [*argv, "scan", "-f", str(targets), "--format", "json", "-o", str(out), "--quiet", *extra_args]
    with TreeMemorySampler() as sampler:
        done = run_measured(argv, timeout=spec.timeout, sampler=sampler, env=env, cwd=checkout.cwd)
    problems = []
    if done.timed_out:
        problems.append(f"timed out after {done.seconds:.1f}s")
    elif done.returncode not in RESULT_EXIT_CODES:
        problems.append(f"exit {done.returncode}: {done.stderr_tail.strip()[-500:]}")
    parsed = parse_json(out)
    run_result = ToolRun(
        tool=checkout.tool,
        mode=spec.mode,
        targets=len(spec.endpoints),
        wall_seconds=done.seconds,
        cpu_seconds=done.cpu_seconds,
        peak_rss_bytes=sampler.peak_bytes,
        verdicts=parsed.verdicts,
        exit_codes=(done.returncode,),
        timed_out=done.timed_out,
        problems=tuple(problems),
        per_target_seconds=parsed.seconds,
    )
    return run_result, parsed.tool_version


def parse_full(path: Path) -> tuple[SuiteVerdicts, CertVerdicts]:
    """Accepted suites per version and certificate facts of every endpoint in a JSON report."""
    suites: SuiteVerdicts = {}
    certs: CertVerdicts = {}
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return suites, certs
    for endpoint in document.get("endpoints", []):
        target = f"{endpoint.get('ip') or endpoint.get('host')}:{endpoint.get('port')}"
        accepted: dict[str, frozenset[str]] = {}
        for entry in endpoint.get("cipher_suites") or []:
            names = {_iana(str(n)) for n in entry.get("accepted") or []}
            accepted[str(entry.get("version"))] = frozenset(names)
        suites[target] = accepted
        cert = endpoint.get("certificate") or {}
        facts: dict[str, str] = {}
        if (moment := parse_time(str(cert.get("not_after", "")))) is not None:
            facts["not_after"] = minute(moment)
        if isinstance(cert.get("days_left"), int):
            facts["days_left"] = str(cert["days_left"])
        if cert.get("key_type") and isinstance(cert.get("key_bits"), int):
            facts["key"] = key_label(str(cert["key_type"]), cert["key_bits"])
        if cert.get("signature_hash"):
            facts["signature_hash"] = hash_label(str(cert["signature_hash"]))
        for name in ("hostname_match", "trusted"):
            if isinstance(cert.get(name), bool):
                facts[name] = yes_no(cert[name])
        if cert.get("trust_error"):
            facts["trusted_detail"] = str(cert["trust_error"])
        certs[target] = facts
    return suites, certs


def _iana(name: str) -> str:
    suite = suite_by_name(name)
    return suite.name if suite else name


def run_full(spec: RunSpec, extra_args: list[str]) -> tuple[FullRun, str]:
    result, tool_version = run(spec, extra_args)
    suites, certs = parse_full(spec.workdir / "tlsaudit.json")
    evidence = str(spec.workdir / "tlsaudit.json")
    return FullRun(run=result, suites=suites, certs=certs, evidence=evidence), tool_version
