"""`runtimes --probe` against the real runtimes of this machine: what each default client offers, and
the pins (JAVA_TOOL_OPTIONS, .curlrc, OPENSSL_CONF) that only the handshake reveals."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.capture.conftest import (
    debian_python,
    default_context_minimum,
    java17,
    jdk11010,
    named,
    php_with_curl,
    this_python,
)
from tlsaudit.capture.certs import generate_credentials
from tlsaudit.capture.probe import probe_runtimes, run_client
from tlsaudit.capture.runners import ClientRun, java_runs
from tlsaudit.facts import capture_facts
from tlsaudit.models import CaptureFacts, Readiness, RuntimeFacts

MODERN = ("TLSv1.2", "TLSv1.3")
OPENSSL3_CLIENT = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def by_client(captures: Sequence[CaptureFacts], runtime: RuntimeFacts) -> dict[str, CaptureFacts]:
    mine = [c for c in captures if c.runtime == runtime.subject]
    out = {c.client: c for c in mine}
    assert len(out) == len(mine), f"one connection per client expected: {mine}"
    return out


@pytest.fixture(scope="module")
def default_probe() -> tuple[list[RuntimeFacts], list[CaptureFacts]]:
    """Every runtime here probed once, with the environment this test process inherited."""
    runtimes = []
    for make in (php_with_curl, java17, jdk11010, this_python, debian_python):
        try:
            runtimes.append(make())
        except pytest.skip.Exception:
            continue
    for kind, binary in (("curl", "curl"), ("node", "node"), ("openssl", "openssl")):
        try:
            runtimes.append(named(kind, binary))
        except pytest.skip.Exception:
            continue
    env = {
        k: v for k, v in os.environ.items() if k not in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "OPENSSL_CONF")
    }
    return runtimes, probe_runtimes(runtimes, timeout=30, env=env)


def probed(
    default_probe: tuple[list[RuntimeFacts], list[CaptureFacts]], rt: RuntimeFacts
) -> dict[str, CaptureFacts]:
    runtimes, captures = default_probe
    if rt.subject not in {r.subject for r in runtimes}:
        pytest.fail(f"{rt.subject} was not available for the probe")
    return by_client(captures, rt)


def test_php_curl_and_streams_complete_tls13(
    default_probe: tuple[list[RuntimeFacts], list[CaptureFacts]],
) -> None:
    clients = probed(default_probe, php_with_curl())
    assert set(clients) == {"php ext/curl", "php streams https://", "php streams tls://"}
    for cap in clients.values():
        assert cap.versions_offered == OPENSSL3_CLIENT
        assert cap.outcome == "completed TLSv1.3", cap
        assert cap.client_result.startswith("OK"), cap.client_result
        assert cap.sni == "localhost"
    assert clients["php streams tls://"].client_result == "OK TLSv1.3"
    assert "h2" in clients["php ext/curl"].alpn  # libcurl offers HTTP/2, PHP streams do not
    assert clients["php streams https://"].alpn == ()


def test_openjdk17_offers_tls13_and_tls12_not_tls10(
    default_probe: tuple[list[RuntimeFacts], list[CaptureFacts]],
) -> None:
    clients = probed(default_probe, java17())
    assert set(clients) == {"java HttpsURLConnection", "java SSLSocket (default SSLContext)"}
    for cap in clients.values():
        assert cap.versions_offered == MODERN
        assert "TLSv1.0" not in cap.versions_offered
        assert cap.negotiated_version == "TLSv1.3"
        assert cap.completed
        assert cap.sni is None  # JSSE sends no SNI for a dotless host name
        assert cap.weak_suites == ()


def test_jdk11010_still_offers_tls10(default_probe: tuple[list[RuntimeFacts], list[CaptureFacts]]) -> None:
    clients = probed(default_probe, jdk11010())
    for cap in clients.values():
        assert cap.versions_offered == OPENSSL3_CLIENT
        assert cap.outcome == "completed TLSv1.3"
        facts = capture_facts(cap)
        assert facts["capture.offers_legacy"] is True
        assert facts["capture.offers_modern"] is True


def test_python_curl_node_openssl_defaults(
    default_probe: tuple[list[RuntimeFacts], list[CaptureFacts]],
) -> None:
    # CPython's own default context starts at TLS 1.2; Debian's build leaves the minimum to OpenSSL.
    for python in (this_python(), debian_python()):
        expected = MODERN if default_context_minimum(python) == 0x0303 else OPENSSL3_CLIENT
        assert probed(default_probe, python)["python urllib"].versions_offered == expected
    curl = probed(default_probe, named("curl", "curl"))["curl"]
    assert curl.versions_offered == OPENSSL3_CLIENT and curl.client_result == "OK HTTP 200"
    node = probed(default_probe, named("node", "node"))["node https"]
    assert node.versions_offered == MODERN and node.client_result == "OK TLSv1.3"
    s_client = probed(default_probe, named("openssl", "openssl"))["openssl s_client"]
    assert s_client.completed and s_client.client_result.startswith("OK TLSv1.3")


def test_every_default_client_reaches_a_tls12_only_server(
    default_probe: tuple[list[RuntimeFacts], list[CaptureFacts]],
) -> None:
    _, captures = default_probe
    assert captures
    for cap in captures:
        facts = capture_facts(cap, Readiness.READY)
        assert facts["capture.offers_tls12"] is True, cap.subject
        assert facts["capture.version_table_check"] == "agrees", cap.subject


# ---------------------------------------------------------------- pins only the handshake reveals


def test_java_tool_options_pin_to_tls10() -> None:
    """JDK 17 has TLS 1.0 disabled, so the pin leaves it nothing to offer; JDK 11.0.10 offers TLS 1.0 only."""
    j17, j11 = java17(), jdk11010()
    env = {**os.environ, "JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"}
    captures = probe_runtimes([j17, j11], timeout=30, env=env)
    for cap in by_client(captures, j17).values():
        assert cap.versions_offered == ()
        assert cap.outcome in (
            "client closed without sending anything",
            "no ClientHello: client gave up before connecting",
        )
        assert "No appropriate protocol" in cap.client_result
        facts = capture_facts(cap, Readiness.READY)
        assert facts["capture.offers_modern"] is False
        assert facts["capture.version_table_check"] == "too-optimistic"
    for cap in by_client(captures, j11).values():
        assert cap.versions_offered == ("TLSv1.0",)
        assert cap.outcome == "completed TLSv1.0"
        assert capture_facts(cap, Readiness.READY)["capture.version_table_check"] == "too-optimistic"


def test_curlrc_in_home_pins_tls11(tmp_path: Path) -> None:
    (tmp_path / ".curlrc").write_text("--tls-max 1.1\n")
    curl = named("curl", "curl")
    [cap] = probe_runtimes([curl], timeout=30, env={**os.environ, "HOME": str(tmp_path)})
    assert cap.versions_offered == ("TLSv1.1",)
    assert not cap.versions_exact  # no supported_versions: only the maximum is on the wire
    assert cap.legacy_version == "TLSv1.1"
    assert cap.client_result.startswith("FAIL")
    # Its security level refuses our TLS 1.1 signature: it sends an alert, or its reset overtakes it.
    assert cap.outcome.startswith(("client aborted: alert", "client reset the connection during handshake"))
    assert capture_facts(cap)["capture.offers_modern"] is False


def test_openssl_conf_max_tls11_pins_python(tmp_path: Path) -> None:
    cnf = tmp_path / "openssl.cnf"
    cnf.write_text(
        "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = tls\n"
        "[tls]\nMaxProtocol = TLSv1.1\n"
    )
    pythons = [debian_python(), this_python()]
    captures = probe_runtimes(pythons, timeout=30, env={**os.environ, "OPENSSL_CONF": str(cnf)})
    for python in pythons:
        [cap] = by_client(captures, python).values()
        assert cap.client_result.startswith("FAIL")
        assert capture_facts(cap, Readiness.READY)["capture.version_table_check"] == "too-optimistic"
        if default_context_minimum(python) == 0x0303:
            # At least TLS 1.2 asked for, at most 1.1 allowed: an alert, no ClientHello at all.
            assert cap.versions_offered == ()
            assert "NO_PROTOCOLS_AVAILABLE" in cap.client_result
            assert cap.outcome == "no ClientHello: client sent alert protocol_version instead"
        else:
            assert cap.versions_offered == ("TLSv1.1",)


def test_a_client_that_cannot_run_is_unknown_not_a_failure(tmp_path: Path) -> None:
    missing = RuntimeFacts(kind="node", path=str(tmp_path / "no-such-node"), version="20")
    [cap] = probe_runtimes([missing], timeout=10)
    assert not cap.observed
    assert cap.client_result.startswith("UNAVAILABLE")
    facts = capture_facts(cap, Readiness.READY)
    assert facts["capture.offers_modern"] is None
    assert facts["capture.version_table_check"] is None


def test_dotnet_without_an_sdk_is_recorded_as_not_probed(tmp_path: Path) -> None:
    runtime_only = RuntimeFacts(kind="dotnet", path=str(tmp_path), version="8.0.8")
    [cap] = probe_runtimes([runtime_only], timeout=10)
    assert cap.client == "dotnet HttpClient"
    assert not cap.observed
    assert cap.outcome.startswith("not probed: no .NET SDK")


def test_python2_runs_the_same_client_snippet() -> None:
    py27 = Path("/root/.pyenv/versions/2.7.18/bin/python")
    if not py27.is_file():
        pytest.fail(f"Python 2.7 is not installed at {py27}")
    [cap] = probe_runtimes([RuntimeFacts(kind="python", path=str(py27), version="2.7.18")], timeout=30)
    assert cap.client_result == "OK HTTP 200"
    assert cap.completed and "TLSv1.2" in cap.versions_offered


def test_java_source_launch_without_a_javac(tmp_path: Path) -> None:
    """JDK 11+ runs `java Probe.java` when no javac is around to compile the client first."""
    jdk = java17()
    creds = generate_credentials(tmp_path)
    [https, _] = java_runs(jdk, creds, classpath=None)
    assert https.argv[-3].endswith("Probe.java")
    [cap] = asyncio.run(run_client(https, creds, dict(os.environ), 60))
    assert cap.completed and cap.versions_offered == MODERN


_CLIENT_WITH_A_STRAY = """
import os, socket, ssl, subprocess, sys, time

