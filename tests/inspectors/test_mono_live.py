"""Mono, the .NET runtime Debian ships (mono-runtime, mono-mcs; .ci/system-deps): found, versioned, its
TLS defaults read from the runtime, probed through the capture listener, and every verdict checked against
what the same HttpWebRequest client really does with a TLS 1.2-only `openssl s_server` on loopback."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.tls_servers import openssl_s_server
from tlsaudit.capture.certs import generate_credentials
from tlsaudit.capture.probe import prepare_mono_client, probe_runtimes, run_client
from tlsaudit.capture.runners import httpwebrequest_runs
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.inspectors import InspectOptions, inspect_runtimes
from tlsaudit.models import CaptureFacts, FindingStatus, Readiness, RuntimeFacts

pytestmark = pytest.mark.slow  # real Mono clients against real openssl s_server

TIMEOUT = 60.0


def mono_and_mcs() -> tuple[str, str]:
    mono, mcs = shutil.which("mono"), shutil.which("mcs")
    if mono is None or mcs is None:
        pytest.fail("mono and mcs are needed: Debian packages mono-runtime and mono-mcs (.ci/system-deps)")
    return mono, mcs


def inspect_mono(env: dict[str, str] | None = None) -> RuntimeFacts:
    mono, _ = mono_and_mcs()
    [rt] = inspect_runtimes(
        InspectOptions(
            kinds=("mono",), extra_paths={"mono": [mono]}, search_system=False, environ=env, timeout=TIMEOUT
        )
    )
    return rt


def findings(rt: RuntimeFacts) -> tuple[Readiness, dict[str, FindingStatus]]:
    evaluation = evaluate(load_ruleset("sage-intacct-2018"), runtimes=[rt])
    return evaluation.readiness[rt.subject], {f.rule_id: f.status for f in evaluation.findings}


def real_client(tmp_path: Path, url: str, protocol: str = "", env: dict[str, str] | None = None) -> str:
    """What Mono's HttpWebRequest really does (OK / FAIL line), built from the same probe.cs."""
    mono, mcs = mono_and_mcs()
    exe = tmp_path / "real.exe"
    if not exe.exists():
        source = Path(__file__).resolve().parents[2] / "tlsaudit" / "capture" / "clients" / "probe.cs"
        subprocess.run([mcs, "-nologo", f"-out:{exe}", str(source)], check=True, timeout=TIMEOUT)
    argv = [mono, str(exe), url, *((protocol,) if protocol else ())]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=TIMEOUT, env={**os.environ, **(env or {})}, check=False
    )
    return (done.stdout.strip().splitlines() or [f"FAIL exit {done.returncode}"])[-1]


def test_mono_is_a_dotnet_runtime_with_its_version_and_tls_defaults() -> None:
    mono, _ = mono_and_mcs()
    printed = subprocess.run(
        [mono, "--version"], capture_output=True, text=True, timeout=TIMEOUT, check=True
    ).stdout
    rt = inspect_mono({"PATH": os.environ["PATH"]})
    assert rt.kind == "mono" and rt.version == re.search(r"version ([\d.]+)", printed).group(1)  # type: ignore[union-attr]
    d = rt.details
    assert d["mono_tls_provider"] == "btls" and d["security_protocol_default"] == ("SystemDefault",)
    assert d["pq_hybrid_default"] is False  # btls has no ML-KEM; the capture below confirms it
    readiness, status = findings(rt)
    assert readiness == Readiness.READY
    assert status["runtime.mono.before-4.8-no-tls12"] == FindingStatus.PASS
    assert status["runtime.mono.no-tls-provider"] == FindingStatus.PASS


def test_a_broken_tls_provider_is_found_and_really_fails(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "MONO_TLS_PROVIDER": "bogus"}
    rt = inspect_mono(env)
    assert rt.details["mono_tls_provider_env"] == "bogus" and "bogus" in str(
        rt.details["mono_tls_provider_error"]
    )
    readiness, status = findings(rt)
    assert status["runtime.mono.no-tls-provider"] == FindingStatus.FAIL
    assert readiness == Readiness.READY_WITH_CONFIG
    credentials = generate_credentials(tmp_path / "pki")
    own_cert = ["-cert", str(credentials.cert_file), "-key", str(credentials.key_file)]
    with openssl_s_server(["-tls1_2", *own_cert], www=True) as server:
        url = f"https://localhost:{server.port}/"
        assert real_client(tmp_path, url, env={"MONO_TLS_PROVIDER": "bogus"}).startswith("FAIL")
        assert real_client(tmp_path, url).startswith("OK HTTP 200")  # the same client without the variable


