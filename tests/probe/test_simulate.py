"""Client simulation without sockets: the hello editor keeps the client's offer, shipped profiles load,
and the judgement of an answer follows what the client offered (scripted peers)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.probe.scripted import Hang, Script, scripted_prober
from tests.probe.test_transport_verdicts import PROTOCOL_VERSION, offered_version, tls12_flight
from tlsaudit.client_profiles import ProfileError, load_profile, load_profiles, select_profiles
from tlsaudit.errors import UsageError
from tlsaudit.models import SimulationResult, TlsVersion
from tlsaudit.probe.simulate import simulate_clients
from tlsaudit.tls.client_hello import build_client_hello, probe_hello
from tlsaudit.tls.client_hello_parse import ClientHelloInfo, parse_client_hello
from tlsaudit.tls.hello_edit import retarget_hello


def test_retargeting_keeps_the_offer_and_changes_random_and_name() -> None:
    raw = probe_hello(TlsVersion.TLSv1_3, "capture.local")
    edited = retarget_hello(raw, "api.example.test")
    before, after = parse_client_hello(raw), parse_client_hello(edited)
    assert after.sni == "api.example.test"
    assert before.cipher_suites == after.cipher_suites
    assert before.groups == after.groups and before.key_share_groups == after.key_share_groups
    assert before.extensions == after.extensions
    assert before.supported_versions == after.supported_versions
    assert raw[11:43] != edited[11:43]
    assert not 256 <= int.from_bytes(edited[6:9], "big") + 4 <= 511


def test_retargeting_at_an_ip_drops_the_name_and_adds_none() -> None:
    raw = build_client_hello(TlsVersion.TLSv1_2, server_name="capture.local")
    assert parse_client_hello(retarget_hello(raw, "192.0.2.1")).sni is None
    bare = build_client_hello(TlsVersion.TLSv1_2)
    assert parse_client_hello(retarget_hello(bare, "host.example")).sni == "host.example"


@pytest.mark.parametrize("profile", load_profiles(), ids=lambda p: p.id)
def test_every_shipped_profile_is_a_real_capture_that_replays(profile: object) -> None:
    from tlsaudit.client_profiles import ClientProfile

    assert isinstance(profile, ClientProfile)
    assert profile.source in ("captured", "recorded")
    if profile.source == "recorded":
        assert profile.reference.startswith("http")
    parse_client_hello(retarget_hello(profile.hello, "example.test"))
    assert profile.versions


def test_at_least_ten_profiles_ship_with_a_pinned_java() -> None:
    ids = [p.id for p in load_profiles()]
    assert len(ids) >= 10
    assert any(i.startswith("java-") and i.endswith("tlsv1-pinned") for i in ids)


def test_selecting_profiles() -> None:
    shipped = load_profiles()
    assert select_profiles("all", shipped=shipped) == shipped
    first = shipped[0].id
    assert [p.id for p in select_profiles(f"{first},{first}", shipped=shipped)] == [first]
    with pytest.raises(UsageError, match="unknown client profile"):
        select_profiles("no-such-client", shipped=shipped)


def test_a_broken_profile_names_its_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"id": "broken",\n "name": 1', encoding="utf-8")
    with pytest.raises(ProfileError, match=r"broken\.json:2"):
        load_profile(bad)
    wrong = tmp_path / "x.json"
    wrong.write_text(
        json.dumps(
            {
                "id": "y",
                "name": "n",
                "version": "1",
                "platform": "p",
                "source": "captured",
                "captured_with": "c",
                "hello_hex": "zz",
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ProfileError, match="hexadecimal"):
        load_profile(wrong)


def _simulate(peer: object, profile_ids: list[str]) -> dict[str, object]:
    profiles = select_profiles(",".join(profile_ids))
    prober, _ = scripted_prober(peer)  # type: ignore[arg-type]
    results = asyncio.run(simulate_clients(prober, profiles, endpoint_alive=True))
    return {r.client: r for r in results}


def _tls12_only(info: ClientHelloInfo | None) -> Script:
    if info is not None and "TLSv1.2" in info.versions_offered:
        return [tls12_flight(TlsVersion.TLSv1_2)]
    return [PROTOCOL_VERSION] if info is not None and offered_version(info) else []


def test_pinned_java_fails_and_python_connects_against_tls12_only() -> None:
    pinned = next(p.id for p in load_profiles() if p.id.endswith("tlsv1-pinned"))
    python = next(p.id for p in load_profiles() if p.id.startswith("python-3"))

    def server(info: ClientHelloInfo | None) -> Script:
        if info is not None and "TLSv1.2" in info.versions_offered:
            suite = next(s for s in (0xC02F, 0x009C) if s in info.cipher_suites)
            return [tls12_flight(TlsVersion.TLSv1_2, suite)]
        return [PROTOCOL_VERSION]

    results = _simulate(server, [pinned, python])
    assert results[pinned].result == SimulationResult.FAILS  # type: ignore[attr-defined]
    assert results[python].result == SimulationResult.CONNECTS  # type: ignore[attr-defined]


def test_a_suite_the_client_did_not_offer_fails_it() -> None:
    python = next(p.id for p in load_profiles() if p.id.startswith("python-3"))
    results = _simulate(lambda info: [tls12_flight(TlsVersion.TLSv1_2, 0x0004)], [python])
    assert results[python].result == SimulationResult.FAILS  # type: ignore[attr-defined]


def test_silence_is_unknown_not_fails() -> None:
    python = next(p.id for p in load_profiles() if p.id.startswith("python-3"))
    prober, _ = scripted_prober(lambda info: [Hang()], timeout=0.2, retries=0)
    (result,) = asyncio.run(simulate_clients(prober, select_profiles(python), endpoint_alive=True))
    assert result.result == SimulationResult.UNKNOWN


def test_clients_list_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tlsaudit", "clients", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ID")
    assert len(lines) - 1 == len(load_profiles())


def test_scan_clients_names_the_failing_clients_against_a_tls12_only_server() -> None:
    from tests.support.tls_servers import openssl_s_server

    pinned = next(p.id for p in load_profiles() if p.id.endswith("tlsv1-pinned"))
    python = next(p.id for p in load_profiles() if p.id.startswith("python-3.12"))
    with openssl_s_server(["-tls1_2"]) as server:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tlsaudit",
                "scan",
                f"127.0.0.1:{server.port}",
                "--clients",
                f"{pinned},{python}",
                "--format",
                "json",
                "-o",
                "-",
                "-q",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    report = json.loads(done.stdout)
    (endpoint,) = report["endpoints"]
    results = {c["client"]: c for c in endpoint["clients"]}
    assert results[pinned]["result"] == "fails" and "alert" in results[pinned]["reason"]
    assert results[python]["result"] == "connects" and results[python]["protocol"] == "TLSv1.2"
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "endpoint.client-fails"]
    assert finding["status"] == "fail" and pinned in finding["message"] and python not in finding["message"]
    assert done.returncode == 1


def test_clients_and_client_certificate_show_in_html_and_markdown(tmp_path: Path) -> None:
    from tests.support.tls_servers import openssl_s_server

    pinned = next(p.id for p in load_profiles() if p.id.endswith("tlsv1-pinned"))
    with openssl_s_server(["-tls1_2", "-verify", "1"]) as server:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tlsaudit",
                "scan",
                f"127.0.0.1:{server.port}",
                "--clients",
                pinned,
                "-q",
                "-o",
                str(tmp_path / "r.html"),
                "-o",
                str(tmp_path / "r.md"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    markdown = (tmp_path / "r.md").read_text()
    page = (tmp_path / "r.html").read_text()
    assert f"`{pinned}` | fails | alert protocol\\_version" in markdown
    assert "asks for a client certificate (requested)" in markdown
    assert pinned in page and 'class="client-fails"' in page
    assert "client certificate requested" in page


@pytest.mark.slow
def test_audit_clients_local_replays_this_machines_runtimes() -> None:
    from tests.support.tls_servers import openssl_s_server

    with openssl_s_server(["-tls1_2"]) as server:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tlsaudit",
                "audit",
                "--clients",
                "local",
                "--local-port",
                str(server.port),
                "--kind",
                "python",
                "--kind",
                "curl",
                "--no-ciphers",
                "--no-hsts",
                "--no-key-exchange",
                "--no-handshake-checks",
                "--format",
                "json",
                "-o",
                "-",
                "-q",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert done.stdout.strip(), (done.returncode, done.stderr[-3000:])
    report = json.loads(done.stdout)
    (endpoint,) = [e for e in report["endpoints"] if e["port"] == server.port]
    simulated = {c["client"]: c for c in endpoint["clients"]}
    kinds = {client.split("-")[0] for client in simulated}
    assert {"python", "curl"} <= kinds, simulated
    assert all(c["result"] == "connects" and c["protocol"] == "TLSv1.2" for c in simulated.values()), (
        simulated
    )
    assert report["captures"]  # the replayed hellos were captured from these runtimes in this run


def test_scan_clients_all_against_a_tls12_only_server(tmp_path: Path) -> None:
    """Issue 13's "done when": `scan --clients all` replays every shipped profile at a TLS 1.2-only
    server and names the clients that fail (the TLSv1-pinned Java, Mono with SecurityProtocolType.Tls);
    every other shipped client connects with TLS 1.2. (Each profile's verdict is compared with its real
    client against the same kind of server in tests/probe/test_simulate_real.py.)"""
    from tests.support.tls_servers import openssl_s_server

    shipped = {p.id for p in load_profiles()}
    pinned = {p for p in shipped if p.endswith(("tlsv1-pinned", "tls10-pinned"))}
    assert {p.split("-")[0] for p in pinned} == {"java", "mono"}
    depth = ["--no-ciphers", "--no-hsts", "--no-key-exchange", "--no-handshake-checks"]
    outputs = ["-o", str(tmp_path / "r.json"), "-o", str(tmp_path / "r.txt")]
    with openssl_s_server(["-tls1_2"], www=True) as server:
        done = subprocess.run(
            [sys.executable, "-m", "tlsaudit", "scan", server.target, "--clients", "all", *depth, *outputs],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "COLUMNS": "250"},
        )
    assert done.returncode == 1, done.stderr  # a client in the list fails: a finding
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    (endpoint,) = report["endpoints"]
    results = {c["client"]: c for c in endpoint["clients"]}
    assert set(results) == shipped  # all: every shipped profile, once
    assert {c for c, r in results.items() if r["result"] == "fails"} == pinned
    assert all(
        r["result"] == "connects" and r["protocol"] == "TLSv1.2"
        for c, r in results.items()
        if c not in pinned
    )
    text = (tmp_path / "r.txt").read_text(encoding="utf-8")
    failing = [line for line in text.splitlines() if line.strip().startswith("Client") and " fails" in line]
    assert len(failing) == len(pinned), failing
    assert all("alert protocol_version" in line for line in failing)
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "endpoint.client-fails"]
    assert f"{len(pinned)} of the simulated clients cannot connect" in finding["message"]
