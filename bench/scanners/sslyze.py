"""SSLyze (PyPI, in its own venv under bench/), protocol scans only, read from its JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.certfacts import hash_label, key_label, minute, parse_time, yes_no
from bench.fullmodel import CertVerdicts, FullRun, SuiteVerdicts
from bench.measure import TreeMemorySampler, run_measured
from bench.model import Status, ToolRun, Verdicts
from bench.scanners.common import RunSpec, ScannerUnavailable

VENV = Path(__file__).resolve().parent.parent / ".venv-sslyze"
INSTALL_TIMEOUT = 600.0
# the per-version suite enumeration is SSLyze's protocol scan; the Mozilla check would add more work
PROTOCOL_ONLY = [
    "--sslv2",
    "--sslv3",
    "--tlsv1",
    "--tlsv1_1",
    "--tlsv1_2",
    "--tlsv1_3",
    "--mozilla_config=disable",
    "--quiet",
]
RESULT_KEY = {
    "SSLv2": "ssl_2_0_cipher_suites",
    "SSLv3": "ssl_3_0_cipher_suites",
    "TLSv1.0": "tls_1_0_cipher_suites",
    "TLSv1.1": "tls_1_1_cipher_suites",
    "TLSv1.2": "tls_1_2_cipher_suites",
    "TLSv1.3": "tls_1_3_cipher_suites",
}


def python() -> Path:
    return VENV / "bin" / "python"


def ensure_installed() -> None:
    """Create bench/.venv-sslyze with sslyze on first use."""
    if python().exists():
        probe = subprocess.run(
            [str(python()), "-c", "import sslyze"], capture_output=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return
    print(f"installing sslyze into {VENV} (first run only) ...", file=sys.stderr, flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(python()), "-m", "pip", "install", "--quiet", "sslyze"],
    ]
    for argv in steps:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ScannerUnavailable(f"{' '.join(argv)} timed out") from exc
        if done.returncode != 0:
            raise ScannerUnavailable(f"{' '.join(argv)} failed: {done.stderr.strip()[-500:]}")


def version() -> str:
    done = subprocess.run(
        [str(python()), "-c", "from importlib.metadata import version; print(version('sslyze'))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def parse_json(path: Path) -> Verdicts:
    verdicts: Verdicts = {}
    if not path.exists():
        return verdicts
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        return verdicts
    for server in document.get("server_scan_results", []):
        location = server.get("server_location", {})
        target = f"{location.get('ip_address') or location.get('hostname')}:{location.get('port')}"
        row: dict[str, Status] = {}
        scan = server.get("scan_result") or {}
        connected = server.get("connectivity_status") == "COMPLETED"
        for version_name, key in RESULT_KEY.items():
            attempt = scan.get(key) or {}
            result = attempt.get("result")
            if not connected or attempt.get("status") != "COMPLETED" or not result:
                row[version_name] = Status.UNKNOWN
            else:
                supported = result.get("is_tls_version_supported")
                row[version_name] = Status.ACCEPTED if supported else Status.REJECTED
        verdicts[target] = row
    return verdicts


def run(spec: RunSpec) -> ToolRun:
    targets = spec.write_targets()
    out = spec.workdir / "sslyze.json"
    argv = [str(python()), "-m", "sslyze", *PROTOCOL_ONLY, f"--json_out={out}", f"--targets_in={targets}"]
    with TreeMemorySampler() as sampler:
        done = run_measured(argv, timeout=spec.timeout, sampler=sampler)
    problems = []
    if done.timed_out:
        problems.append(f"timed out after {done.seconds:.1f}s")
    elif done.returncode != 0:
        problems.append(f"exit {done.returncode}: {done.stderr_tail.strip()[-300:]}")
    return ToolRun(
        tool="sslyze",
        mode=spec.mode,
        targets=len(spec.endpoints),
        wall_seconds=done.seconds,
        cpu_seconds=done.cpu_seconds,
        peak_rss_bytes=sampler.peak_bytes,
        verdicts=parse_json(out),
        exit_codes=(done.returncode,),
        timed_out=done.timed_out,
        problems=tuple(problems),
    )


# the certificate scan plus the per-version suite scans (SSLyze has no separate version scan)
FULL_SCAN = ["--certinfo", *PROTOCOL_ONLY]


def parse_full(path: Path) -> tuple[SuiteVerdicts, CertVerdicts]:
    suites: SuiteVerdicts = {}
    certs: CertVerdicts = {}
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return suites, certs
    for server in document.get("server_scan_results", []):
        location = server.get("server_location", {})
        target = f"{location.get('ip_address') or location.get('hostname')}:{location.get('port')}"
        scan = server.get("scan_result") or {}
        accepted: dict[str, frozenset[str]] = {}
        for version_name, key in RESULT_KEY.items():
            result = (scan.get(key) or {}).get("result") or {}
            names = [
                (a.get("cipher_suite") or {}).get("name") for a in result.get("accepted_cipher_suites") or []
            ]
            if names:
                accepted[version_name] = frozenset(str(n) for n in names if n)
        suites[target] = accepted
        certs[target] = _cert_facts(scan)
    return suites, certs


def _cert_facts(scan: dict[str, Any]) -> dict[str, str]:
    """What SSLyze's JSON states; it has no days-left or hostname-match field (6.x)."""
    facts: dict[str, str] = {}
    info = (scan.get("certificate_info") or {}).get("result") or {}
    deployments = info.get("certificate_deployments") or []
    if not deployments:
        return facts
    deployment = deployments[0]
    chain = deployment.get("received_certificate_chain") or []
    if chain:
        leaf = chain[0]
        if (moment := parse_time(str(leaf.get("not_valid_after", "")))) is not None:
            facts["not_after"] = minute(moment)
        key = leaf.get("public_key") or {}
        if key.get("algorithm") and isinstance(key.get("key_size"), int):
            facts["key"] = key_label(str(key["algorithm"]).removesuffix("PublicKey"), key["key_size"])
        digest = (leaf.get("signature_hash_algorithm") or {}).get("name")
        if digest:
            facts["signature_hash"] = hash_label(str(digest))
    validations = deployment.get("path_validation_results") or []
    if validations:
        facts["trusted"] = yes_no(any(v.get("was_validation_successful") for v in validations))
        supplied = [v for v in validations if (v.get("trust_store") or {}).get("name") == "Supplied CA file"]
        if supplied and supplied[0].get("validation_error"):
            facts["trusted_detail"] = f"Supplied CA file: {supplied[0]['validation_error']}"
    return facts