def capture_verdicts(captures: list[CaptureFacts]) -> dict[str, FindingStatus]:
    evaluation = evaluate(load_ruleset("sage-intacct-2018"), captures=captures)
    return {f.rule_id: f.status for f in evaluation.findings}


def test_probe_default_mono_offers_tls12_and_the_tls_pin_does_not(tmp_path: Path) -> None:
    rt = inspect_mono()
    [default] = probe_runtimes([rt], TIMEOUT)
    assert default.client == "mono HttpWebRequest" and default.client_result.startswith("OK"), default
    assert "TLSv1.2" in default.versions_offered
    assert "X25519MLKEM768" not in default.groups  # confirms pq_hybrid_default = False
    verdicts = capture_verdicts([default])
    assert verdicts["capture.no-tls12-offered"] == FindingStatus.PASS
    # information only under the 2018 yardstick: recorded, verdict unchanged
    [pq] = [
        f
        for f in evaluate(load_ruleset("sage-intacct-2018"), captures=[default]).findings
        if f.rule_id == "capture.pq-hybrid-not-offered"
    ]
    assert pq.status == FindingStatus.PASS and "offered no hybrid" in pq.message
    assert pq.severity.value == "info"

    async def pinned() -> list[CaptureFacts]:
        credentials = generate_credentials(tmp_path / "pki-pinned")
        exe, error = await prepare_mono_client([rt], tmp_path, dict(os.environ), TIMEOUT)
        [run] = httpwebrequest_runs(rt, exe, error, protocol="Tls")
        return await run_client(run, credentials, dict(os.environ), TIMEOUT)

    [tls10] = asyncio.run(pinned())
    assert tls10.client == "mono HttpWebRequest (SecurityProtocolType.Tls)"
    assert tls10.versions_offered == ("TLSv1.0",), tls10
    assert capture_verdicts([tls10])["capture.no-tls12-offered"] == FindingStatus.FAIL
    # the same two clients against a TLS 1.2-only server: the verdicts are what really happens
    credentials = generate_credentials(tmp_path / "pki-server")
    own_cert = ["-cert", str(credentials.cert_file), "-key", str(credentials.key_file)]
    with openssl_s_server(["-tls1_2", *own_cert], www=True) as server:
        url = f"https://localhost:{server.port}/"
        assert real_client(tmp_path, url).startswith("OK HTTP 200")
        assert real_client(tmp_path, url, "Tls").startswith("FAIL")


def test_a_service_that_sets_mono_tls_provider_is_judged_by_the_mono_rules(tmp_path: Path) -> None:
    """A unit's `Environment=MONO_TLS_PROVIDER=legacy` reaches the Mono rule: on a Mono before 6.8 the legacy
    provider (TLS 1.0 only) is a failure naming the unit file and line; on this Mono 6.8, where `legacy` is an
    alias of the default, the real client under that variable still connects with TLS 1.2."""
    from tlsaudit.inspectors.mono import parse_info
    from tlsaudit.pins.attach import Attacher
    from tlsaudit.pins.rootfs import RootFS
    from tlsaudit.pins.runs import Run
    from tlsaudit.pins.settings import FoundPin

    mono, _ = mono_and_mcs()
    pin = FoundPin(
        setting="MONO_TLS_PROVIDER",
        value="legacy",
        source="/etc/systemd/system/app.service:7",
        kinds=("mono", "dotnet"),
    )
    run = Run(label="service app.service", kind="mono", program=mono, pins=[pin])
    info = {"security_protocol": "SystemDefault", "provider": "btls", "provider_error": "", "clr": "4.0"}
    for version, fails in (("5.4.1", True), ("6.8.0.105", False)):
        measured = RuntimeFacts(kind="mono", path=mono, version=version, details=parse_info(info, {}))
        attached = Attacher([run], RootFS("/")).attach(measured)
        assert attached.details["mono_tls_provider_env"] == "legacy"
        assert "mono_tls_provider" not in attached.details  # measured in tlsaudit's environment: not this one
        evaluation = evaluate(load_ruleset("sage-intacct-2018"), runtimes=[attached])
        [legacy] = [f for f in evaluation.findings if f.rule_id == "runtime.mono.legacy-tls-provider"]
        assert (legacy.status == FindingStatus.FAIL) is fails, legacy.message
        if fails:
            assert "/etc/systemd/system/app.service:7 (service app.service)" in legacy.message
    credentials = generate_credentials(tmp_path / "pki")
    own_cert = ["-cert", str(credentials.cert_file), "-key", str(credentials.key_file)]
    with openssl_s_server(["-tls1_2", *own_cert], www=True) as server:
        url = f"https://localhost:{server.port}/"
        assert real_client(tmp_path, url, env={"MONO_TLS_PROVIDER": "legacy"}).startswith("OK HTTP 200")
