"""The SC-081 schedule, the Baseline Requirements' way of counting a lifetime, and RFC 6797 parsing."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.probe.pki import make_pki
from tests.probe.revocation_pki import make_revocable_leaf
from tlsaudit.models import Hsts, HttpOutcome
from tlsaudit.probe.certificate_policy_facts import cab_max_lifetime_days, lifetime_days
from tlsaudit.probe.hsts import host_header, parse_hsts, read_answer

UTC = dt.UTC


@pytest.mark.parametrize(
    ("not_before", "days"),
    [
        (dt.datetime(2020, 8, 31, 23, 59, 59, tzinfo=UTC), 825),
        (dt.datetime(2020, 9, 1, tzinfo=UTC), 398),
        (dt.datetime(2026, 3, 14, 23, 59, 59, tzinfo=UTC), 398),
        (dt.datetime(2026, 3, 15, tzinfo=UTC), 200),
        (dt.datetime(2027, 3, 14, 23, 59, 59, tzinfo=UTC), 200),
        (dt.datetime(2027, 3, 15, tzinfo=UTC), 100),
        (dt.datetime(2029, 3, 14, tzinfo=UTC), 100),
        (dt.datetime(2029, 3, 15, tzinfo=UTC), 47),
    ],
)
def test_sc081_schedule_by_not_before(not_before: dt.datetime, days: int) -> None:
    assert cab_max_lifetime_days(not_before) == days


def test_lifetime_counts_both_ends() -> None:
    pki = make_pki()
    exact = make_revocable_leaf(pki.intermediate, days=200)  # notAfter = notBefore + 200 days - 1 s
    assert lifetime_days(exact.cert) == 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=31536000", Hsts(max_age=31536000)),
        ("MAX-AGE=10 ; INCLUDESUBDOMAINS", Hsts(max_age=10, include_subdomains=True)),
        ('max-age="0"; preload', Hsts(max_age=0, preload=True)),
        ("includeSubDomains", None),  # no max-age: ignored by browsers (RFC 6797 6.1.1)
        ("max-age=10; max-age=20", None),  # a directive twice: ignored (6.1)
        ("max-age=abc", None),
        ("max-age=5; unknown-directive=x", Hsts(max_age=5)),  # unknown directives are ignored
    ],
)
def test_hsts_parsing(value: str, expected: Hsts | None) -> None:
    assert parse_hsts(value) == expected


def test_answers() -> None:
    check, hsts = read_answer(
        b"HTTP/1.1 301 Moved\r\nstrict-transport-security: max-age=60\r\n"
        b"Strict-Transport-Security: max-age=1\r\n\r\n",
        closed=False,
    )
    assert (check.outcome, check.status, hsts) == (HttpOutcome.ANSWERED, 301, Hsts(max_age=60))  # the first
    assert read_answer(b"* OK IMAP ready\r\n", closed=True)[0].outcome == HttpOutcome.NOT_HTTP
    assert read_answer(b"", closed=True)[0].outcome == HttpOutcome.NOT_HTTP
    assert read_answer(b"HTTP/1.1 200 OK\r\nX: y", closed=True)[0].outcome == HttpOutcome.FAILED
    assert host_header("::1", 8443) == "[::1]:8443" and host_header("example.com", 443) == "example.com"


def test_mozilla_6_intermediate_has_no_dhe_suites() -> None:
    from tlsaudit.facts import cipher_suite_facts
    from tlsaudit.models import CipherSuiteResult, TlsVersion

    result = CipherSuiteResult(
        version=TlsVersion.TLSv1_2,
        accepted=("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
        classes=("aead", "forward-secrecy"),
    )
    outside = cipher_suite_facts((result,))["cipher_suites.outside_mozilla_intermediate"]
    assert outside == ("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",)
