"""`tlsaudit scan` against real TLS stacks: every protocol cell must agree with an independent client.

For each stack variant (tests/support/stacks.py: GnuTLS, wolfSSL, JSSE 17 and 11.0.10, Node, tlslite-ng,
OpenSSL 1.0.2, OpenSSL 3 s_server, nginx, Python ssl; each with a set of enabled versions) the server
starts once, then:

1. each of the six versions is tried by its reference client (tests/support/cross_check.py: nassl's
   OpenSSL 1.0.2 for SSLv2 and SSLv3, `openssl s_client -tls1..-tls1_3` for TLS): that is the truth;
2. the real CLI scans it: `tlsaudit scan --no-certificates --format json -o - HOST:PORT --timeout 3`.

The fixture first checks the truth against the versions the variant was configured with (a broken
fixture is a setup error, not a scanner failure); `test_scan_matches_independent_client` then checks
every `protocols[VERSION]["status"]` against the truth: `accepted` where the client finished a handshake
at that version, `rejected` where it could not. Every cell, SSLv2 included, is measured by a
client; none is taken from the configuration alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.clients import Handshake
from tests.support.cross_check import REFERENCE_CLIENTS, accepted_versions, measure
from tests.support.stacks import STACK_VARIANTS, StackVariant
from tlsaudit.models import ALL_VERSIONS, TlsVersion

pytestmark = pytest.mark.slow

SCAN_TIMEOUT = 120.0
"""Seconds one `tlsaudit scan` of one server may take before the test gives up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StackRun:
    """What one server variant gave: the reference clients' handshakes and the scan's JSON cells."""

    variant: StackVariant
    target: str
    truth: dict[TlsVersion, Handshake]
    protocols: dict[str, dict[str, Any]]
    exit_code: int


def scan_protocols(target: str) -> tuple[dict[str, dict[str, Any]], int]:
    """Run the real CLI once and return the endpoint's `protocols` object and the exit code."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tlsaudit",
            "scan",
            "--no-certificates",
            "--format",
            "json",
            "-o",
            "-",
            target,
            "--timeout",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=SCAN_TIMEOUT,
        check=False,
    )
    assert done.returncode in (0, 1, 3), (done.returncode, done.stderr)
    report = json.loads(done.stdout)
    (endpoint,) = report["endpoints"]
    protocols: dict[str, dict[str, Any]] = endpoint["protocols"]
    return protocols, done.returncode


def _truth_lines(run: StackRun) -> list[str]:
    lines = []
    for version in ALL_VERSIONS:
        handshake = run.truth[version]
        client, _ = REFERENCE_CLIENTS[version]
        said = "accepted" if handshake.accepted else f"rejected ({handshake.error})"
        lines.append(f"  {version}: {client}: {said}")
    return lines


def _check_fixture(run: StackRun) -> None:
    """The reference clients must find exactly the versions the server was configured to accept;
    otherwise the fixture, not the scanner, is wrong (reported as a setup error)."""
    found = accepted_versions(run.truth)
    if found != run.variant.versions:
        pytest.fail(
            "\n".join(
                [
                    f"broken fixture {run.variant.name} ({run.variant.stack}) at {run.target}:",
                    f"  configured {sorted(run.variant.versions)}, reference clients found {sorted(found)}",
                    *_truth_lines(run),
                ]
            )
        )


@pytest.fixture(scope="module", params=sorted(STACK_VARIANTS))
def stack_run(request: pytest.FixtureRequest) -> StackRun:
    """Start the variant once, measure it with the reference clients, scan it, stop it."""
    variant = STACK_VARIANTS[str(request.param)]
    with variant.start() as server:
        truth = measure(server)
        protocols, exit_code = scan_protocols(server.target)
    run = StackRun(
        variant=variant, target=server.target, truth=truth, protocols=protocols, exit_code=exit_code
    )
    _check_fixture(run)
    return run


def test_scan_matches_independent_client(stack_run: StackRun) -> None:
    """Each of the six cells is `accepted` exactly where the reference client finished a handshake."""
    assert set(stack_run.protocols) == {str(v) for v in ALL_VERSIONS}
    wrong = []
    for version in ALL_VERSIONS:
        expected = "accepted" if stack_run.truth[version].accepted else "rejected"
        cell = stack_run.protocols[str(version)]
        if cell["status"] != expected:
            wrong.append(f"  {version}: scan {cell['status']} ({cell.get('reason')}), client says {expected}")
    assert not wrong, "\n".join(
        [
            f"{stack_run.variant.name} ({stack_run.variant.stack}) at {stack_run.target}, scan exit"
            f" {stack_run.exit_code}:",
            *wrong,
            "reference clients:",
            *_truth_lines(stack_run),
        ]
    )