def run_full(spec: RunSpec, ca_file: Path | None) -> FullRun:
    targets = spec.write_targets()
    out = spec.workdir / "sslyze.json"
    trust = [f"--certinfo_ca_file={ca_file}"] if ca_file else []
    argv = [str(python()), "-m", "sslyze", *FULL_SCAN, *trust, f"--json_out={out}", f"--targets_in={targets}"]
    with TreeMemorySampler() as sampler:
        done = run_measured(argv, timeout=spec.timeout, sampler=sampler)
    problems = []
    if done.timed_out:
        problems.append(f"timed out after {done.seconds:.1f}s")
    elif done.returncode != 0:
        problems.append(f"exit {done.returncode}: {done.stderr_tail.strip()[-300:]}")
    run_result = ToolRun(
        tool="sslyze",
        mode=spec.mode,
        targets=len(spec.endpoints),
        wall_seconds=done.seconds,
        cpu_seconds=done.cpu_seconds,
        peak_rss_bytes=sampler.peak_bytes,
        verdicts=parse_json(out),
        exit_codes=(done.returncode,),
        timed_out=done.timed_out,
        problems=tuple(problems),
    )
    suites, certs = parse_full(out)
    return FullRun(run=run_result, suites=suites, certs=certs, evidence=str(out))
