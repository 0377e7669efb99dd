"""Versions a server enables only with suites or groups OpenSSL's client lacks are still *accepted*.

A GnuTLS server whose TLS 1.2 speaks only CAMELLIA-GCM, whose TLS 1.3 speaks only AES-128-CCM, or whose
TLS 1.2 key exchange is DHE with the ffdhe3072 group only, refuses `openssl s_client`, yet the version is
enabled and any client with those suites connects: calling it `rejected` would clear a server that still
speaks an old version. The truth per version is GnuTLS's own client (`gnutls-cli`, Debian gnutls-bin)
with every suite, key exchange and group allowed; the scan must agree on all four TLS versions.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.gnutls_server import gnutls_server
from tests.support.scan_cli import scan_cli
from tests.support.tls_servers import TlsServer
from tlsaudit.models import TlsVersion

pytestmark = pytest.mark.slow

_VERSION_NAMES = {
    TlsVersion.TLSv1_0: "TLS1.0",
    TlsVersion.TLSv1_1: "TLS1.1",
    TlsVersion.TLSv1_2: "TLS1.2",
    TlsVersion.TLSv1_3: "TLS1.3",
}
# Everything GnuTLS can do, at one version: the reference client for the configurations below.
_CLIENT_PRIORITY = (
    "NORMAL:-VERS-ALL:+VERS-{v}:+CIPHER-ALL:+CAMELLIA-128-GCM:+CAMELLIA-256-GCM:+AES-128-CCM:+AES-256-CCM"
    ":+KX-ALL:+RSA:+DHE-RSA:+GROUP-ALL:+MAC-ALL:+SIGN-ALL:%COMPAT"
)

CONFIGURATIONS = {
    "tls12-camellia-gcm-rsa-kx-only": (
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+CAMELLIA-128-GCM:-KX-ALL:+RSA",
        {TlsVersion.TLSv1_2},
    ),
    "tls13-aes128-ccm-only": ("NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-CCM", {TlsVersion.TLSv1_3}),
    "tls12-dhe-ffdhe3072-only": (
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:-GROUP-ALL:+GROUP-FFDHE3072:-KX-ALL:+DHE-RSA",
        {TlsVersion.TLSv1_2},
    ),
    "tls10-13-safe-renegotiation-required": (
        "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1:+VERS-TLS1.2:+VERS-TLS1.3:%SAFE_RENEGOTIATION",
        {TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2, TlsVersion.TLSv1_3},
    ),
}


def gnutls_cli_accepts(server: TlsServer, version: TlsVersion) -> tuple[bool, str]:
    """Whether gnutls-cli, pinned to `version`, completes a handshake (and at that version)."""
    cli = shutil.which("gnutls-cli")
    if cli is None:
        pytest.fail("gnutls-cli not found: install the Debian package 'gnutls-bin' (make system-deps)")
    name = _VERSION_NAMES[version]
    done = subprocess.run(
        [
            cli,
            "--insecure",
            "--priority=" + _CLIENT_PRIORITY.format(v=name),
            "-p",
            str(server.port),
            server.host,
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    completed = "Handshake was completed" in done.stdout and f"- Description: ({name}" in done.stdout
    return completed, (done.stdout + done.stderr)[-600:]


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_scan_agrees_with_gnutls_client(name: str) -> None:
    priority, enabled = CONFIGURATIONS[name]
    with gnutls_server(priority, enabled) as server:
        truth = {v: gnutls_cli_accepts(server, v) for v in _VERSION_NAMES}
        scan = scan_cli(server.target, "--no-certificates", "--timeout", "3")
    found = {v for v, (accepted, _) in truth.items() if accepted}
    assert found == enabled, f"broken fixture {name}: gnutls-cli found {sorted(found)}\n{truth}"
    wrong = []
    for version, (accepted, transcript) in truth.items():
        cell = scan.protocols[str(version)]
        expected = "accepted" if accepted else "rejected"
        if cell["status"] != expected:
            wrong.append(f"{version}: scan {cell['status']} ({cell.get('reason')}), gnutls-cli: {transcript}")
    assert not wrong, "\n".join([f"{name} ({priority}):", *wrong, scan.describe()])
    assert scan.protocols["SSLv2"]["status"] == "rejected" and scan.protocols["SSLv3"]["status"] == "rejected"
