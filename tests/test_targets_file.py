"""Targets files through the real CLI: every bad line reported, duplicates scanned once, an empty file
named, `host:port{ip}` (connect to the address, send the name), CRLF and a BOM, against real servers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IPV6_LOOPBACK
from tests.support.certs import make_cert
from tests.support.servers import TlsServer, python_tls_server
from tlsaudit.models import TlsVersion


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsaudit", *args, "--ca-file", str(make_cert().ca), "--timeout", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def server_v4() -> Iterator[TlsServer]:
    with python_tls_server({TlsVersion.TLSv1_2}) as server:
        yield server


def test_every_bad_line_is_reported_once_in_file_line_form(tmp_path: Path) -> None:
    listing = tmp_path / "fleet.txt"
    listing.write_text(
        "ok.example\n"
        "bad host name!\n"  # 2: two words
        "a.example:99999\n"  # 3: port
        "# a comment\n"
        "gopher://a.example\n"  # 5: scheme
        "[::1\n"  # 6: bracket
        "b.example:443{not-an-ip}\n"  # 7: address
    )
    result = run("scan", "-f", str(listing))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 5, result.stderr  # one message per problem, nothing else
    for number, words in ((2, "one target per line"), (3, "invalid port"), (5, "unsupported scheme"),
                          (6, "unbalanced"), (7, "not an IP address")):  # fmt: skip
        assert sum(f"{listing}:{number}: " in line and words in line for line in lines) == 1, result.stderr


@pytest.mark.parametrize("content", ["", "# only a comment\n\n   \n"])
def test_an_empty_file_says_so(tmp_path: Path, content: str) -> None:
    listing = tmp_path / "empty.txt"
    listing.write_text(content)
    result = run("scan", "-f", str(listing))
    assert result.returncode == 2
    assert result.stderr.strip() == f"tlsaudit: error: no targets in {listing}"


def test_the_same_endpoint_written_two_ways_is_scanned_once(tmp_path: Path, server_v4: TlsServer) -> None:
    listing = tmp_path / "fleet.txt"
    port = server_v4.port
    listing.write_text(f"127.0.0.1:{port}\nhttps://127.0.0.1:{port}/\ntls://127.0.0.1:{port}/x\n")
    result = run("scan", "-f", str(listing), f"127.0.0.1:{port}", "--format", "json")
    assert result.returncode == 0, result.stderr
    endpoints = json.loads(result.stdout)["endpoints"]
    assert [e["id"] for e in endpoints] == [f"127.0.0.1:{port}"]


@pytest.mark.skipif(not IPV6_LOOPBACK, reason="IPv6 loopback ::1 is not available (no IPv6 in the kernel)")
def test_ipv6_written_with_and_without_url_is_scanned_once(tmp_path: Path) -> None:
    with python_tls_server({TlsVersion.TLSv1_2}, host="::1") as server:
        listing = tmp_path / "fleet.txt"
        listing.write_text(f"[::1]:{server.port}\nhttps://[::1]:{server.port}/\n")
        result = run("scan", "-f", str(listing), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [e["id"] for e in json.loads(result.stdout)["endpoints"]] == [f"[::1]:{server.port}"]


def test_crlf_and_bom_keep_working(tmp_path: Path, server_v4: TlsServer) -> None:
    listing = tmp_path / "windows.txt"
    listing.write_bytes(f"# fleet\r\n{server_v4.target}\r\n".encode("utf-8-sig"))
    result = run("scan", "-f", str(listing), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["endpoints"]) == 1


def test_a_name_with_an_address_connects_there_and_sends_the_name(
    tmp_path: Path, server_v4: TlsServer
) -> None:
    """`name:port{ip}`: no name resolution; the name is the SNI and the name the certificate is checked
    against. The test certificate covers `localhost` but not `www.example.test`, which does not resolve."""
    listing = tmp_path / "fleet.txt"
    port = server_v4.port
    listing.write_text(f"localhost:{port}{{127.0.0.1}}\nwww.example.test:{port}{{127.0.0.1}}\n")
    result = run("scan", "-f", str(listing), "--format", "json")
    endpoints = {e["host"]: e for e in json.loads(result.stdout)["endpoints"]}
    assert set(endpoints) == {"localhost", "www.example.test"}, result.stderr
    for name, endpoint in endpoints.items():
        assert endpoint["ip"] == "127.0.0.1"
        assert endpoint["sni"] == name
        assert endpoint["protocols"]["TLSv1.2"]["status"] == "accepted"
    assert endpoints["localhost"]["certificate"]["hostname_match"] is True
    assert endpoints["www.example.test"]["certificate"]["hostname_match"] is False
    assert result.returncode == 1  # the name mismatch fails


def test_every_bad_target_argument_is_reported() -> None:
    result = run("scan", "bad host!", "127.0.0.1:99999", "ok.example")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert "'bad host!'" in lines[0] and "invalid port '99999'" in lines[1]
