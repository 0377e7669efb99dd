"""The version sweep over the one probe transport, driven by scripted peers: every hostile or quirky
answer gets an honest verdict, whatever the TCP segmentation."""

from __future__ import annotations

import asyncio
import itertools
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.probe.scripted import Hang, Refuse, Reset, Script, scripted_prober
from tlsaudit.models import ProtocolStatus, ReasonCode, TlsVersion
from tlsaudit.probe.ciphers import enumerate_cipher_suites
from tlsaudit.probe.versions import VersionProbe, sweep_versions
from tlsaudit.tls.client_hello_parse import ClientHelloInfo
from tlsaudit.tls.constants import VERSION_CODES, version_from_code
from tlsaudit.tls.suite_offers import probe_suites, ranked_suites
from tlsaudit.tls.wire import encode_records, handshake_message, u8, u16, vec8, vec16, vec24

ALL = tuple(TlsVersion)
RSA_SUITE = 0x009C  # TLS_RSA_WITH_AES_128_GCM_SHA256
FAKE_CERT = b"\x30\x03\x02\x01\x00"


def offered_version(info: ClientHelloInfo | None) -> TlsVersion:
    if info is None:
        return TlsVersion.SSLv2
    if 0x0304 in info.supported_versions:
        return TlsVersion.TLSv1_3
    found = version_from_code(info.legacy_version)
    assert found is not None
    return found


def server_hello(version: TlsVersion, suite: int, *, extensions: bytes | None = None) -> bytes:
    legacy = min(VERSION_CODES[version], 0x0303)
    body = u16(legacy) + os.urandom(32) + vec8(b"") + u16(suite) + u8(0)
    if version == TlsVersion.TLSv1_3:
        extensions = (extensions or b"") + u16(43) + vec16(u16(0x0304))
    if extensions is not None:
        body += vec16(extensions)
    return encode_records(22, legacy, handshake_message(2, body))


def tls12_flight(version: TlsVersion, suite: int = RSA_SUITE) -> bytes:
    legacy = VERSION_CODES[version]
    return (
        server_hello(version, suite)
        + encode_records(22, legacy, handshake_message(11, vec24(vec24(FAKE_CERT))))
        + encode_records(22, legacy, handshake_message(14, b""))
    )


def alert(description: int) -> bytes:
    return encode_records(21, 0x0303, bytes([2, description]))


PROTOCOL_VERSION = alert(70)
HANDSHAKE_FAILURE = alert(40)


def sweep(peer: object, *, retries: int = 1, timeout: float = 0.5) -> dict[TlsVersion, VersionProbe]:
    prober, _ = scripted_prober(peer, timeout=timeout, retries=retries)  # type: ignore[arg-type]
    return asyncio.run(sweep_versions(prober, ALL))


def statuses(probes: dict[TlsVersion, VersionProbe]) -> dict[TlsVersion, ProtocolStatus]:
    return {v: p.result.status for v, p in probes.items()}


def tls12_only(info: ClientHelloInfo | None) -> Script:
    version = offered_version(info)
    if version == TlsVersion.SSLv2:
        return []
    if version == TlsVersion.TLSv1_2:
        return [tls12_flight(version)]
    return [PROTOCOL_VERSION]


def test_tls12_only_server() -> None:
    probes = sweep(tls12_only)
    assert statuses(probes) == {
        v: ProtocolStatus.ACCEPTED if v == TlsVersion.TLSv1_2 else ProtocolStatus.REJECTED for v in ALL
    }
    assert probes[TlsVersion.TLSv1_2].certificate_chain == (FAKE_CERT,)
    assert probes[TlsVersion.TLSv1_0].result.reason_code == ReasonCode.ALERT
    assert probes[TlsVersion.SSLv2].result.reason_code == ReasonCode.CLOSED


def test_protocol_version_alerts_need_no_second_opinion() -> None:
    prober, backend = scripted_prober(tls12_only)
    asyncio.run(sweep_versions(prober, ALL))
    assert backend.connections == len(ALL)


def test_hello_with_too_many_suites_gets_a_conventional_second_chance() -> None:
    """A stack that closes on more than 100 suites: the 127-suite probe is closed, a real client is not."""

    def picky(info: ClientHelloInfo | None) -> Script:
        if info is not None and len(info.cipher_suites) > 100:
            return []
        return tls12_only(info)

    probes = sweep(picky)
    assert probes[TlsVersion.TLSv1_2].result.status == ProtocolStatus.ACCEPTED
    assert probes[TlsVersion.TLSv1_0].result.status == ProtocolStatus.REJECTED