port, marker = int(sys.argv[1]), sys.argv[2]


def hello(name: str) -> None:
    context = ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=name):
                pass
        except OSError:
            pass


if sys.argv[3:] == ["stray"]:  # another program: not the client's child any more, and without its token
    time.sleep(0.5)  # until the process that started it has gone
    hello("stray.test")
    open(marker, "w").close()
    sys.exit(0)
if sys.argv[3:] == ["spawn"]:  # start the stray and leave it: it is handed to init, as any unrelated program
    env = {k: v for k, v in os.environ.items() if k != "TLSAUDIT_CAPTURE_TOKEN"}
    subprocess.Popen([sys.executable, __file__, str(port), marker, "stray"], env=env, start_new_session=True)
    sys.exit(0)
subprocess.run([sys.executable, __file__, str(port), marker, "spawn"], check=True, timeout=60)
deadline = time.monotonic() + 30
while not os.path.exists(marker) and time.monotonic() < deadline:
    time.sleep(0.1)
hello("client.test")
print("OK done")
"""


def test_a_stray_connection_is_never_recorded_as_the_clients(tmp_path: Path) -> None:
    """The listener of a capture run records only connections from the client's own processes (they
    or a parent carry the run's token): another program that connects meanwhile is not the client's."""
    script = tmp_path / "client.py"
    script.write_text(_CLIENT_WITH_A_STRAY, encoding="utf-8")
    runtime = RuntimeFacts(kind="python", path=sys.executable, version="3")
    argv = (sys.executable, str(script), "{port}", str(tmp_path / "stray-done"))
    run = ClientRun(client="python stray test", runtime=runtime, argv=argv)
    credentials = generate_credentials(tmp_path / "pki")
    facts = asyncio.run(run_client(run, credentials, dict(os.environ), 60.0))
    assert (tmp_path / "stray-done").exists()  # the stray did connect, while the client ran
    assert [f.sni for f in facts] == ["client.test"], facts
    assert facts[0].raw_hello  # the client's own hello, kept
