"""Cipher-suite rules over enumerations built from the IANA table: each suite class fires its rule.

The local OpenSSL cannot serve EXPORT or single-DES suites and tlslite-ng does not implement them,
so these classes are judged here from enumeration results; RC4, 3DES, NULL, anonymous, static-RSA
and CBC suites are also judged against real servers in test_endpoint_depth.py.
"""

from __future__ import annotations

import pytest

from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.models import (
    EndpointFacts,
    FindingStatus,
    ProtocolResult,
    ProtocolStatus,
    TlsVersion,
)
from tlsaudit.probe.ciphers import SuiteEnumeration, suite_result

GOOD = 0xC02F  # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256


def endpoint(version: TlsVersion, codes: tuple[int, ...], *, errors: tuple[str, ...] = ()) -> EndpointFacts:
    result = suite_result(
        version, SuiteEnumeration(accepted=codes, server_preference=True, probes=1, errors=errors)
    )
    return EndpointFacts(
        target="127.0.0.1:443",
        host="127.0.0.1",
        port=443,
        ip="127.0.0.1",
        sni=None,
        protocols={version: ProtocolResult(status=ProtocolStatus.ACCEPTED, reason="ServerHello")},
        cipher_suites=(result,),
    )


def fired(ep: EndpointFacts, policy: str = "mozilla-intermediate") -> set[str]:
    findings = evaluate(load_ruleset(policy), endpoints=[ep]).findings
    return {
        f.rule_id
        for f in findings
        if f.status in (FindingStatus.FAIL, FindingStatus.WARN) and not f.rule_id.startswith("endpoint.tls")
    }


OUTSIDE = "endpoint.suites-outside-mozilla-intermediate"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # Over TLS 1.0, every CBC suite is also BEAST; 64-bit blocks are SWEET32, RSA export FREAK.
        (
            0x0003,
            {"endpoint.suite-export", "endpoint.suite-rc4", "endpoint.no-forward-secrecy", "endpoint.freak"},
        ),
        (0x0009, {"endpoint.suite-des", "endpoint.no-forward-secrecy", "endpoint.beast", "endpoint.sweet32"}),
        (
            0x0062,
            {"endpoint.suite-export", "endpoint.suite-des", "endpoint.no-forward-secrecy"}
            | {"endpoint.beast", "endpoint.sweet32", "endpoint.freak"},
        ),
        (0x0016, {"endpoint.suite-3des", "endpoint.beast", "endpoint.sweet32"}),
        # IDEA: 64-bit blocks too
        (
            0x0007,
            {"endpoint.suite-3des", "endpoint.no-forward-secrecy", "endpoint.beast", "endpoint.sweet32"},
        ),
        (0x0005, {"endpoint.suite-rc4", "endpoint.no-forward-secrecy"}),
        (0x0002, {"endpoint.suite-null", "endpoint.no-forward-secrecy"}),
        (0x0034, {"endpoint.suite-anon", "endpoint.beast"}),  # TLS_DH_anon_WITH_AES_128_CBC_SHA
    ],
)
def test_weak_class_fires_its_rule(code: int, expected: set[str]) -> None:
    # Offered next to a good suite: one weak suite among strong ones is enough to fail.
    ep = endpoint(TlsVersion.TLSv1_0, (GOOD, code))
    assert fired(ep) - {OUTSIDE} == expected - {"endpoint.no-forward-secrecy"}
    alone = endpoint(TlsVersion.TLSv1_0, (code,))
    assert fired(alone) - {OUTSIDE} == expected


def test_good_suites_fire_nothing() -> None:
    assert fired(endpoint(TlsVersion.TLSv1_2, (GOOD, 0xC030))) == set()
    assert fired(endpoint(TlsVersion.TLSv1_3, (0x1301, 0x1302))) == set()


def test_tls12_cbc_only_is_a_warning() -> None:
    ep = endpoint(TlsVersion.TLSv1_2, (0xC013, 0xC014))  # ECDHE-RSA-AES128/256-SHA
    assert fired(ep) == {"endpoint.cbc-only-tls12", OUTSIDE}
    assert fired(endpoint(TlsVersion.TLSv1_2, (0xC013, GOOD))) == {OUTSIDE}


def test_partial_enumeration_is_never_a_pass() -> None:
    ep = endpoint(TlsVersion.TLSv1_2, (GOOD,), errors=("timeout after 5s waiting for the server's answer",))
    findings = evaluate(load_ruleset("mozilla-intermediate"), endpoints=[ep]).findings
    suite_rules = {
        f.rule_id: f.status
        for f in findings
        if f.rule_id.startswith(("endpoint.suite", "endpoint.no-forward", "endpoint.cbc-"))
    }
    assert FindingStatus.PASS not in suite_rules.values()
    assert suite_rules["endpoint.suite-rc4"] == FindingStatus.ERROR
