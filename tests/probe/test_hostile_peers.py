"""End to end against scripted broken peers (`tests.support.broken_peers`, `tests.support.hostile`): the real
`tlsaudit scan` command line, judged on its JSON report and exit code.

Where a conventional client can decide, its verdict is measured too (`tests.support.conventional`); where no
conventional client can finish any handshake (the peers are scripted), the required verdict is the one the
JSON contract states for that misbehaviour.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator

import pytest

from tests.support.acceptor import ServerAddress
from tests.support.broken_peers import (
    Split,
    dripping_certificate_peer,
    duplicate_supported_versions_peer,
    empty_certificate_peer,
    hello_retry_random_tls12_peer,
    inconsistent_certificate_flight,
    inconsistent_certificate_lengths_peer,
    is_client_key_exchange,
    one_byte_segments,
    oversized_certificate_peer,
    random_segments,
    segmented_flight_peer,
    served_chain,
    sslv2_server_hello_peer,
    tls13_legacy_version_peer,
    truncated_answer_then_fin_peer,
    truncated_answer_then_reset_peer,
    whole,
)
from tests.support.clients import python_handshake
from tests.support.conventional import VERSION_KEYS, conventional_statuses
from tests.support.hostile import endless_drip_server
from tests.support.scan_cli import ScanRun, scan_cli
from tests.support.servers import garbage_server, huge_record_server, silent_server
from tlsaudit.models import TlsVersion

pytestmark = pytest.mark.slow

Peer = Callable[[], contextlib.AbstractContextManager[ServerAddress]]

QUICK = ("--timeout", "2", "--retries", "1")
"""The options of the issue's bound: a never-completing peer costs at most 30 s with them."""

PATIENT = ("--timeout", "10")
"""For peers that do answer, only slowly (one byte per segment): the verdict must not hinge on a timeout."""


def scan_peer(peer: Peer, *options: str) -> ScanRun:
    with peer() as address:
        return scan_cli(address.target, *options)


# --- peers that never complete an answer ----------------------------------------------------------------

NEVER_COMPLETING: dict[str, Peer] = {
    "silent": silent_server,
    "garbage": garbage_server,
    "dripping": endless_drip_server,
    "oversized-record": huge_record_server,
}


@pytest.mark.parametrize("name", sorted(NEVER_COMPLETING))
def test_never_completing_peer_is_unknown_everywhere_exit_3_within_30_s(name: str) -> None:
    run = scan_peer(NEVER_COMPLETING[name], *QUICK)
    assert run.statuses() == dict.fromkeys(VERSION_KEYS, "unknown"), run.describe()
    assert run.returncode == 3, run.describe()
    assert run.elapsed < 30.0, run.describe()


# --- TLS 1.2 accepted, certificate unobtainable ----------------------------------------------------------

CERTIFICATE_UNOBTAINABLE: dict[str, Peer] = {
    "empty-certificate": empty_certificate_peer,
    "certificate-claiming-16-MB": oversized_certificate_peer,
    "certificate-dripped-1-byte-per-2-s": dripping_certificate_peer,
    "certificate-inner-lengths-disagree": inconsistent_certificate_lengths_peer,
}


@pytest.mark.parametrize("name", sorted(CERTIFICATE_UNOBTAINABLE))
def test_unobtainable_certificate_is_an_error_never_a_pass(name: str) -> None:
    run = scan_peer(CERTIFICATE_UNOBTAINABLE[name], *QUICK)
    assert run.protocols["TLSv1.2"]["status"] == "accepted", run.describe()
    assert run.endpoint.get("errors"), run.describe()
    certificate_findings = run.findings("endpoint.cert-")
    assert certificate_findings, run.describe()
    not_errors = {f["rule_id"]: f["status"] for f in certificate_findings if f["status"] != "error"}
    assert not not_errors, f"certificate rules not 'error': {not_errors}\n{run.describe()}"
    assert run.report["summary"]["verdict"] != "pass", run.describe()
    assert run.returncode in (1, 3), run.describe()


# --- segmentation ---------------------------------------------------------------------------------------

SPLITS: dict[str, Split] = {
    "one-byte-segments": one_byte_segments,
    "random-segments-seed-1": random_segments(1),
    "random-segments-seed-2": random_segments(2, largest=40),
    "random-segments-seed-3": random_segments(3, largest=7),
}


def _cells(run: ScanRun) -> dict[str, tuple[str, str | None]]:
    return {v: (c["status"], c.get("reason_code")) for v, c in run.protocols.items()}


