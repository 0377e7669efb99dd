"""testssl.sh (Debian package), protocols + each cipher per protocol + server defaults, flat JSON.

Two ways to scan many endpoints: one testssl.sh process per endpoint, a few at a time (run_full), or
its own mass mode, `--file` with `--parallel` (run_mass: one command line per endpoint, up to its
MAX_PARALLEL, default 20, at once).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.certfacts import hash_label, key_label, minute, parse_time, yes_no
from bench.fullmodel import CertVerdicts, FullRun, SuiteVerdicts
from bench.measure import Completed, TreeMemorySampler, run_measured
from bench.model import VERSIONS, Status, ToolRun, Verdicts
from bench.scanners.common import RunSpec, ScannerUnavailable
from tlsaudit.tls.constants import CIPHER_SUITES

FULL_SCAN = ["-p", "-E", "-S", "--warnings", "off", "--quiet", "--color", "0"]
PROTOCOL_IDS = {
    "SSLv2": "SSLv2",
    "SSLv3": "SSLv3",
    "TLS1": "TLSv1.0",
    "TLS1_1": "TLSv1.1",
    "TLS1_2": "TLSv1.2",
    "TLS1_3": "TLSv1.3",
}
CIPHER_PROTOCOLS = {
    "ssl2": "SSLv2",
    "ssl3": "SSLv3",
    "tls1": "TLSv1.0",
    "tls1_1": "TLSv1.1",
    "tls1_2": "TLSv1.2",
    "tls1_3": "TLSv1.3",
}
_CIPHER_ID = re.compile(r"^cipher-(ssl\d|tls1(?:_\d)?)_x([0-9a-f]+)$", re.IGNORECASE)


def binary() -> str:
    path = shutil.which("testssl") or shutil.which("testssl.sh")
    if path is None:
        raise ScannerUnavailable("testssl.sh not found: apt-get install -y testssl.sh")
    return path


def version() -> str:
    out = subprocess.run([binary(), "--version"], capture_output=True, text=True, timeout=30, check=False)
    match = re.search(r"testssl(?:\.sh)?\s+(\d[\w.+-]*)", re.sub(r"\x1b\[[0-9;]*m", "", out.stdout))
    return match[1] if match else "unknown"


def _load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text(errors="replace"))
    except ValueError:
        return []
    return [item for item in document if isinstance(item, dict)] if isinstance(document, list) else []


def parse_json(path: Path) -> tuple[dict[str, Status], dict[str, frozenset[str]], dict[str, str]]:
    """Versions, accepted suites per version and certificate facts of one endpoint's flat JSON."""
    items = _load(path)
    row: dict[str, Status] = {}
    suites: dict[str, set[str]] = {}
    facts: dict[str, str] = {}
    for item in items:
        ident = str(item.get("id", ""))
        finding = str(item.get("finding", "")).strip()
        if ident in PROTOCOL_IDS:
            lowered = finding.lower()
            # "not offered", "TLSv1.1 is not offered, and downgraded ...", "offered (deprecated)"
            status = (
                Status.REJECTED
                if "not offered" in lowered
                else Status.ACCEPTED
                if lowered.startswith("offered")
                else Status.UNKNOWN
            )
            row[PROTOCOL_IDS[ident]] = status
        elif (match := _CIPHER_ID.match(ident)) is not None:
            suite = CIPHER_SUITES.get(int(match[2], 16))
            name = suite.name if suite else f"0x{match[2]}"
            suites.setdefault(CIPHER_PROTOCOLS[match[1].lower()], set()).add(name)
        elif ident == "cert_notAfter" and (moment := parse_time(finding)) is not None:
            facts["not_after"] = minute(moment)
        elif ident == "cert_expirationStatus" and (days := re.search(r"\((\d+)\)", finding)):
            facts["days_left"] = days[1]
        elif ident == "cert_keySize" and (size := re.match(r"(\w+)\s+(\d+)\s+bits", finding)):
            facts["key"] = key_label(size[1], int(size[2]))
        elif ident == "cert_signatureAlgorithm":
            facts["signature_hash"] = hash_label(finding)
        elif ident == "cert_trust":
            facts["hostname_match"] = yes_no(finding.lower().startswith("ok"))
        elif ident == "cert_chain_of_trust":
            facts["trusted"] = yes_no(finding.lower().startswith("passed"))
            facts["trusted_detail"] = finding
    for version_name in VERSIONS:
        row.setdefault(version_name, Status.UNKNOWN)
    accepted = {v: frozenset(s) for v, s in suites.items()}
    return row, accepted, facts


def _scan_options(spec: RunSpec, ca_file: Path | None) -> list[str]:
    seconds = str(max(1, round(spec.connect_timeout)))
    trust = ["--add-ca", str(ca_file)] if ca_file else []
    return [*FULL_SCAN, "--connect-timeout", seconds, "--openssl-timeout", seconds, *trust]


