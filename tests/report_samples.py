"""Reports built from real model objects, for the report and format tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tlsaudit.models import (
    CaptureFacts,
    CertificateInfo,
    CipherSuiteResult,
    EndpointFacts,
    Evidence,
    Finding,
    FindingStatus,
    ProtocolResult,
    ProtocolStatus,
    Readiness,
    RuntimeFacts,
    Severity,
    SubjectKind,
    TlsVersion,
)
from tlsaudit.report import build_report

WHEN = datetime(2026, 11, 26, 2, 0, 0, tzinfo=UTC)
HOSTILE_SUBJECT = (
    'CN=<script>document.title=\'pwned\';window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">'
)
HOSTILE_TEXT = (
    '=HYPERLINK("http://evil") | `code` [link](javascript:alert(1)) <b>bold</b>\x1b[31mred\x07\nnext'
)

ENDPOINT_FIX = (
    "Disable TLS 1.0 and TLS 1.1 in the server configuration (nginx: ssl_protocols TLSv1.2 TLSv1.3;)."
)
RUNTIME_FIX = "Upgrade the runtime or set the minimum protocol to TLS 1.2."

A = ProtocolStatus.ACCEPTED
R = ProtocolStatus.REJECTED
U = ProtocolStatus.UNKNOWN


def protocols(*statuses: ProtocolStatus) -> dict[TlsVersion, ProtocolResult]:
    reasons = {A: "", R: "alert handshake_failure", U: "timeout after 5 s"}
    return {v: ProtocolResult(status=s, reason=reasons[s]) for v, s in zip(TlsVersion, statuses, strict=True)}


def endpoint(
    host: str,
    ip: str,
    statuses: tuple[ProtocolStatus, ...],
    *,
    port: int = 443,
    subject: str | None = None,
    errors: tuple[str, ...] = (),
) -> EndpointFacts:
    cert = CertificateInfo(
        subject=subject or f"CN={host}",
        issuer="CN=Example Issuing CA 1,O=Example Trust",
        san=(host, f"www.{host}"),
        serial="0a1b2c",
        not_before="2026-01-01T00:00:00Z",
        not_after="2027-01-01T00:00:00Z",
        days_left=36,
        key_type="RSA",
        key_bits=2048,
        signature_algorithm="sha256WithRSAEncryption",
        signature_hash="sha256",
        trusted=True,
        hostname_match=True,
        chain_complete=True,
        sha256_fingerprint="ab" * 32,
    )
    suites = (
        CipherSuiteResult(
            version=TlsVersion.TLSv1_2,
            accepted=("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
            server_preference=True,
            classes=("aead", "cbc"),
        ),
    )
    return EndpointFacts(
        target=f"{host}:{port}" if port != 443 else host,
        host=host,
        port=port,
        ip=ip,
        sni=host,
        protocols=protocols(*statuses),
        certificate=cert,
        cipher_suites=suites,
        errors=errors,
        elapsed_ms=812,
    )


def finding(
    rule_id: str,
    status: FindingStatus,
    severity: Severity,
    subject: str,
    kind: SubjectKind = SubjectKind.ENDPOINT,
    *,
    title: str | None = None,
    message: str | None = None,
    readiness: Readiness | None = None,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        status=status,
        severity=severity,
        subject=subject,
        subject_kind=kind,
        title=title or rule_id.rsplit(".", 1)[-1].replace("-", " ").capitalize(),
        message=message or f"{subject}: {rule_id} {status.value}",
        remediation=ENDPOINT_FIX if rule_id.startswith("endpoint.") else RUNTIME_FIX,
        references=("RFC 8996", "https://datatracker.ietf.org/doc/html/rfc8996"),
        readiness=readiness,
    )


def endpoint_findings(ep: EndpointFacts) -> list[Finding]:
    out = []
    for version, rule in (
        (TlsVersion.TLSv1_0, "endpoint.tls10-accepted"),
        (TlsVersion.TLSv1_1, "endpoint.tls11-accepted"),
    ):
        status = ep.protocols[version].status
        verdict = {A: FindingStatus.FAIL, R: FindingStatus.PASS, U: FindingStatus.ERROR}[status]
        out.append(
            finding(
                rule,
                verdict,
                Severity.HIGH,
                ep.subject,
                title=f"{version.value} accepted",
                message=f"{ep.subject} answers {version.value}: {status.value}.",
            )
        )
    modern = {ep.protocols[TlsVersion.TLSv1_2].status, ep.protocols[TlsVersion.TLSv1_3].status}
    no_modern = (
        FindingStatus.PASS if A in modern else FindingStatus.ERROR if U in modern else FindingStatus.FAIL
    )
    out.append(
        finding(
            "endpoint.no-modern-tls",
            no_modern,
            Severity.CRITICAL,
            ep.subject,
            title="Neither TLS 1.2 nor TLS 1.3 accepted",
        )
    )
    out.append(
        finding(
            "certificate.expires-soon",
            FindingStatus.WARN,
            Severity.MEDIUM,
            ep.subject,
            title="Certificate expires within 60 days",
            message=f"The certificate of {ep.subject} expires in 36 days.",
        )
    )
    return out


def runtimes() -> list[RuntimeFacts]:
    java = RuntimeFacts(
        kind="java",
        path="/usr/lib/jvm/java-8-openjdk/bin/java",
        version="1.8.0_292",
        details={"jdk.tls.client.protocols": "TLSv1.2", "default_protocols": ("TLSv1.2", "TLSv1.3")},
        evidence=(
            Evidence(
                argv=("/usr/lib/jvm/java-8-openjdk/bin/java", "-version"),
                exit_code=0,
                stderr='openjdk version "1.8.0_292"\nOpenJDK Runtime Environment (build 1.8.0_292-b10)',
            ),
        ),
    )
    php = RuntimeFacts(
        kind="php",
        path="/usr/bin/php5.6",
        version="5.6.40",
        details={"curl_version": "7.38.0", "ssl_version": "OpenSSL/1.0.1t"},
        evidence=(
            Evidence(
                argv=("/usr/bin/php5.6", "-r", "echo curl_version()['ssl_version'];"),
                exit_code=0,
                stdout="OpenSSL/1.0.1t",
            ),
        ),
    )
    return [java, php]


def runtime_findings(rts: list[RuntimeFacts]) -> list[Finding]:
    java, php = rts
    return [
        finding(
            "runtime.java.client-default-tls10",
            FindingStatus.PASS,
            Severity.HIGH,
            java.subject,
            SubjectKind.RUNTIME,
            title="Java client defaults to TLS 1.0",
        ),
        finding(
            "runtime.php.openssl-too-old",
            FindingStatus.FAIL,
            Severity.HIGH,
            php.subject,
            SubjectKind.RUNTIME,
            title="PHP cURL built against OpenSSL older than 1.0.1",
            readiness=Readiness.NEEDS_UPGRADE,
        ),
    ]


def sample_report(
    *, source_host: str | None = "build-01", scope: dict[str, str] | None = None
) -> dict[str, Any]:
    """Two names: one on two addresses that disagree on TLS 1.0, one fully compliant; two runtimes."""
    eps = [
        endpoint("shop.example.com", "192.0.2.10", (R, R, A, A, A, A)),
        endpoint("shop.example.com", "2001:db8::10", (R, R, R, A, A, A)),
        endpoint("api.example.com", "192.0.2.20", (R, R, R, R, A, A)),
        endpoint(
            "legacy.example.com", "192.0.2.30", (U, U, U, U, U, U), errors=("connect timeout after 5 s",)
        ),
    ]
    rts = runtimes()
    findings = [f for ep in eps for f in endpoint_findings(ep)] + runtime_findings(rts)
    capture = CaptureFacts(
        client="curl 7.88.1",
        runtime="curl",
        legacy_version="TLSv1.2",
        versions_offered=("TLSv1.2", "TLSv1.3"),
        cipher_suites=("TLS_AES_128_GCM_SHA256",),
        negotiated_version="TLSv1.3",
        outcome="handshake completed",
    )
    return dict(
        build_report(
            policy_id="sage-intacct-2018",
            policy_title="Sage Intacct: TLS 1.2 or later (2018)",
            endpoints=eps,
            runtimes=rts,
            captures=[capture],
            findings=findings,
            readiness={rts[0].subject: Readiness.READY, rts[1].subject: Readiness.NEEDS_UPGRADE},
            scope=scope
            if scope is not None
            else {"title": "TLS readiness review", "client": "Example Corp", "assessor": "A. Auditor"},
            generated_at=WHEN,
            source_host=source_host,
        )
    )


def hostile_report() -> dict[str, Any]:
    """Attacker-controlled text everywhere a server or a path can put it."""
    ep = endpoint(
        "evil.example", "192.0.2.66", (R, R, A, R, A, A), subject=HOSTILE_SUBJECT, errors=(HOSTILE_TEXT,)
    )
    rt = RuntimeFacts(
        kind="php",
        path="/opt/<script>window.__pwned=3</script>/php",
        version="7.4<img src=x onerror=window.__pwned=4>",
        evidence=(Evidence(argv=("php", "-v"), exit_code=0, stdout=HOSTILE_SUBJECT, stderr=HOSTILE_TEXT),),
    )
    findings = [
        finding(
            "endpoint.tls10-accepted",
            FindingStatus.FAIL,
            Severity.HIGH,
            ep.subject,
            title="TLS 1.0 accepted",
            message=f"Server banner: {HOSTILE_SUBJECT} {HOSTILE_TEXT}",
        ),
        finding(
            "runtime.php.banner",
            FindingStatus.WARN,
            Severity.LOW,
            rt.subject,
            SubjectKind.RUNTIME,
            message=HOSTILE_TEXT,
        ),
    ]
    return dict(
        build_report(
            policy_id="default",
            policy_title="Default <b>policy</b>",
            endpoints=[ep],
            runtimes=[rt],
            captures=[],
            findings=findings,
            readiness={rt.subject: Readiness.UNKNOWN},
            scope={"client": "Client <script>window.__pwned=5</script>"},
            generated_at=WHEN,
            source_host="scanner",
        )
    )


def big_report(count: int = 1000) -> dict[str, Any]:
    """`count` endpoints on `count` names, a third of them accepting TLS 1.0."""
    eps = []
    for i in range(count):
        statuses = (R, R, A if i % 3 == 0 else R, A if i % 5 == 0 else R, A, A if i % 2 else R)
        eps.append(
            endpoint(
                f"host{i:04d}.branch{i % 17}.example.net",
                f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                statuses,
            )
        )
    findings = [f for ep in eps for f in endpoint_findings(ep)]
    return dict(
        build_report(
            policy_id="pci-dss-3.2",
            policy_title="PCI DSS 3.2: no SSL or early TLS",
            endpoints=eps,
            runtimes=[],
            captures=[],
            findings=findings,
            readiness={},
            scope={"title": "Estate-wide TLS review", "client": "Big Fleet Ltd"},
            generated_at=WHEN,
        )
    )