@pytest.fixture(scope="module")
def flight_in_one_segment() -> Iterator[ScanRun]:
    """The scan of the same TLS 1.2 flight sent whole, and checked against conventional clients."""

    @contextlib.contextmanager
    def peer() -> Iterator[ServerAddress]:
        with segmented_flight_peer(whole) as address:
            yield address

    replies: list[bytes] = []
    with segmented_flight_peer(whole, replies=replies) as address:
        truth = conventional_statuses(address)
    # A conventional TLS 1.2 client takes the flight and answers with its ClientKeyExchange (a scripted peer
    # can go no further); the other versions are refused, as conventional clients find.
    assert any(is_client_key_exchange(r) for r in replies), replies
    assert {v: s for v, s in truth.items() if v != "TLSv1.2"} == dict.fromkeys(
        set(VERSION_KEYS) - {"TLSv1.2"}, "rejected"
    ), truth
    run = scan_peer(peer, *PATIENT)
    assert run.protocols["TLSv1.2"]["status"] == "accepted", run.describe()
    for version, status in truth.items():
        if version != "TLSv1.2":
            assert run.protocols[version]["status"] == status, run.describe()
    yield run


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_verdict_does_not_depend_on_tcp_segmentation(name: str, flight_in_one_segment: ScanRun) -> None:
    split = SPLITS[name]

    @contextlib.contextmanager
    def peer() -> Iterator[ServerAddress]:
        with segmented_flight_peer(split) as address:
            yield address

    run = scan_peer(peer, *PATIENT)
    assert _cells(run) == _cells(flight_in_one_segment), (
        f"whole:\n{flight_in_one_segment.describe()}\nsplit:\n{run.describe()}"
    )
    leaf_fingerprint = hashlib.sha256(served_chain()[0]).hexdigest()
    certificate = run.endpoint.get("certificate") or {}
    assert certificate.get("sha256_fingerprint") == leaf_fingerprint, run.describe()
    assert run.endpoint.get("errors") == flight_in_one_segment.endpoint.get("errors"), run.describe()


@pytest.mark.parametrize("name", ["whole", *sorted(SPLITS)])
def test_bad_certificate_after_a_good_server_hello_gives_one_verdict_in_every_split(name: str) -> None:
    # The ServerHello is fine and the Certificate is not: events parsed before the bad bytes count, so
    # TLS 1.2 is accepted whether the ServerHello arrived alone or in one read with the bad Certificate.
    split = SPLITS.get(name, whole)

    @contextlib.contextmanager
    def peer() -> Iterator[ServerAddress]:
        with segmented_flight_peer(split, flight=inconsistent_certificate_flight) as address:
            yield address

    run = scan_peer(peer, *PATIENT)
    assert run.protocols["TLSv1.2"]["status"] == "accepted", run.describe()
    assert run.endpoint.get("errors"), run.describe()


# --- ServerHellos that must not count as acceptance ------------------------------------------------------


def test_sslv2_server_hello_accepts_only_sslv2() -> None:
    with sslv2_server_hello_peer() as address:
        truth = conventional_statuses(address)
        run = scan_cli(address.target, *QUICK)
    assert truth == {v: "accepted" if v == "SSLv2" else "rejected" for v in VERSION_KEYS}, truth
    accepted = {v for v, status in run.statuses().items() if status == "accepted"}
    assert accepted == {"SSLv2"}, run.describe()
    assert run.protocols["SSLv2"].get("reason_code") == "sslv2-server-hello", run.describe()


MALFORMED_TLS13: dict[str, Peer] = {
    "duplicate-supported-versions": duplicate_supported_versions_peer,
    "legacy-version-0x0304-without-supported-versions": tls13_legacy_version_peer,
}


@pytest.mark.parametrize("name", sorted(MALFORMED_TLS13))
def test_malformed_tls13_server_hello_is_unknown_malformed(name: str) -> None:
    with MALFORMED_TLS13[name]() as address:
        conventional = python_handshake(address, TlsVersion.TLSv1_3)
        run = scan_cli(address.target, *QUICK)
    assert not conventional.accepted, conventional
    cell = run.protocols["TLSv1.3"]
    assert (cell["status"], cell.get("reason_code")) == ("unknown", "malformed"), run.describe()
    assert "accepted" not in run.statuses().values(), run.describe()


def test_hello_retry_random_in_tls12_server_hello_is_a_plain_tls12_acceptance() -> None:
    replies: list[bytes] = []
    with hello_retry_random_tls12_peer(replies=replies) as address:
        python_handshake(address, TlsVersion.TLSv1_2)
        run = scan_cli(address.target, *QUICK)
    # A conventional TLS 1.2 client takes that ServerHello as TLS 1.2 and goes on to its ClientKeyExchange.
    assert any(is_client_key_exchange(r) for r in replies), replies
    cell = run.protocols["TLSv1.2"]
    assert cell["status"] == "accepted", run.describe()
    assert cell.get("reason_code") == "server-hello", run.describe()
    assert "helloretryrequest" not in cell["reason"].lower().replace(" ", ""), run.describe()


# --- truncated answers -----------------------------------------------------------------------------------

TRUNCATED: dict[str, tuple[Peer, str]] = {
    "part-of-a-record-then-fin": (truncated_answer_then_fin_peer, "closed-mid-record"),
    "part-of-a-record-then-rst": (truncated_answer_then_reset_peer, "reset-mid-answer"),
}


@pytest.mark.parametrize("name", sorted(TRUNCATED))
def test_truncated_answer_is_unknown_never_rejected(name: str) -> None:
    peer, reason_code = TRUNCATED[name]
    run = scan_peer(peer, *QUICK)
    assert _cells(run) == dict.fromkeys(VERSION_KEYS, ("unknown", reason_code)), run.describe()
    assert run.returncode == 3, run.describe()
