"""Version detection against real loopback servers with known protocol sets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection

import pytest

from tests.support.servers import (
    VERSION_SETS,
    NginxServerBlock,
    close_server,
    drip_server,
    garbage_server,
    http_server,
    huge_record_server,
    nginx_server,
    openssl_s_server,
    reset_server,
    silent_server,
    tls_server,
)
from tlsaudit.models import EndpointFacts, ProtocolStatus, TlsVersion
from tlsaudit.probe.scanner import Scanner, ScanOptions
from tlsaudit.probe.targets import parse_target


def scan(*targets: str, timeout: float = 3.0, retries: int = 1) -> list[EndpointFacts]:
    parsed = [parse_target(t) for t in targets]
    return asyncio.run(Scanner(ScanOptions(timeout=timeout, retries=retries)).scan(parsed))


def accepted(ep: EndpointFacts) -> set[TlsVersion]:
    return {v for v, r in ep.protocols.items() if r.status == ProtocolStatus.ACCEPTED}


def assert_exact(ep: EndpointFacts, expected: Collection[TlsVersion]) -> None:
    assert accepted(ep) == set(expected), {
        v.value: (r.status.value, r.reason) for v, r in ep.protocols.items()
    }
    for version, result in ep.protocols.items():
        if version not in expected:
            assert result.status == ProtocolStatus.REJECTED, (version, result)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
@pytest.mark.parametrize("name", sorted(VERSION_SETS))
def test_exact_version_sets(name: str, host: str) -> None:
    versions = VERSION_SETS[name]
    with tls_server(versions, host=host) as server:
        (ep,) = scan(server.target)
    assert_exact(ep, versions)
    assert ep.ip == host


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-tls1_2"], {TlsVersion.TLSv1_2}),
        (["-tls1"], {TlsVersion.TLSv1_0}),
        (["-no_tls1_3", "-no_tls1_2"], {TlsVersion.TLSv1_0, TlsVersion.TLSv1_1}),
        ([], {TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2, TlsVersion.TLSv1_3}),
        (["-tls1_3"], {TlsVersion.TLSv1_3}),
    ],
)
def test_openssl_s_server(args: list[str], expected: set[TlsVersion]) -> None:
    with openssl_s_server([*args, "-cipher", "ALL:@SECLEVEL=0"]) as server:
        (ep,) = scan(server.target)
    assert_exact(ep, expected)


def test_nginx_mixed_ports() -> None:
    expected = [
        frozenset({TlsVersion.TLSv1_2}),
        frozenset({TlsVersion.TLSv1_0, TlsVersion.TLSv1_1}),
        frozenset({TlsVersion.TLSv1_3}),
        frozenset({TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2, TlsVersion.TLSv1_3}),
    ]
    blocks = [NginxServerBlock(versions=v, listeners=3) for v in expected]
    with nginx_server(blocks) as servers:
        results = scan(*(a.target for a in servers.addresses))
        by_port = {ep.port: ep for ep in results}
        for block, want in zip(servers.blocks, expected, strict=True):
            for address in block:
                assert_exact(by_port[address.port], want)


def test_certificate_chain_is_captured_from_tls12_probe() -> None:
    from tlsaudit.probe.scanner import EndpointProbes

    seen: list[EndpointProbes] = []

    async def keep(probes: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        seen.append(probes)
        return facts

    with tls_server(VERSION_SETS["tls12"]) as server:
        asyncio.run(Scanner(ScanOptions(timeout=3), enrichers=[keep]).scan([parse_target(server.target)]))
    chain = seen[0].probes[TlsVersion.TLSv1_2].certificate_chain
    assert chain and chain[0][0] == 0x30


HOSTILE = [
    (silent_server, "timeout"),
    (garbage_server, "not TLS"),
    (http_server, "HTTP"),
    (huge_record_server, "claims"),
    (reset_server, "reset"),
]


@pytest.mark.parametrize(("server", "reason"), HOSTILE, ids=[h[0].__name__ for h in HOSTILE])
def test_hostile_peers_are_unknown_with_a_reason_and_bounded(server: object, reason: str) -> None:
    started = time.monotonic()
    with server() as address:  # type: ignore[operator]
        (ep,) = scan(address.target, timeout=1.0, retries=1)
    elapsed = time.monotonic() - started
    assert elapsed < 6.0
    for version, result in ep.protocols.items():
        assert result.status == ProtocolStatus.UNKNOWN, (version, result)
        assert reason in result.reason, (version, result.reason)


def test_server_that_closes_every_connection_at_once_is_unknown_never_rejected() -> None:
    """A peer that closes every connection without a byte never showed it speaks TLS: nothing was refused.
    (If our hello was still unread, the kernel turns the close into a reset: retried, then unknown too.)"""
    with close_server() as address:
        (ep,) = scan(address.target, timeout=1.0)
    for result in ep.protocols.values():
        assert (result.status, result.reason) in {
            (ProtocolStatus.UNKNOWN, "closed without an answer, as for every hello (not shown to speak TLS)"),
            (ProtocolStatus.UNKNOWN, "connection reset (tried 2 times)"),
        }


def test_drip_server_is_bounded_by_the_timeout() -> None:
    started = time.monotonic()
    with drip_server() as address:
        (ep,) = scan(address.target, timeout=1.5, retries=0)
    assert time.monotonic() - started < 5.0
    for result in ep.protocols.values():
        assert result.status == ProtocolStatus.UNKNOWN
        assert "timeout" in result.reason


def test_refused_port_is_unknown_not_rejected() -> None:
    with silent_server() as address:
        port = address.port
    (ep,) = scan(f"127.0.0.1:{port}", timeout=1.0)
    assert {r.status for r in ep.protocols.values()} == {ProtocolStatus.UNKNOWN}
    assert all("refused" in r.reason for r in ep.protocols.values())


def test_silent_endpoint_does_not_hold_up_the_others() -> None:
    with silent_server() as silent, tls_server(VERSION_SETS["tls12"]) as good:
        finished: dict[str, float] = {}
        started = time.monotonic()

        def note(ep: EndpointFacts) -> None:
            finished[str(ep.port)] = time.monotonic() - started

        targets = [parse_target(silent.target), parse_target(good.target)]
        options = ScanOptions(timeout=2.0, retries=0)
        asyncio.run(Scanner(options, on_endpoint=note).scan(targets))
    assert finished[str(good.port)] < 1.0
    # Six version probes, at most `per_endpoint` at a time: each wave costs one timeout.
    waves = -(-len(options.versions) // options.per_endpoint)
    assert 2.0 * waves - 0.1 < finished[str(silent.port)] < 2.0 * waves + 1.5


def test_name_resolving_to_both_families_is_scanned_on_every_address() -> None:
    with tls_server(VERSION_SETS["tls12"], host="127.0.0.1") as v4:
        endpoints = scan(f"localhost:{v4.port}")
    # localhost resolves to 127.0.0.1, and also to ::1 where /etc/hosts says so (stock Debian does);
    # each address is its own endpoint.
    by_ip = {ep.ip: ep for ep in endpoints}
    assert len(by_ip) == len(endpoints)
    assert "127.0.0.1" in by_ip and set(by_ip) <= {"127.0.0.1", "::1"}
    assert all(ep.host == "localhost" for ep in endpoints)
    assert accepted(by_ip["127.0.0.1"]) == {TlsVersion.TLSv1_2}


def test_tls13_hello_retry_request_counts_as_accepted() -> None:
    # The probe offers x25519 and P-256 key shares; a server that insists on P-384 asks again (HRR).
    with openssl_s_server(["-tls1_3", "-groups", "secp384r1"]) as server:
        (ep,) = scan(server.target)
    result = ep.protocols[TlsVersion.TLSv1_3]
    assert result.status == ProtocolStatus.ACCEPTED
    assert "HelloRetryRequest" in result.reason
