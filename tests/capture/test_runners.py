"""Client selection per runtime kind, and the pieces that decide how a JDK runs the Java client."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlsaudit.capture.certs import CaptureCredentials
from tlsaudit.capture.listener import Capture
from tlsaudit.capture.probe import client_runs, facts_for_run
from tlsaudit.capture.process import ProcessResult
from tlsaudit.capture.runners import CLIENTS_DIR, dotnet_binary, dotnet_probe_targets, java_binary, java_major
from tlsaudit.models import RuntimeFacts

CREDS = CaptureCredentials(
    cert_file=Path("/tmp/c.pem"),
    key_file=Path("/tmp/k.pem"),
    ca_file=Path("/tmp/ca.pem"),
    truststore_p12=Path("/tmp/t.p12"),
)


@pytest.mark.parametrize(
    ("version", "major"),
    [
        ("1.8.0_292", 8),
        ("1.7.0_80", 7),
        ("17.0.15+6-Debian-1deb12u1", 17),
        ("11.0.10", 11),
        ("21", 21),
        (None, None),
        ("unknown", None),
    ],
)
def test_java_major(version: str | None, major: int | None) -> None:
    assert java_major(version) == major


def test_java_home_or_binary() -> None:
    assert java_binary(RuntimeFacts(kind="java", path="/usr/bin/java", version=None)) == Path("/usr/bin/java")
    home = RuntimeFacts(kind="java", path=str(Path(__file__).parent), version=None)
    assert java_binary(home) == Path(__file__).parent / "bin" / "java"


def test_every_client_file_ships() -> None:
    assert {p.name for p in CLIENTS_DIR.iterdir()} >= {
        "probe.php",
        "Probe.java",
        "probe.py",
        "probe.js",
        "probe.fsx",
    }


def test_clients_per_kind_and_trust_settings(tmp_path: Path) -> None:
    def names(kind: str) -> list[str]:
        rt = RuntimeFacts(kind=kind, path=f"/usr/bin/{kind}", version="17")
        return [r.client for r in client_runs(rt, CREDS, timeout=10, java_classpaths={})]

    assert names("php") == ["php ext/curl", "php streams https://", "php streams tls://"]
    assert names("java") == ["java HttpsURLConnection", "java SSLSocket (default SSLContext)"]
    assert names("python") == ["python urllib"]
    assert names("unknown-kind") == []
    node = client_runs(
        RuntimeFacts(kind="node", path="/usr/bin/node", version=None), CREDS, timeout=10, java_classpaths={}
    )
    assert node[0].env == {"NODE_EXTRA_CA_CERTS": "/tmp/ca.pem"}
    [java_https, _] = client_runs(
        RuntimeFacts(kind="java", path=str(tmp_path), version="8"),
        CREDS,
        timeout=10,
        java_classpaths={str(tmp_path): Path("/cp")},
    )
    assert java_https.argv[0] == str(tmp_path / "bin" / "java")
    assert "-Djavax.net.ssl.trustStore=/tmp/t.p12" in java_https.argv
    assert java_https.argv[-5:] == ("-cp", "/cp", "Probe", "https", "{url}")
    assert java_https.resolved_argv("localhost", 4433)[-1] == "https://localhost:4433/"


def test_reconnecting_client_gets_one_subject_per_connection() -> None:
    rt = RuntimeFacts(kind="python", path="/usr/bin/python3", version=None)
    [run] = client_runs(rt, CREDS, timeout=10, java_classpaths={})
    caps = [
        Capture(
            peer=f"127.0.0.1:{p}", hello=None, outcome="client closed without sending anything", started_at=p
        )
        for p in (2, 1)
    ]
    facts = facts_for_run(run, caps, ProcessResult(argv=(), exit_code=1, stdout="FAIL x"))
    assert [f.client for f in facts] == ["python urllib", "python urllib #2"]
    assert [f.peer for f in facts] == ["127.0.0.1:1", "127.0.0.1:2"]
    assert len({f.subject for f in facts}) == 2


def test_dotnet_is_probed_once_per_host_through_its_newest_core_runtime(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    for name, version in (("Microsoft.NETCore.App", "6.0.8"), ("Microsoft.NETCore.App", "8.0.8")):
        (shared / name / version).mkdir(parents=True)
    (tmp_path / "dotnet").write_text("")

    def rt(name: str, version: str, product: str = "core") -> RuntimeFacts:
        return RuntimeFacts(
            kind="dotnet",
            path=str(shared / name / version),
            version=version,
            details={"product": product, "runtime_name": name},
        )

    core6, core8 = rt("Microsoft.NETCore.App", "6.0.8"), rt("Microsoft.NETCore.App", "8.0.8")
    asp = rt("Microsoft.AspNetCore.App", "8.0.8")
    framework = RuntimeFacts(kind="dotnet", path="HKLM/x", version="4.8", details={"product": "framework"})
    assert dotnet_binary(core6) == tmp_path / "dotnet"
    assert dotnet_probe_targets([core6, asp, core8, framework]) == [core8]


def test_client_output_is_inert_and_bounded() -> None:
    rt = RuntimeFacts(kind="python", path="/usr/bin/python3", version=None)
    [run] = client_runs(rt, CREDS, timeout=10, java_classpaths={})
    noisy = ProcessResult(
        argv=(), exit_code=1, stdout="FAIL \x1b]0;owned\x07 " + "x" * 1000, stderr="\x1b[2Jboom"
    )
    [facts] = facts_for_run(run, [], noisy)
    assert "\x1b" not in facts.client_result and "\x07" not in facts.client_result
    assert facts.client_result.startswith("FAIL \\x1b]0;owned\\x07 ")
    assert len(facts.client_result) == 300
    assert facts.errors == ("\\x1b[2Jboom",)


def test_a_stalled_connection_is_not_an_observation() -> None:
    rt = RuntimeFacts(kind="python", path="/usr/bin/python3", version=None)
    [run] = client_runs(rt, CREDS, timeout=10, java_classpaths={})
    result = ProcessResult(argv=(), exit_code=None, timed_out=True)
    stalled = Capture(peer="127.0.0.1:5", hello=None, outcome="timeout before sending anything")
    closed = Capture(peer="127.0.0.1:6", hello=None, outcome="client closed without sending anything")
    [a] = facts_for_run(run, [stalled], result)
    [b] = facts_for_run(run, [closed], ProcessResult(argv=(), exit_code=1, stdout="FAIL no protocol"))
    assert not a.observed and a.client_result == "FAIL timeout"
    assert b.observed and b.versions_offered == ()