def test_suite_outside_the_probe_set_is_found_in_the_remaining_chunks() -> None:
    rare = ranked_suites(TlsVersion.TLSv1_2)[-1]
    assert rare not in probe_suites(TlsVersion.TLSv1_2)

    def rare_only(info: ClientHelloInfo | None) -> Script:
        version = offered_version(info)
        if version != TlsVersion.TLSv1_2:
            return [PROTOCOL_VERSION] if info else []
        assert info is not None
        return [tls12_flight(version, rare)] if rare in info.cipher_suites else [HANDSHAKE_FAILURE]

    probes = sweep(rare_only)
    assert probes[TlsVersion.TLSv1_2].result.status == ProtocolStatus.ACCEPTED
    assert probes[TlsVersion.TLSv1_2].cipher_suite == rare


def test_reset_on_unsupported_versions_is_a_refusal_on_a_live_endpoint() -> None:
    def schannel_like(info: ClientHelloInfo | None) -> Script:
        version = offered_version(info)
        return [tls12_flight(version)] if version == TlsVersion.TLSv1_2 else [Reset()]

    probes = sweep(schannel_like)
    assert probes[TlsVersion.TLSv1_2].result.status == ProtocolStatus.ACCEPTED
    for version in ALL:
        if version != TlsVersion.TLSv1_2:
            assert probes[version].result.status == ProtocolStatus.REJECTED, version
            assert probes[version].result.reason_code == ReasonCode.RESET


def test_resets_everywhere_stay_unknown() -> None:
    probes = sweep(lambda info: [Reset()])
    assert set(statuses(probes).values()) == {ProtocolStatus.UNKNOWN}
    assert {p.result.reason_code for p in probes.values()} == {ReasonCode.RESET}


def test_answer_cut_mid_record_is_unknown_never_rejected() -> None:
    def cut(info: ClientHelloInfo | None) -> Script:
        return [tls12_flight(TlsVersion.TLSv1_2)[:20]]

    probes = sweep(cut)
    assert {p.result.reason_code for p in probes.values()} == {ReasonCode.CLOSED_MID_RECORD}
    assert set(statuses(probes).values()) == {ProtocolStatus.UNKNOWN}


def test_reset_after_part_of_an_answer_is_unknown() -> None:
    probes = sweep(lambda info: [tls12_flight(TlsVersion.TLSv1_2)[:20], Reset()])
    assert {p.result.reason_code for p in probes.values()} == {ReasonCode.RESET_MID_ANSWER}
    assert set(statuses(probes).values()) == {ProtocolStatus.UNKNOWN}


def test_sslv2_server_hello_accepts_only_sslv2() -> None:
    cert = b"\x30\x00"
    specs = (0x010080).to_bytes(3, "big")
    msg = u8(4) + u8(0) + u8(1) + u16(2) + u16(len(cert)) + u16(len(specs)) + u16(16) + cert + specs
    answer = u16(0x8000 | (len(msg) + 16)) + msg + bytes(16)
    probes = sweep(lambda info: [answer])
    assert probes[TlsVersion.SSLv2].result.status == ProtocolStatus.ACCEPTED
    for version in ALL[1:]:
        assert probes[version].result.status == ProtocolStatus.REJECTED, version


def test_duplicate_extensions_are_unknown_malformed() -> None:
    ext = u16(0xFF01) + vec16(b"\x00")

    def duplicated(info: ClientHelloInfo | None) -> Script:
        version = offered_version(info)
        if version != TlsVersion.TLSv1_2:
            return [PROTOCOL_VERSION]
        return [server_hello(version, RSA_SUITE, extensions=ext + ext)]

    probes = sweep(duplicated)
    assert probes[TlsVersion.TLSv1_2].result.status == ProtocolStatus.UNKNOWN
    assert probes[TlsVersion.TLSv1_2].result.reason_code == ReasonCode.MALFORMED


def test_certificate_that_never_comes_leaves_the_version_accepted_with_a_problem() -> None:
    def stalls(info: ClientHelloInfo | None) -> Script:
        version = offered_version(info)
        if version != TlsVersion.TLSv1_2:
            return [PROTOCOL_VERSION]
        return [server_hello(version, RSA_SUITE), Hang()]

    probes = sweep(stalls, timeout=0.3)
    probe = probes[TlsVersion.TLSv1_2]
    assert probe.result.status == ProtocolStatus.ACCEPTED
    assert "stopped before its Certificate" in probe.certificate_problem


def test_empty_certificate_message_is_a_certificate_problem() -> None:
    def empty(info: ClientHelloInfo | None) -> Script:
        version = offered_version(info)
        if version != TlsVersion.TLSv1_2:
            return [PROTOCOL_VERSION]
        return [
            server_hello(version, RSA_SUITE)
            + encode_records(22, 0x0303, handshake_message(11, vec24(b"")))
            + encode_records(22, 0x0303, handshake_message(14, b""))
        ]

    probe = sweep(empty)[TlsVersion.TLSv1_2]
    assert probe.result.status == ProtocolStatus.ACCEPTED
    assert probe.certificate_problem == "the server sent an empty Certificate message"


