"""End to end: every protocol cell of a real scan report carries a typed `reason_code` that fits its status,
the report follows reports/report.schema.json, and each kind of failure is named by its own code.

The vocabulary is the JSON contract of issue 12 (README and schema describe it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from tests.support.acceptor import ServerAddress
from tests.support.conventional import VERSION_KEYS, conventional_statuses
from tests.support.hostile import endless_drip_server
from tests.support.scan_cli import ScanRun, scan_cli
from tests.support.servers import (
    VERSION_SETS,
    garbage_server,
    http_server,
    huge_record_server,
    openssl_s_server,
    python_tls_server,
    silent_server,
)
from tlsaudit.report import schema_errors

REASON_CODES: dict[str, frozenset[str]] = {
    "accepted": frozenset({"server-hello", "hello-retry-request", "sslv2-server-hello"}),
    "rejected": frozenset({"alert", "closed", "reset", "negotiated-lower", "version-not-offered"}),
    "unknown": frozenset(
        {
            "timeout",
            "connection-refused",
            "network-error",
            "malformed",
            "closed-mid-record",
            "reset-mid-answer",
            "not-tls",
            "starttls-refused",
            "unresolved",
            "not-probed",
            "interrupted",
        }
    ),
}

QUICK = ("--timeout", "2", "--retries", "1")

Peer = Callable[[], contextlib.AbstractContextManager[ServerAddress]]


@contextlib.contextmanager
def refused_port() -> Iterator[ServerAddress]:
    """A loopback port nothing listens on (a server's, just closed)."""
    with silent_server() as address:
        pass
    yield address


@contextlib.contextmanager
def tls12_only_server() -> Iterator[ServerAddress]:
    with python_tls_server(VERSION_SETS["tls12"]) as server:
        yield server


PEERS: dict[str, tuple[Peer, str]] = {
    "silent": (silent_server, "timeout"),
    "endless-drip": (endless_drip_server, "timeout"),
    "garbage": (garbage_server, "not-tls"),
    "plain-http": (http_server, "not-tls"),
    "oversized-record": (huge_record_server, "malformed"),
    "refused-port": (refused_port, "connection-refused"),
}


def assert_contract(run: ScanRun) -> None:
    """Schema-valid report; exactly the six version keys; each cell status, reason and a fitting code."""
    assert schema_errors(run.report) == [], schema_errors(run.report)
    assert list(run.protocols) == list(VERSION_KEYS), run.describe()
    for version, cell in run.protocols.items():
        assert isinstance(cell.get("reason"), str), f"{version}\n{run.describe()}"
        assert cell.get("reason_code") in REASON_CODES[cell["status"]], f"{version}\n{run.describe()}"


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_that_never_answers_well_is_unknown_with_its_own_reason_code(name: str) -> None:
    peer, reason_code = PEERS[name]
    with peer() as address:
        run = scan_cli(address.target, *QUICK)
    assert_contract(run)
    codes = {v: (c["status"], c.get("reason_code")) for v, c in run.protocols.items()}
    assert codes == dict.fromkeys(VERSION_KEYS, ("unknown", reason_code)), run.describe()


def test_real_server_cells_are_server_hello_or_alert() -> None:
    with tls12_only_server() as server:
        truth = conventional_statuses(server)
        run = scan_cli(server.target, *QUICK)
    assert_contract(run)
    assert run.statuses() == truth, run.describe()
    for version, cell in run.protocols.items():
        expected = "server-hello" if truth[version] == "accepted" else "alert"
        assert cell.get("reason_code") == expected, f"{version}\n{run.describe()}"


def test_tls13_hello_retry_request_is_accepted_with_its_own_code() -> None:
    # A server that accepts only P-521 asks again (HelloRetryRequest) unless the hello already carried a P-521
    # key share, which no probe sends (x25519 and P-256 are the usual ones).
    with openssl_s_server(["-tls1_3", "-groups", "secp521r1"]) as server:
        run = scan_cli(server.target, *QUICK)
    assert_contract(run)
    cell = run.protocols["TLSv1.3"]
    assert (cell["status"], cell.get("reason_code")) == ("accepted", "hello-retry-request"), run.describe()
