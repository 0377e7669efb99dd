"""Running processes: a JVM started with -Djdk.tls.client.protocols=TLSv1 and a Node started with
--tls-min-v1.3 (Node has no --tls-max-v1.1: it refuses to start with one) are found by PID, each after it
has really failed to reach a TLS 1.2-only loopback server; Node under a NODE_OPTIONS it refuses keeps its
version and gets a finding naming NODE_OPTIONS."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.inspectors.live import base_env, debian_jdk17, need
from tests.pins.test_services import HANDSHAKE
from tests.support.servers import VERSION_SETS, silent_server, tls_server
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.inspectors import InspectOptions, inspect_runtimes
from tlsaudit.models import Finding, RuntimeFacts
from tlsaudit.pins.procs import read_process, unit_of

POLICY = Path(__file__).resolve().parents[1] / "data" / "all-rules-policy.toml"
NODE_CLIENT = (
    "const t=require('tls');"
    "const s=t.connect({host:'127.0.0.1',port:+process.argv[1],rejectUnauthorized:false},"
    "()=>{console.log('OK '+s.getProtocol());s.end();});"
    "s.on('error',e=>console.log('FAIL '+e.code));setTimeout(()=>{},120000)"
)


@contextmanager
def running(argv: list[str], env: dict[str, str], cwd: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start a client that connects once, prints OK/FAIL, then stays up; yield it with that line."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line, proc.stderr.read() if proc.stderr else ""
        yield proc, line
    finally:
        proc.kill()
        proc.wait(timeout=30)


def judge(runtimes: list[RuntimeFacts]) -> list[Finding]:
    return list(evaluate(load_ruleset(POLICY), runtimes=runtimes).findings)


def run_by(rt: RuntimeFacts) -> tuple[str, ...]:
    value = rt.details.get("run_by")
    return value if isinstance(value, tuple) else ()


def for_pid(runtimes: list[RuntimeFacts], pid: int) -> RuntimeFacts:
    """The runtime object the process joined (other tests may run the same runtime at the same time)."""
    found = [r for r in runtimes if f"pid {pid}" in run_by(r)]
    assert found, [(r.subject, run_by(r)) for r in runtimes]
    assert found[0].process is not None
    return found[0]


def test_cgroup_unit_and_own_process() -> None:
    assert unit_of("0::/system.slice/tomcat10.service\n") == "tomcat10.service"
    assert unit_of("0::/user.slice/user-0.slice/session-3.scope\n") == "session-3.scope"
    assert unit_of("0::/\n") is None
    me = read_process(os.getpid())
    assert me is not None and me.argv and me.exe is not None


@pytest.mark.slow
def test_running_pinned_jvm_is_found_by_pid(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("reading other processes' /proc needs root (CI runs as root)")
    java = debian_jdk17() / "bin" / "java"
    (tmp_path / "Handshake.java").write_text(HANDSHAKE)
    with tls_server(VERSION_SETS["tls12"]) as server:
        argv = [
            str(java),
            "-Djdk.tls.client.protocols=TLSv1",
            str(tmp_path / "Handshake.java"),
            "127.0.0.1",
            str(server.port),
            "120000",
        ]
        with running(argv, base_env(), tmp_path) as (proc, line):
            assert line.startswith("FAIL"), line  # the pinned JVM really cannot reach a TLS 1.2-only server
            runtimes = inspect_runtimes(
                InspectOptions(
                    kinds=("java",),
                    extra_paths={"java": [java]},
                    search_system=False,
                    processes=True,
                    services=False,
                )
            )
            view = read_process(proc.pid)
    assert view is not None and view.user == "root" and view.exe == str(java.resolve())
    assert view.environ["PATH"] == base_env()["PATH"]
    rt = for_pid(runtimes, proc.pid)
    assert os.path.realpath(rt.path) == str(java.resolve())
    assert rt.version is not None
    if rt.process is not None and rt.process.pid == proc.pid:  # the first pinned process of this JDK
        assert rt.process.user == "root" and rt.process.unit == view.unit
        assert rt.process.cmdline == tuple(argv)
    assert any(
        p.setting == "-Djdk.tls.client.protocols" and p.source == f"process {proc.pid}" for p in rt.pins
    )
    finding = next(
        f
        for f in judge(runtimes)
        if f.subject == rt.subject and f.rule_id == "runtime.java.client-protocols-pinned-legacy"
    )
    assert finding.status == "fail"
    assert f"pid {proc.pid} `{shlex.join(argv)}`" in finding.message


@pytest.mark.slow
def test_running_node_with_tls_min_13_is_found_by_pid(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("reading other processes' /proc needs root (CI runs as root)")
    node = need("node", "apt-get install nodejs")
    with tls_server(VERSION_SETS["tls12"]) as server:
        argv = [str(node), "--tls-min-v1.3", "-e", NODE_CLIENT, str(server.port)]
        with running(argv, base_env(), tmp_path) as (proc, line):
            assert line.startswith("FAIL"), line
            runtimes = inspect_runtimes(
                InspectOptions(
                    kinds=("node",),
                    extra_paths={"node": [node]},
                    search_system=False,
                    processes=True,
                    services=False,
                )
            )
    rt = for_pid(runtimes, proc.pid)
    assert rt.details.get("min_version") == "TLSv1.3"
    finding = next(
        f
        for f in judge(runtimes)
        if f.subject == rt.subject and f.rule_id == "runtime.node.min-version-tls13"
    )
    assert finding.status == "fail" and f"pid {proc.pid} `{node} --tls-min-v1.3 -e" in finding.message


@pytest.mark.slow
def test_node_under_refused_node_options_keeps_its_version(tmp_path: Path) -> None:
    node = need("node", "apt-get install nodejs")
    version = subprocess.run(
        [str(node), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    bad = base_env(NODE_OPTIONS="--tls-max-v1.1")
    with tls_server(VERSION_SETS["tls12"]) as server:
        refused = subprocess.run(
            [str(node), "-e", NODE_CLIENT.replace("setTimeout(()=>{},120000)", ""), str(server.port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=bad,
            cwd=tmp_path,
        )
        plain = subprocess.run(
            [str(node), "-e", NODE_CLIENT.replace("setTimeout(()=>{},120000)", ""), str(server.port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=base_env(),
            cwd=tmp_path,
        )
    assert refused.returncode != 0 and "not allowed in NODE_OPTIONS" in refused.stderr
    assert plain.stdout.startswith("OK TLSv1.2"), plain.stdout
    runtimes = inspect_runtimes(
        InspectOptions(kinds=("node",), extra_paths={"node": [node]}, search_system=False, environ=bad)
    )
    assert len(runtimes) == 1 and runtimes[0].version == version.removeprefix("v")
    finding = next(f for f in judge(runtimes) if f.rule_id == "runtime.node.options-refused")
    assert (
        finding.status == "fail" and "NODE_OPTIONS" in finding.message and "--tls-max-v1.1" in finding.message
    )
    assert not any(f.rule_id == "runtime.not-assessed" and f.status == "error" for f in judge(runtimes))


@pytest.mark.slow
def test_running_curl_with_tls_max_11_is_found_by_pid(tmp_path: Path) -> None:
    """curl waits on a silent server while it is inspected; the same command really fails (35) against a
    TLS 1.2-only server, and without --tls-max it connects."""
    if os.geteuid() != 0:
        pytest.fail("reading other processes' /proc needs root (CI runs as root)")
    curl = need("curl", "apt-get install curl")
    with silent_server() as silent:
        argv = [str(curl), "-sk", "--max-time", "60", "--tls-max", "1.1", f"https://127.0.0.1:{silent.port}/"]
        waiting = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # until curl has its command line in place
                view = read_process(waiting.pid)
                if view is not None and view.argv == tuple(argv):
                    break
                time.sleep(0.1)
            runtimes = inspect_runtimes(
                InspectOptions(
                    kinds=("curl",),
                    extra_paths={"curl": [curl]},
                    search_system=False,
                    processes=True,
                    services=False,
                )
            )
        finally:
            waiting.kill()
            waiting.wait(timeout=30)
    with tls_server(VERSION_SETS["tls12"]) as server:
        capped = subprocess.run(
            [*argv[:-1], f"https://127.0.0.1:{server.port}/"], check=False, capture_output=True, timeout=60
        )
        plain = subprocess.run(
            [str(curl), "-sk", "--max-time", "20", f"https://127.0.0.1:{server.port}/"],
            check=False,
            capture_output=True,
            timeout=60,
        )
    assert capped.returncode == 35  # the TLS handshake failed
    assert plain.returncode != 35
    rt = for_pid(runtimes, waiting.pid)
    assert rt.details.get("max_version") == "TLSv1.1"
    finding = next(
        f
        for f in judge(runtimes)
        if f.subject == rt.subject and f.rule_id == "runtime.curl.max-version-below-tls12"
    )
    assert finding.status == "fail" and f"pid {waiting.pid} `{shlex.join(argv)}`" in finding.message