def _argv(spec: RunSpec, json_path: Path, csv_path: Path, target: str, ca_file: Path | None) -> list[str]:
    outputs = ["--jsonfile", str(json_path), "--csvfile", str(csv_path)]
    return [binary(), *_scan_options(spec, ca_file), *outputs, target]


def run_full(spec: RunSpec, pool_size: int, ca_file: Path | None) -> FullRun:
    """One testssl.sh per endpoint, pool_size at a time, each bounded by what is left of the run."""
    deadline = time.perf_counter() + spec.timeout
    results: dict[str, Completed] = {}
    lock = threading.Lock()

    def one(index_target: tuple[int, str]) -> None:
        index, target = index_target
        remaining = deadline - time.perf_counter()
        if remaining < 1:
            return
        done = run_measured(
            _argv(
                spec,
                spec.workdir / f"testssl-{index}.json",
                spec.workdir / f"testssl-{index}.csv",
                target,
                ca_file,
            ),
            timeout=remaining,
            sampler=sampler,
            stdout_path=spec.workdir / f"testssl-{index}.txt",
        )
        with lock:
            results[target] = done

    start = time.perf_counter()
    with TreeMemorySampler() as sampler, ThreadPoolExecutor(max_workers=pool_size) as pool:
        list(pool.map(one, enumerate(spec.targets)))
    wall = time.perf_counter() - start
    verdicts: Verdicts = {}
    suites: SuiteVerdicts = {}
    certs: CertVerdicts = {}
    for index, target in enumerate(spec.targets):
        row, accepted, facts = parse_json(spec.workdir / f"testssl-{index}.json")
        verdicts[target], suites[target], certs[target] = row, accepted, facts
    ordered = [results[t] for t in spec.targets if t in results]
    problems = [f"not started (run time limit): {t}" for t in spec.targets if t not in results]
    for target, done in results.items():
        if done.timed_out:
            problems.append(f"timed out after {done.seconds:.1f}s: {target}")
    run = ToolRun(
        tool="testssl.sh",
        mode=spec.mode,
        targets=len(spec.endpoints),
        wall_seconds=wall,
        cpu_seconds=sum(d.cpu_seconds for d in ordered),
        peak_rss_bytes=sampler.peak_bytes,
        verdicts=verdicts,
        exit_codes=tuple(sorted({d.returncode for d in ordered})),
        timed_out=any(d.timed_out for d in ordered) or len(results) < len(spec.targets),
        problems=tuple(problems),
        per_target_seconds={t: d.seconds for t, d in results.items()},
    )
    return FullRun(run=run, suites=suites, certs=certs, evidence=str(spec.workdir / "testssl-N.json"))


_MASS_FILE = re.compile(r"_p(\d+)-[^/]*\.json$")


def run_mass(spec: RunSpec, ca_file: Path | None) -> FullRun:
    """testssl.sh's mass mode: `--file CMDS --parallel`, one JSON file per endpoint in a directory."""
    options = _scan_options(spec, ca_file)
    if any(" " in option for option in options):
        raise ScannerUnavailable("testssl.sh mass mode splits its command file on spaces; a path has one")
    commands = spec.workdir / "testssl-commands.txt"
    commands.write_text("".join(" ".join([*options, target]) + "\n" for target in spec.targets))
    outdir = spec.workdir / "mass"
    outdir.mkdir()
    argv = [binary(), "--file", str(commands), "--parallel", "--color", "0"]
    argv += ["--jsonfile", f"{outdir}/", "--csvfile", f"{outdir}/"]
    with TreeMemorySampler() as sampler:
        done = run_measured(argv, timeout=spec.timeout, sampler=sampler, stdout_path=spec.workdir / "out.txt")
    by_port = {m[1]: path for path in outdir.glob("*.json") if (m := _MASS_FILE.search(path.name))}
    verdicts: Verdicts = {}
    suites: SuiteVerdicts = {}
    certs: CertVerdicts = {}
    for endpoint in spec.endpoints:
        path = by_port.get(str(endpoint.port))
        if path is None:
            continue
        verdicts[endpoint.target], suites[endpoint.target], certs[endpoint.target] = parse_json(path)
    problems = [f"timed out after {done.seconds:.1f}s"] if done.timed_out else []
    problems += [f"no JSON file for {e.target}" for e in spec.endpoints if str(e.port) not in by_port]
    run = ToolRun(
        tool="testssl.sh",
        mode=spec.mode,
        targets=len(spec.endpoints),
        wall_seconds=done.seconds,
        cpu_seconds=done.cpu_seconds,
        peak_rss_bytes=sampler.peak_bytes,
        verdicts=verdicts,
        exit_codes=(done.returncode,),
        timed_out=done.timed_out,
        problems=tuple(problems),
    )
    return FullRun(run=run, suites=suites, certs=certs, evidence=str(outdir / "127.0.0.1_pPORT-*.json"))
