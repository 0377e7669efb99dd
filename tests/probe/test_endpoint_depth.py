"""Scanner + enrichers + rules engine against real servers: each certificate, cipher-suite and STARTTLS
rule fires exactly where it should."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.probe import daemons
from tests.probe.suite_servers import tlslite_suite_server
from tests.support.certs import CertFiles, CertSpec, KeyType, SignatureHash, Validity, make_cert
from tests.support.tls_servers import openssl_s_server, python_tls_server
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.models import EndpointFacts, FindingStatus, Target, TlsVersion
from tlsaudit.probe.certificates import load_trust_anchors
from tlsaudit.probe.depth import certificate_enricher, cipher_suite_enricher, starttls_enricher
from tlsaudit.probe.scanner import Enricher, Scanner, ScanOptions

TLS12 = frozenset({TlsVersion.TLSv1_2})
TLS13 = frozenset({TlsVersion.TLSv1_3})
OPTIONS = ScanOptions(timeout=5.0, retries=0, versions=(TlsVersion.TLSv1_2, TlsVersion.TLSv1_3))


def scan(port: int, enrichers: Sequence[Enricher], *, starttls: str | None = None) -> EndpointFacts:
    target = Target(raw=f"127.0.0.1:{port}", host="127.0.0.1", port=port, starttls=starttls)
    scanner = Scanner(OPTIONS, enrichers=enrichers)
    (facts,) = asyncio.run(scanner.scan([target]))
    return facts


def outcomes(
    facts: EndpointFacts, prefix: str, policy: str = "mozilla-intermediate"
) -> dict[str, FindingStatus]:
    result = evaluate(load_ruleset(policy), endpoints=[facts])
    return {f.rule_id: f.status for f in result.findings if f.rule_id.startswith(prefix)}


def fired(facts: EndpointFacts, prefix: str, policy: str = "mozilla-intermediate") -> set[str]:
    return {
        rid
        for rid, s in outcomes(facts, prefix, policy).items()
        if s in (FindingStatus.FAIL, FindingStatus.WARN)
    }


def cert_enricher(files: CertFiles, now: dt.datetime | None = None) -> Enricher:
    anchors = load_trust_anchors(str(files.ca))
    return certificate_enricher(anchors, timeout=5.0, clock=(lambda: now) if now else None)


# ------------------------------------------------------------------ certificates

CERT_CASES: list[tuple[str, CertSpec, bool, set[str]]] = [
    ("valid", CertSpec(), True, set()),
    ("ecdsa", CertSpec(key_type=KeyType.EC_P256), True, set()),
    ("expired", CertSpec(validity=Validity.EXPIRED), True, {"endpoint.cert-expired"}),
    ("not-yet-valid", CertSpec(validity=Validity.NOT_YET_VALID), True, {"endpoint.cert-not-yet-valid"}),
    ("self-signed", CertSpec(self_signed=True), True, {"endpoint.cert-self-signed"}),
    ("wrong-name", CertSpec(sans=("www.example.test",)), True, {"endpoint.cert-hostname-mismatch"}),
    ("rsa-1024", CertSpec(key_type=KeyType.RSA_1024), True, {"endpoint.cert-weak-key"}),
    # cryptography's Web PKI profile refuses SHA-1 signatures, as browsers do: untrusted as well.
    (
        "sha1",
        CertSpec(signature_hash=SignatureHash.SHA1),
        True,
        {"endpoint.cert-weak-signature", "endpoint.cert-untrusted"},
    ),
    # Without the intermediate, clients holding only the root cannot build a path: one cause, one finding.
    ("incomplete", CertSpec(), False, {"endpoint.cert-chain-incomplete"}),
]


@pytest.mark.parametrize(
    ("spec", "send_intermediate", "expected"),
    [pytest.param(spec, send, expected, id=name) for name, spec, send, expected in CERT_CASES],
)
def test_certificate_rules_over_tls12(spec: CertSpec, send_intermediate: bool, expected: set[str]) -> None:
    files = make_cert(spec)
    # A self-signed certificate given as --ca-file would be trusted: judge it against the OS store.
    anchors = load_trust_anchors(None if spec.self_signed else str(files.ca))
    with python_tls_server(TLS12, cert=files, send_intermediate=send_intermediate) as server:
        facts = scan(server.port, [certificate_enricher(anchors, timeout=5.0)])
    assert facts.certificate is not None, facts.errors
    assert fired(facts, "endpoint.cert-") == expected
    statuses = outcomes(facts, "endpoint.cert-")
    assert FindingStatus.ERROR not in statuses.values(), statuses


def test_expiring_soon_follows_the_parameter() -> None:
    files = make_cert()
    with python_tls_server(TLS12, cert=files) as server:
        # The default certificate lives 90 days; pretend 80 of them have passed.
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=80)
        facts = scan(server.port, [cert_enricher(files, now=later)])
    assert facts.certificate is not None and facts.certificate.days_left in (8, 9)
    assert fired(facts, "endpoint.cert-") == {"endpoint.cert-expiring-soon"}
    relaxed = evaluate(
        load_ruleset("mozilla-intermediate", params={"cert_expiry_warn_days": 5}), endpoints=[facts]
    )
    soon = next(f for f in relaxed.findings if f.rule_id == "endpoint.cert-expiring-soon")
    assert soon.status == FindingStatus.PASS


def test_tls13_only_server_chain_by_full_handshake() -> None:
    files = make_cert(CertSpec(validity=Validity.EXPIRED))
    with python_tls_server(TLS13, cert=files) as server:
        facts = scan(server.port, [cert_enricher(files)])
    assert facts.protocols[TlsVersion.TLSv1_3].status == "accepted"
    assert facts.certificate is not None, facts.errors
    assert facts.certificate.chain_length == 2
    assert fired(facts, "endpoint.cert-") == {"endpoint.cert-expired"}


def test_openssl_server_wrong_order() -> None:
    files = make_cert()
    # s_server sends -cert first, then -cert_chain as given: root before intermediate is out of order.
    bundle = Path(str(files.chain) + ".disordered.pem")
    bundle.write_bytes(files.ca.read_bytes() + (files.intermediate or files.leaf).read_bytes())
    with openssl_s_server(
        ["-tls1_2", "-cert_chain", str(bundle)], cert=files, send_intermediate=False
    ) as server:
        facts = scan(server.port, [cert_enricher(files)])
    assert facts.certificate is not None, facts.errors
    assert facts.certificate.chain_length == 3
    assert fired(facts, "endpoint.cert-") == {"endpoint.cert-chain-order"}


def test_self_signed_certificate_given_as_ca_file_is_trusted() -> None:
    files = make_cert(CertSpec(self_signed=True))
    with python_tls_server(TLS12, cert=files) as server:
        facts = scan(server.port, [cert_enricher(files)])
    assert facts.certificate is not None and facts.certificate.self_signed
    assert fired(facts, "endpoint.cert-") == set()


def test_untrusted_without_ca_file() -> None:
    files = make_cert()
    with python_tls_server(TLS12, cert=files) as server:
        facts = scan(server.port, [certificate_enricher(load_trust_anchors(None), timeout=5.0)])
    assert fired(facts, "endpoint.cert-") == {"endpoint.cert-untrusted"}
    # The intermediate was sent; only the private root is unknown: completeness is not judged.
    assert outcomes(facts, "endpoint.cert-chain-incomplete") == {
        "endpoint.cert-chain-incomplete": FindingStatus.SKIPPED
    }


# ------------------------------------------------------------------ cipher suites

SUITES = cipher_suite_enricher(timeout=5.0)


def test_mozilla_intermediate_server_is_clean() -> None:
    cipher = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305"
    with openssl_s_server(["-cipher", cipher, "-serverpref"]) as server:
        facts = scan(server.port, [SUITES])
    assert [cs.version for cs in facts.cipher_suites] == [TlsVersion.TLSv1_2, TlsVersion.TLSv1_3]
    tls12 = facts.cipher_suites[0]
    assert tls12.accepted == (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    )
    assert tls12.server_preference is True
    assert fired(facts, "endpoint.") == set()
    assert (
        outcomes(facts, "endpoint.suites-outside")["endpoint.suites-outside-mozilla-intermediate"] == "pass"
    )


def test_static_rsa_cbc_only() -> None:
    with openssl_s_server(["-tls1_2", "-cipher", "AES128-SHA:AES256-SHA256:@SECLEVEL=0"]) as server:
        facts = scan(server.port, [SUITES])
    assert fired(facts, "endpoint.") == {
        "endpoint.no-forward-secrecy",
        "endpoint.cbc-only-tls12",
        "endpoint.suites-outside-mozilla-intermediate",
    }


def test_null_and_anonymous() -> None:
    cipher = "ECDHE-RSA-AES128-GCM-SHA256:NULL-SHA256:AECDH-AES128-SHA:@SECLEVEL=0"
    with openssl_s_server(["-tls1_2", "-cipher", cipher]) as server:
        facts = scan(server.port, [SUITES])
    assert fired(facts, "endpoint.suite") == {
        "endpoint.suite-null",
        "endpoint.suite-anon",
        "endpoint.suites-outside-mozilla-intermediate",
    }


def test_3des_is_a_failure_or_a_warning_by_policy() -> None:
    with tlslite_suite_server(["3des"], TlsVersion.TLSv1_2) as server:
        facts = scan(server.port, [SUITES])
    assert outcomes(facts, "endpoint.suite-3des") == {"endpoint.suite-3des": FindingStatus.FAIL}
    assert outcomes(facts, "endpoint.suite-3des", "sage-intacct-2018") == {
        "endpoint.suite-3des": FindingStatus.WARN
    }
    # PCI DSS v4.0.1 (and its old id) fail it: NIST disallows 3DES after 2023.
    assert outcomes(facts, "endpoint.suite-3des", "pci-dss-3.2") == {
        "endpoint.suite-3des": FindingStatus.FAIL
    }
    assert "endpoint.suite-rc4" not in fired(facts, "endpoint.suite")


def test_rc4() -> None:
    with tlslite_suite_server(["rc4", "aes128gcm"], TlsVersion.TLSv1_2) as server:
        facts = scan(server.port, [SUITES])
    assert {"endpoint.suite-rc4"} <= fired(facts, "endpoint.suite")
    assert "endpoint.suite-3des" not in fired(facts, "endpoint.suite")


# ------------------------------------------------------------------ STARTTLS


@pytest.fixture(scope="module")
def pg_cluster() -> object:
    if daemons.find_pg_bin("postgres") is None:
        pytest.fail("PostgreSQL server (postgres, initdb) is not installed")
    with daemons.postgres_cluster() as base:
        yield base


def test_postgres_refusing_ssl_is_a_finding(pg_cluster: Path) -> None:
    files = make_cert()
    with daemons.postgres_server(pg_cluster, ssl=False, cert_pem=b"", key_pem=b"") as pg:
        facts = scan(pg.port, [starttls_enricher(timeout=5.0), cert_enricher(files)], starttls="postgres")
    assert facts.starttls_refused is not None and "'N'" in facts.starttls_refused
    assert fired(facts, "endpoint.starttls") == {"endpoint.starttls-refused"}
    assert facts.certificate is None


def test_postgres_certificate_through_starttls(pg_cluster: Path) -> None:
    files = make_cert()
    chain_pem = files.chain.read_bytes()
    with daemons.postgres_server(
        pg_cluster, ssl=True, cert_pem=chain_pem, key_pem=files.key.read_bytes()
    ) as pg:
        facts = scan(pg.port, [starttls_enricher(timeout=5.0), cert_enricher(files)], starttls="postgres")
    assert facts.starttls_refused is None
    assert facts.certificate is not None, facts.errors
    assert facts.certificate.trusted is True
    assert fired(facts, "endpoint.cert-") == set()


def test_report_with_certificate_and_suites_matches_the_schema() -> None:
    import json

    import jsonschema

    from tlsaudit.audit import Collected, make_report
    from tlsaudit.data import report_schema_path

    files = make_cert(CertSpec(validity=Validity.NOT_YET_VALID))
    cipher = "ECDHE-RSA-AES128-SHA:AES256-SHA:@SECLEVEL=0"
    with openssl_s_server(["-tls1_2", "-cipher", cipher], cert=files) as server:
        facts = scan(server.port, [cert_enricher(files), SUITES])
    broken = dataclasses.replace(facts, starttls="smtp", starttls_refused="smtp: STARTTLS answered 454 no")
    partial = dataclasses.replace(
        facts.cipher_suites[0], errors=("timeout after 5s waiting for the server's answer",)
    )
    partial_ep = dataclasses.replace(facts, ip="127.0.0.2", cipher_suites=(partial,))
    report = make_report(
        load_ruleset("mozilla-intermediate"), Collected(endpoints=[facts, broken, partial_ep])
    )
    schema = json.loads(report_schema_path().read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(json.dumps(report)), schema)
    cert = report["endpoints"][0]["certificate"]
    assert cert["not_yet_valid"] is True
    assert cert["chain_signature_hashes"] == ["sha256", "sha256"]
    assert report["endpoints"][0]["cipher_suites"][0]["accepted"] == [
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
    ]


def test_depth_enrichers_all_together(tmp_path: Path) -> None:
    from tlsaudit.probe.certificates import CaFileError
    from tlsaudit.probe.depth import depth_enrichers

    files = make_cert()
    with python_tls_server(TLS12 | TLS13, cert=files) as server:
        facts = scan(server.port, depth_enrichers(timeout=5.0, ca_file=str(files.ca)))
    assert facts.certificate is not None and facts.certificate.trusted is True
    assert [cs.version for cs in facts.cipher_suites] == [TlsVersion.TLSv1_2, TlsVersion.TLSv1_3]
    assert not facts.errors
    with pytest.raises(CaFileError):
        depth_enrichers(timeout=1.0, ca_file=str(tmp_path / "absent.pem"))


def test_tls13_chain_fetch_sends_sni_for_names_only() -> None:
    default = make_cert(CertSpec(common_name="default.test", sans=("default.test",)))
    named = make_cert(CertSpec(common_name="named.test", sans=("named.test",)))
    args = ["-tls1_3", "-servername", "named.test", "-cert2", str(named.leaf), "-key2", str(named.key)]
    with openssl_s_server(args, cert=default) as server:
        enrich = cert_enricher(default)
        by_name = Target(raw="named.test", host="127.0.0.1", port=server.port, sni="named.test")
        (with_sni,) = asyncio.run(Scanner(OPTIONS, enrichers=[enrich]).scan([by_name]))
        without_sni = scan(server.port, [enrich])
    assert with_sni.certificate is not None and with_sni.certificate.san == ("DNS:named.test",)
    assert with_sni.certificate.hostname_match is True
    assert without_sni.certificate is not None and without_sni.certificate.san == ("DNS:default.test",)
    assert without_sni.certificate.hostname_match is False, "an IP scanned is matched as an IP"


def test_scan_endpoints_passes_enrichers_through() -> None:
    from tlsaudit.audit import Collected, scan_endpoints
    from tlsaudit.probe.depth import depth_enrichers

    files = make_cert(CertSpec(validity=Validity.EXPIRED))
    collected = Collected()
    with python_tls_server(TLS12, cert=files) as server:
        target = Target(raw=f"127.0.0.1:{server.port}", host="127.0.0.1", port=server.port)
        scan_endpoints(
            [target],
            OPTIONS,
            collected,
            enrichers=depth_enrichers(timeout=5.0, ca_file=str(files.ca), ciphers=False),
        )
    (facts,) = collected.endpoints
    assert facts.certificate is not None and facts.certificate.days_left is not None
    assert facts.certificate.days_left < 0
    assert facts.cipher_suites == ()
