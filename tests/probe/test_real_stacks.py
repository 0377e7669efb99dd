"""`tlsaudit scan` against real TLS stacks: every protocol cell must agree with an independent client.

For each stack variant (tests/support/stacks.py: GnuTLS, wolfSSL, Mbed TLS 2.28, Botan 2.19, Mozilla NSS,
JSSE 17 and 11.0.10, Node, Go 1.19 crypto/tls, tlslite-ng, OpenSSL 1.0.2, OpenSSL 3 s_server, nginx,
Python ssl; each with a set of enabled versions) the server starts once, then:

1. each of the six versions is tried by its reference client (tests/support/cross_check.py: nassl's
   OpenSSL 1.0.2 for SSLv2 and SSLv3, `openssl s_client -tls1..-tls1_3` for TLS): that is the truth;
2. the real CLI scans it: `tlsaudit scan --no-certificates --format json -o - -q HOST:PORT --timeout 3`
   (tests/support/scan_cli.py).

The fixture first checks the truth against the versions the variant was configured with (a broken
fixture is a setup error, not a scanner failure); `test_scan_matches_independent_client` then checks
every `protocols[VERSION]["status"]` against the truth: `accepted` where the client finished a handshake
at that version, `rejected` where it could not. Every cell, SSLv2 included, is measured by a
client; none is taken from the configuration alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.clients import Handshake
from tests.support.cross_check import REFERENCE_CLIENTS, accepted_versions, measure
from tests.support.scan_cli import ScanRun, scan_cli
from tests.support.stacks import STACK_VARIANTS, StackVariant
from tlsaudit.models import ALL_VERSIONS, TlsVersion

pytestmark = pytest.mark.slow


@dataclass(frozen=True, slots=True, kw_only=True)
class StackRun:
    """What one server variant gave: the reference clients' handshakes and the scan."""

    variant: StackVariant
    target: str
    truth: dict[TlsVersion, Handshake]
    scan: ScanRun

    @property
    def protocols(self) -> dict[str, dict[str, str]]:
        return self.scan.protocols


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
        scan = scan_cli(server.target, "--no-certificates", "--timeout", "3")
    assert scan.returncode in (0, 1, 3), scan.describe()
    run = StackRun(variant=variant, target=server.target, truth=truth, scan=scan)
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
            f"{stack_run.variant.name} ({stack_run.variant.stack}) at {stack_run.target}:",
            *wrong,
            "scan:",
            stack_run.scan.describe(),
            "reference clients:",
            *_truth_lines(stack_run),
        ]
    )
