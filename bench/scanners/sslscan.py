"""sslscan (Debian package), protocol detection only, read from its XML output."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.measure import Completed, TreeMemorySampler, run_measured
from bench.model import Status, ToolRun, Verdicts
from bench.scanners.common import RunSpec, ScannerUnavailable

# everything except the protocol sweep is switched off
PROTOCOL_ONLY = [
    "--no-colour",
    "--no-ciphersuites",
    "--no-fallback",
    "--no-renegotiation",
    "--no-compression",
    "--no-heartbleed",
    "--no-groups",
    "--no-check-certificate",
]
XML_VERSION = {
    ("ssl", "2"): "SSLv2",
    ("ssl", "3"): "SSLv3",
    ("tls", "1.0"): "TLSv1.0",
    ("tls", "1.1"): "TLSv1.1",
    ("tls", "1.2"): "TLSv1.2",
    ("tls", "1.3"): "TLSv1.3",
}


def binary() -> str:
    path = shutil.which("sslscan")
    if path is None:
        raise ScannerUnavailable("sslscan not found: apt-get install -y sslscan")
    return path


def version() -> str:
    out = subprocess.run([binary(), "--version"], capture_output=True, text=True, timeout=10, check=False)
    words = [w for w in out.stdout.replace("\x1b", " ").split() if w[:1].isdigit()]
    return words[0] if words else "unknown"


def parse_xml(path: Path) -> Verdicts:
    """Target -> version -> status, for every <ssltest> in one sslscan XML file."""
    verdicts: Verdicts = {}
    if not path.exists() or path.stat().st_size == 0:
        return verdicts
    try:
        root = ET.parse(path).getroot()  # our own child's output on loopback
    except ET.ParseError:
        return verdicts
    for test in root.iter("ssltest"):
        target = f"{test.get('host')}:{test.get('port')}"
        row = verdicts.setdefault(target, {})
        for protocol in test.iter("protocol"):
            name = XML_VERSION.get((protocol.get("type", ""), protocol.get("version", "")))
            if name is not None:
                row[name] = Status.ACCEPTED if protocol.get("enabled") == "1" else Status.REJECTED
    return verdicts


def _argv(spec: RunSpec, xml_path: Path) -> list[str]:
    return [binary(), *PROTOCOL_ONLY, f"--timeout={max(1, round(spec.connect_timeout))}", f"--xml={xml_path}"]


def run_sequential(spec: RunSpec) -> ToolRun:
    """One sslscan process walks the whole target list (--targets), one endpoint after the other."""
    targets = spec.write_targets()
    xml_path = spec.workdir / "sslscan.xml"
    with TreeMemorySampler() as sampler:
        done = run_measured(
            [*_argv(spec, xml_path), f"--targets={targets}"], timeout=spec.timeout, sampler=sampler
        )
    return ToolRun(
        tool="sslscan",
        mode=spec.mode,
        targets=len(spec.endpoints),
        wall_seconds=done.seconds,
        cpu_seconds=done.cpu_seconds,
        peak_rss_bytes=sampler.peak_bytes,
        verdicts=parse_xml(xml_path),
        exit_codes=(done.returncode,),
        timed_out=done.timed_out,
        problems=_problems([done]),
    )


def run_pool(spec: RunSpec, pool_size: int) -> ToolRun:
    """One sslscan process per endpoint, pool_size of them at a time."""
    deadline = time.perf_counter() + spec.timeout
    results: dict[str, Completed] = {}
    lock = threading.Lock()

    def one(index_target: tuple[int, str]) -> None:
        index, target = index_target
        remaining = max(0.1, deadline - time.perf_counter())
        xml_path = spec.workdir / f"sslscan-{index}.xml"
        done = run_measured([*_argv(spec, xml_path), target], timeout=remaining, sampler=sampler)
        with lock:
            results[target] = done

    start = time.perf_counter()
    with TreeMemorySampler() as sampler, ThreadPoolExecutor(max_workers=pool_size) as pool:
        list(pool.map(one, enumerate(spec.targets)))
    wall = time.perf_counter() - start
    verdicts: Verdicts = {}
    for index in range(len(spec.targets)):
        verdicts.update(parse_xml(spec.workdir / f"sslscan-{index}.xml"))
    ordered = [results[t] for t in spec.targets if t in results]
    return ToolRun(
        tool="sslscan",
        mode=spec.mode,
        targets=len(spec.endpoints),
        wall_seconds=wall,
        cpu_seconds=sum(d.cpu_seconds for d in ordered),
        peak_rss_bytes=sampler.peak_bytes,
        verdicts=verdicts,
        exit_codes=tuple(sorted({d.returncode for d in ordered})),
        timed_out=any(d.timed_out for d in ordered),
        problems=_problems(ordered),
        per_target_seconds={t: d.seconds for t, d in results.items()},
    )


def _problems(runs: list[Completed]) -> tuple[str, ...]:
    problems = []
    for done in runs:
        if done.timed_out:
            problems.append(f"timed out after {done.seconds:.1f}s: {' '.join(done.argv[-1:])}")
        elif done.returncode != 0:
            problems.append(f"exit {done.returncode}: {done.stderr_tail.strip()[-300:]}")
    return tuple(problems)
