"""Handshake features against real servers (openssl s_server, gnutls-serv, Python ssl), each cross-checked
with openssl s_client where it can see the fact; TLS compression, which no stack on Debian 12 still
offers, against a scripted peer that answers a DEFLATE offer byte for byte as a compressing server did."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Sequence

import pytest

from tests.probe.scripted import scripted_prober
from tests.support.tls_servers import openssl_s_server, python_tls_server, tlslite_server
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.models import (
    EndpointFacts,
    FindingStatus,
    HandshakeFeatures,
    ProtocolResult,
    ProtocolStatus,
    Target,
    TlsVersion,
)
from tlsaudit.probe.handshake_features import collect_handshake_features, handshake_features_enricher
from tlsaudit.probe.scanner import Scanner, ScanOptions
from tlsaudit.tls.client_hello_parse import ClientHelloInfo
from tlsaudit.tls.wire import encode_records, handshake_message, u8, u16, vec8, vec16

OPTIONS = ScanOptions(timeout=5.0, retries=1)
ALL_SUITES = ["-cipher", "ALL:@SECLEVEL=0"]


def scan(port: int) -> EndpointFacts:
    target = Target(raw=f"127.0.0.1:{port}", host="127.0.0.1", port=port)
    (facts,) = asyncio.run(Scanner(OPTIONS, enrichers=[handshake_features_enricher()]).scan([target]))
    return facts


def features(facts: EndpointFacts) -> HandshakeFeatures:
    assert facts.handshake is not None, facts.errors
    return facts.handshake


def statuses(facts: EndpointFacts, policy: str = "nist-800-52r2") -> dict[str, FindingStatus]:
    result = evaluate(load_ruleset(policy), endpoints=[facts])
    return {f.rule_id: f.status for f in result.findings}


def s_client(port: int, *args: str, stdin: bytes = b"") -> str:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl not found: install the Debian package 'openssl'"
    done = subprocess.run(
        [openssl, "s_client", "-connect", f"127.0.0.1:{port}", *args],
        input=stdin,
        capture_output=True,
        timeout=20,
        check=False,
    )
    return done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")


def test_openssl_defaults() -> None:
    with openssl_s_server(ALL_SUITES) as srv:
        facts = scan(srv.port)
        fallback = s_client(srv.port, "-tls1_2", "-fallback_scsv")
        plain = s_client(srv.port, "-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0")
    hs = features(facts)
    assert hs.secure_renegotiation is True and "Secure Renegotiation IS supported" in plain
    assert hs.extended_master_secret is True and "Extended master secret: yes" in plain
    assert hs.fallback_scsv is True and "inappropriate fallback" in fallback
    assert hs.compression is False and "Compression: NONE" in plain
    assert hs.encrypt_then_mac is True  # OpenSSL negotiates RFC 7366 with CBC suites
    assert hs.client_renegotiation is False  # OpenSSL 3 refuses client renegotiation by default
    assert hs.session_ticket_resumption is True and hs.ticket_lifetime_hint == 7200
    assert hs.session_id_resumption is True
    found = statuses(facts)
    for rule in (
        "endpoint.insecure-renegotiation",
        "endpoint.client-renegotiation",
        "endpoint.no-fallback-scsv",
        "endpoint.tls-compression",
        "endpoint.no-extended-master-secret",
    ):
        assert found[rule] == FindingStatus.PASS, rule
    messages = {
        f.rule_id: f.message for f in evaluate(load_ruleset("nist-800-52r2"), endpoints=[facts]).findings
    }
    assert "resumes sessions" in messages["endpoint.session-resumption"]  # info
    assert "uses encrypt-then-MAC" in messages["endpoint.encrypt-then-mac"]  # info


def test_client_renegotiation_allowed() -> None:
    with openssl_s_server([*ALL_SUITES, "-client_renegotiation", "-tls1_2"]) as srv:
        facts = scan(srv.port)
        # s_client renegotiates on an "R" line; the server's acceptance shows as a verified re-handshake.
        seen = s_client(srv.port, "-tls1_2", stdin=b"R\n")
    assert features(facts).client_renegotiation is True
    assert "RENEGOTIATING" in seen and "no renegotiation" not in seen
    assert statuses(facts)["endpoint.client-renegotiation"] == FindingStatus.WARN


def test_session_cache_off() -> None:
    with openssl_s_server([*ALL_SUITES, "-no_cache", "-no_ticket", "-tls1_2"]) as srv:
        facts = scan(srv.port)
        seen = s_client(srv.port, "-tls1_2", "-reconnect")
    hs = features(facts)
    assert hs.session_id_resumption is False and hs.session_ticket_resumption is False
    assert "Reused, TLSv1.2" not in seen


def test_session_ids_cross_checked_with_reconnect() -> None:
    with openssl_s_server([*ALL_SUITES, "-no_ticket", "-tls1_2"]) as srv:
        facts = scan(srv.port)
        seen = s_client(srv.port, "-tls1_2", "-reconnect")
    hs = features(facts)
    assert hs.session_id_resumption is True and hs.session_ticket_resumption is False
    assert "Reused, TLSv1.2" in seen


TLSLITE_CASES = [
    ("useExtendedMasterSecret", "extended_master_secret", "Extended master secret: no"),
    ("useEncryptThenMAC", "encrypt_then_mac", ""),
]


@pytest.mark.parametrize(("setting", "field", "openssl_says"), TLSLITE_CASES, ids=["no-ems", "no-etm"])
def test_tlslite_without_feature(setting: str, field: str, openssl_says: str) -> None:
    versions = [TlsVersion.TLSv1_1, TlsVersion.TLSv1_2]
    with tlslite_server(versions, settings_overrides={setting: False}) as srv:
        facts = scan(srv.port)
        seen = s_client(srv.port, "-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0")
    assert getattr(features(facts), field) is False
    assert openssl_says in seen
    with tlslite_server(versions) as srv:
        assert getattr(features(scan(srv.port)), field) is True
    if field == "extended_master_secret":
        assert statuses(facts)["endpoint.no-extended-master-secret"] == FindingStatus.WARN
    else:
        findings = evaluate(load_ruleset("nist-800-52r2"), endpoints=[facts]).findings
        etm = next(f for f in findings if f.rule_id == "endpoint.encrypt-then-mac")
        assert etm.status == FindingStatus.PASS and "without encrypt-then-MAC" in etm.message  # info


def test_tls13_only_has_no_legacy_features() -> None:
    with python_tls_server([TlsVersion.TLSv1_3]) as srv:
        facts = scan(srv.port)
    assert facts.handshake is None
    found = statuses(facts)  # nothing to fault: these features do not exist in TLS 1.3
    assert found["endpoint.insecure-renegotiation"] == FindingStatus.PASS
    assert found["endpoint.tls-compression"] == FindingStatus.PASS
    assert found["endpoint.no-fallback-scsv"] == FindingStatus.PASS


def test_unprobed_features_are_errors() -> None:
    with openssl_s_server(ALL_SUITES) as srv:
        target = Target(raw=f"127.0.0.1:{srv.port}", host="127.0.0.1", port=srv.port)
        (facts,) = asyncio.run(Scanner(OPTIONS).scan([target]))
    found = statuses(facts)
    assert found["endpoint.insecure-renegotiation"] == FindingStatus.ERROR
    assert found["endpoint.tls-compression"] == FindingStatus.ERROR


# ------------------------------------------------------------------ scripted peers


def _server_hello(compression: int, version: int, suite: int = 0x002F) -> bytes:
    """A TLS 1.2 ServerHello choosing `suite` and `compression`, with renegotiation_info, then
    ServerHelloDone (what a zlib-enabled OpenSSL 1.0 server sent to a DEFLATE offer)."""
    exts = u16(0xFF01) + vec16(b"\x00")
    body = u16(version) + bytes(32) + vec8(b"") + u16(suite) + u8(compression) + vec16(exts)
    flight = handshake_message(2, body) + handshake_message(14, b"")
    return encode_records(22, version, flight)


def _inappropriate_fallback() -> bytes:
    return encode_records(21, 0x0303, b"\x02\x56")


def _peer(*, compresses: bool, honours_fallback: bool) -> object:
    def peer(hello: ClientHelloInfo | None) -> Sequence[bytes]:
        if hello is None:
            return []
        if 0x5600 in hello.cipher_suites and honours_fallback:
            return [_inappropriate_fallback()]
        offered_deflate = 1 in hello.compression_methods
        return [_server_hello(1 if compresses and offered_deflate else 0, hello.legacy_version)]

    return peer


def _tls11_and_tls12_only() -> EndpointFacts:
    accepted = ProtocolResult(status=ProtocolStatus.ACCEPTED)
    rejected = ProtocolResult(status=ProtocolStatus.REJECTED)
    protocols = {v: rejected for v in TlsVersion} | {
        TlsVersion.TLSv1_1: accepted,
        TlsVersion.TLSv1_2: accepted,
    }
    return EndpointFacts(
        target="s", host="127.0.0.1", port=443, ip="127.0.0.1", sni=None, protocols=protocols
    )


@pytest.mark.parametrize("compresses", [True, False])
def test_compression_and_fallback_scripted(compresses: bool) -> None:
    prober, backend = scripted_prober(_peer(compresses=compresses, honours_fallback=not compresses))  # type: ignore[arg-type]
    found = asyncio.run(collect_handshake_features(prober, {}, _tls11_and_tls12_only()))
    assert found is not None
    assert found.compression is compresses
    assert found.fallback_scsv is (not compresses)
    deflate_offers = [h for h in backend.hellos if h is not None and 1 in h.compression_methods]
    assert len(deflate_offers) == 1 and deflate_offers[0].compression_methods == (1, 0)


def _silent_closer(*, refuses_fallback: bool) -> object:
    """A server that answers every failed handshake by closing, with no alert (as Dovecot and slapd
    with GnuTLS do): an SCSV hello is closed when `refuses_fallback`, TLS 1.1 is closed otherwise too."""

    def peer(hello: ClientHelloInfo | None) -> Sequence[bytes]:
        if hello is None:
            return []
        if 0x5600 in hello.cipher_suites and refuses_fallback:
            return []
        if hello.legacy_version == 0x0302 and not refuses_fallback:
            return []
        return [_server_hello(0, hello.legacy_version)]

    return peer


@pytest.mark.parametrize("refuses_fallback", [True, False])
def test_fallback_refused_by_a_close_without_alert(refuses_fallback: bool) -> None:
    """A close with no alert is a refusal of the fallback only where the same hello without the signal
    is accepted; otherwise the fact stays unknown, with the reason."""
    prober, backend = scripted_prober(_silent_closer(refuses_fallback=refuses_fallback))  # type: ignore[arg-type]
    found = asyncio.run(collect_handshake_features(prober, {}, _tls11_and_tls12_only()))
    assert found is not None
    tls11 = [h for h in backend.hellos if h is not None and h.legacy_version == 0x0302]
    assert [0x5600 in h.cipher_suites for h in tls11] == [True, False]  # the signal, then the control
    if refuses_fallback:
        assert found.fallback_scsv is True
    else:
        assert found.fallback_scsv is None
        assert any("refused, and so was the same hello without the signal" in e for e in found.errors)