def test_timeouts_after_answers_are_retried_alone_with_more_time() -> None:
    answered: dict[str, int] = {"n": 0}

    def busy(info: ClientHelloInfo | None) -> Script:
        answered["n"] += 1
        if answered["n"] <= 6:  # the first wave: only TLS 1.2 gets through, the rest hang
            version = offered_version(info)
            return [tls12_flight(version)] if version == TlsVersion.TLSv1_2 else [Hang()]
        return tls12_only(info)

    probes = sweep(busy, retries=0, timeout=0.2)
    assert set(statuses(probes).values()) == {ProtocolStatus.ACCEPTED, ProtocolStatus.REJECTED}


def test_silent_peer_is_unknown_everywhere() -> None:
    probes = sweep(lambda info: [Hang()], timeout=0.2)
    assert {p.result.reason_code for p in probes.values()} == {ReasonCode.TIMEOUT}
    assert all("tried 2 times" in p.result.reason for p in probes.values())


def test_refused_connection_is_unknown() -> None:
    probes = sweep(lambda info: Refuse())
    assert {p.result.reason_code for p in probes.values()} == {ReasonCode.CONNECTION_REFUSED}


def test_hello_retry_random_in_tls12_is_a_plain_acceptance() -> None:
    from tlsaudit.tls.constants import HELLO_RETRY_REQUEST_RANDOM

    def hrr_random(info: ClientHelloInfo | None) -> Script:
        version = offered_version(info)
        if version != TlsVersion.TLSv1_2:
            return [PROTOCOL_VERSION]
        flight = bytearray(tls12_flight(version))
        flight[11:43] = HELLO_RETRY_REQUEST_RANDOM
        return [bytes(flight)]

    probe = sweep(hrr_random)[TlsVersion.TLSv1_2]
    assert probe.result.status == ProtocolStatus.ACCEPTED
    assert "HelloRetryRequest" not in probe.result.reason


def test_enumeration_over_the_transport() -> None:
    supported = (0xC02F, 0x009C, 0x002F)

    def chooser(info: ClientHelloInfo | None) -> Script:
        if info is None or offered_version(info) != TlsVersion.TLSv1_2:
            return [PROTOCOL_VERSION]
        for code in info.cipher_suites:  # client preference
            if code in supported:
                return [tls12_flight(TlsVersion.TLSv1_2, code)]
        return [HANDSHAKE_FAILURE]

    prober, _ = scripted_prober(chooser)
    result, outcome = asyncio.run(enumerate_cipher_suites(prober, TlsVersion.TLSv1_2))
    assert outcome.complete
    assert len(result.accepted) == 3
    assert result.server_preference is False


_FLIGHT = tls12_flight(TlsVersion.TLSv1_2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(_FLIGHT) - 1), max_size=12, unique=True))
def test_verdict_does_not_depend_on_segmentation(cuts: list[int]) -> None:
    points = sorted({0, *cuts, len(_FLIGHT)})
    pieces = [_FLIGHT[a:b] for a, b in itertools.pairwise(points)]

    def segmented(info: ClientHelloInfo | None) -> Script:
        version = offered_version(info)
        return list(pieces) if version == TlsVersion.TLSv1_2 else [PROTOCOL_VERSION]

    prober, _ = scripted_prober(segmented)
    probes = asyncio.run(sweep_versions(prober, (TlsVersion.TLSv1_2, TlsVersion.TLSv1_1)))
    assert probes[TlsVersion.TLSv1_2].result.status == ProtocolStatus.ACCEPTED
    assert probes[TlsVersion.TLSv1_2].certificate_chain == (FAKE_CERT,)
    assert probes[TlsVersion.TLSv1_1].result.status == ProtocolStatus.REJECTED


def test_suite_that_was_not_offered_is_malformed_not_accepted() -> None:
    def rogue(info: ClientHelloInfo | None) -> Script:
        version = offered_version(info)
        if version != TlsVersion.TLSv1_2:
            return [PROTOCOL_VERSION]
        return [tls12_flight(version, 0x1301)]  # a TLS 1.3 suite in a TLS 1.2 ServerHello

    probe = sweep(rogue)[TlsVersion.TLSv1_2]
    assert probe.result.status == ProtocolStatus.UNKNOWN
    assert probe.result.reason_code == ReasonCode.MALFORMED
    assert "not offered" in probe.result.reason


def test_compression_that_was_not_offered_is_malformed() -> None:
    def deflate(info: ClientHelloInfo | None) -> Script:
        version = offered_version(info)
        if version != TlsVersion.TLSv1_2:
            return [PROTOCOL_VERSION]
        flight = bytearray(tls12_flight(version))
        flight[9 + 2 + 32 + 1 + 2] = 1  # compression_method after version, random, session id, suite
        return [bytes(flight)]

    probe = sweep(deflate)[TlsVersion.TLSv1_2]
    assert probe.result.reason_code == ReasonCode.MALFORMED
