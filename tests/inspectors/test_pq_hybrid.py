"""pq_hybrid_default for every runtime kind, checked against what real TLS stacks here put on the wire."""

from __future__ import annotations

import os
import shutil
import ssl
import sys
from pathlib import Path

import pytest

from tlsaudit.capture.probe import probe_runtimes
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.inspectors import InspectOptions, inspect_runtimes
from tlsaudit.inspectors.pq import derive, with_pq_hybrid
from tlsaudit.models import FindingStatus, RuntimeFacts

TIMEOUT = 60.0


def rt(kind: str, version: str | None, **details: object) -> RuntimeFacts:
    return RuntimeFacts(kind=kind, path=f"/x/{kind}", version=version, details=details)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        (rt("openssl", "3.0.22", tls_library="OpenSSL", tls_library_version="3.0.22"), False),
        (rt("openssl", "3.5.0", tls_library="OpenSSL", tls_library_version="3.5.0"), True),
        (rt("python", "3.13.1", tls_library="OpenSSL", tls_library_version="3.5.4"), True),
        (rt("python", "3.11.2", tls_library="LibreSSL", tls_library_version="3.8.2"), None),
        (rt("php", "8.2.1", tls_library="OpenSSL", tls_library_version="3.0.19"), False),
        (rt("node", "24.5.0"), True),
        (rt("node", "24.4.1"), False),
        (rt("node", "22.20.0"), True),
        (rt("node", "22.19.0"), False),
        (rt("node", "20.20.2", tls_library="OpenSSL", tls_library_version="3.0.19"), False),
        (rt("java", "25.0.3", java_major=25), False),
        (rt("java", "27", java_major=27), True),
        (rt("browser", "131.0.6778", browser="Chromium"), True),
        (rt("browser", "130.0.1", browser="Chrome"), False),
        (rt("browser", "153.8.0", browser="Firefox ESR"), True),
        (rt("browser", "128.5.0", browser="Firefox ESR"), False),
        (rt("browser", "18.2", browser="Safari"), None),
        (rt("dotnet", "4.8", tls_library="Schannel"), None),
        (rt("mono", "6.8.0.105", tls_library="BoringSSL (Mono btls)"), False),
    ],
)
def test_thresholds(runtime: RuntimeFacts, expected: bool | None) -> None:
    offered, why = derive(runtime)
    assert offered is expected, why
    assert why


def test_not_inspected_runtimes_get_no_pq_fact() -> None:
    failed = rt("node", None, inspect_error="node -e: exit code 9")
    assert with_pq_hybrid(failed) is failed


@pytest.mark.slow
def test_system_openssl_and_pythons_follow_the_openssl_they_link() -> None:
    runtimes = inspect_runtimes(
        InspectOptions(
            kinds=("openssl", "python"),
            extra_paths={"python": [sys.executable]},
            search_system=False,
            timeout=TIMEOUT,
        )
    )
    openssl = shutil.which("openssl")
    assert openssl, "openssl (Debian package) is needed"
    [system] = inspect_runtimes(
        InspectOptions(kinds=("openssl",), extra_paths={"openssl": [openssl]}, timeout=TIMEOUT)
    )[:1]
    linked = ssl.OPENSSL_VERSION_INFO[:2] >= (3, 5)
    [python] = [r for r in runtimes if r.kind == "python"]
    assert python.details["pq_hybrid_default"] is linked, python.details
    assert system.details["pq_hybrid_default"] is (
        tuple(int(n) for n in str(system.version).split(".")[:2]) >= (3, 5)
    )
    # and the capture of the real clients agrees: the system s_client and this Python's urllib
    captures = probe_runtimes([system, python], TIMEOUT)
    for cap in captures:
        offered = "X25519MLKEM768" in cap.groups
        owner = system if cap.runtime == system.subject else python
        assert offered is owner.details["pq_hybrid_default"], (cap.client, cap.groups)
    # information under every shipped policy that judges runtimes: recorded, no verdict changes
    for policy in ("sage-intacct-2018", "rfc-8996", "pci-dss-4.0.1", "nist-800-52r2"):
        [pq] = [
            f
            for f in evaluate(load_ruleset(policy), runtimes=[system]).findings
            if f.rule_id == "runtime.pq-hybrid-not-default"
        ]
        assert pq.severity.value == "info" and pq.status == FindingStatus.PASS, policy
        assert ("does not offer" in pq.message) is (not system.details["pq_hybrid_default"])


@pytest.mark.slow
def test_the_cryptography_wheels_openssl_offers_x25519mlkem768(tmp_path: Path) -> None:
    """OpenSSL 4.0 inside the cryptography wheel really offers the hybrid group: pyOpenSSL's default
    client context (nothing set) sends X25519MLKEM768 to a capture listener; the version rule agrees."""
    from cryptography.hazmat.backends.openssl.backend import backend

    version = backend.openssl_version_text().split()[1]
    facts = rt("python", "3.11", tls_library="OpenSSL", tls_library_version=version)
    assert derive(facts)[0] is True, version
    script = tmp_path / "client.py"
    script.write_text(
        "import socket,sys\nfrom OpenSSL import SSL\n"
        "ctx=SSL.Context(SSL.TLS_CLIENT_METHOD)\n"
        "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n"
        "c=SSL.Connection(ctx,s);c.set_connect_state();c.set_tlsext_host_name(b'localhost')\n"
        "try:\n c.do_handshake()\nexcept Exception as e:\n print('FAIL',e)\n"
    )
    import asyncio

    from tlsaudit.capture.certs import generate_credentials
    from tlsaudit.capture.listener import Capture, CaptureServer

    async def capture() -> list[Capture]:
        seen: list[Capture] = []
        credentials = generate_credentials(tmp_path / "pki")
        async with CaptureServer(("127.0.0.1",), 0, seen.append, credentials, io_timeout=TIMEOUT) as server:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(script), str(server.port), env=dict(os.environ)
            )
            await asyncio.wait_for(proc.wait(), TIMEOUT)
            await server.settle(timeout=5.0)
        return seen

    [seen] = asyncio.run(capture())
    assert seen.hello is not None and 0x11EC in seen.hello.groups


@pytest.mark.slow
def test_node_here(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node (Debian package nodejs) is needed"
    [found] = inspect_runtimes(
        InspectOptions(kinds=("node",), extra_paths={"node": [node]}, search_system=False, timeout=TIMEOUT)
    )
    [cap] = probe_runtimes([found], TIMEOUT)
    assert ("X25519MLKEM768" in cap.groups) is found.details["pq_hybrid_default"], found.details


def test_shipped_browser_profiles_agree_with_the_version_thresholds() -> None:
    """The captured hellos of this machine's Chromium and Firefox ESR (clients/) against the thresholds."""
    import json

    from tlsaudit.inspectors.browser import browser_details, parse_browser_version

    clients = Path(__file__).resolve().parents[2] / "clients"
    for name, banner in (("chromium", "Chromium {v}"), ("firefox", "Mozilla Firefox {v}esr")):
        [path] = sorted(clients.glob(f"{name}-*.json"))
        profile = json.loads(path.read_text())
        parsed = parse_browser_version(banner.format(v=profile["version"]))
        assert parsed is not None
        browser = rt("browser", parsed[1], **browser_details(*parsed))
        assert derive(browser)[0] is ("0x11EC" in profile["offer"]["groups"]), (path.name, derive(browser))
