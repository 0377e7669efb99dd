"""OCSP stapling, revocation pointers, certificate lifetime and HSTS against real servers (`openssl
s_server -status_file` with responses from `openssl ocsp`, nginx with `add_header`, Python `ssl` servers),
each cross-checked with an independent client (`openssl s_client -status`, curl, Python `http.client`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http.client
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.probe.pki import NOW, make_pki
from tests.probe.revocation_pki import make_revocable_leaf, ocsp_response, server_files
from tests.support.acceptor import ServerAddress, recv_some, serve
from tests.support.certs import make_cert
from tests.support.nginx import NginxServerBlock, nginx_server
from tests.support.tls_servers import openssl_s_server
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.models import EndpointFacts, FindingStatus, Hsts, HttpOutcome, Target, TlsVersion
from tlsaudit.probe.certificates import TrustAnchors, load_trust_anchors
from tlsaudit.probe.depth import certificate_enricher
from tlsaudit.probe.hsts import parse_hsts
from tlsaudit.probe.scanner import Enricher, Scanner, ScanOptions
from tlsaudit.probe.session_checks import session_check_enricher

OPTIONS = ScanOptions(timeout=5.0, retries=0, versions=(TlsVersion.TLSv1_2, TlsVersion.TLSv1_3))


def scan(port: int, enrichers: Sequence[Enricher], *, starttls: str | None = None) -> EndpointFacts:
    target = Target(raw=f"127.0.0.1:{port}", host="127.0.0.1", port=port, sni="localhost", starttls=starttls)
    (facts,) = asyncio.run(Scanner(OPTIONS, enrichers=enrichers).scan([target]))
    return facts


def statuses(facts: EndpointFacts, policy: str) -> dict[str, FindingStatus]:
    return {f.rule_id: f.status for f in evaluate(load_ruleset(policy), endpoints=[facts]).findings}


# ------------------------------------------------------------------ HSTS


@contextlib.contextmanager
def https_server(headers: Sequence[str], *, banner: bytes | None = None) -> Iterator[ServerAddress]:
    """A Python `ssl` server answering every request with 200 and `headers`; with `banner`, a non-HTTP
    service that greets first (as IMAPS does) and answers nothing else."""
    files = make_cert()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.chain, files.key)
    head = "".join(f"{h}\r\n" for h in headers)
    answer = f"HTTP/1.1 200 OK\r\n{head}Content-Length: 3\r\nConnection: close\r\n\r\nok\n".encode()

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with context.wrap_socket(conn, server_side=True) as tls:
            if banner is not None:
                tls.sendall(banner)
                recv_some(tls)
                return
            if recv_some(tls) and not stop.is_set():
                tls.sendall(answer)

    with serve(handle) as address:
        yield address


def python_client_header(port: int, name: str) -> str | None:
    """The independent client: http.client over Python ssl."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().getheader(name)
    finally:
        conn.close()


HSTS_CASES = [
    (
        "max-age=63072000; includeSubDomains; preload",
        Hsts(max_age=63072000, include_subdomains=True, preload=True),
    ),
    ('max-age="31536000"', Hsts(max_age=31536000)),
    ("max-age=300", Hsts(max_age=300)),
]


@pytest.mark.parametrize(("header", "expected"), HSTS_CASES)
def test_hsts_header_read_like_a_browser(header: str, expected: Hsts) -> None:
    with https_server([f"Strict-Transport-Security: {header}"]) as server:
        facts = scan(server.port, [session_check_enricher(ocsp=False)])
        seen = python_client_header(server.port, "Strict-Transport-Security")
    assert facts.http is not None and facts.http.outcome == HttpOutcome.ANSWERED and facts.http.status == 200
    assert facts.hsts == expected
    assert seen is not None and parse_hsts(seen) == expected
    found = statuses(facts, "mozilla-intermediate")
    assert found["endpoint.hsts-missing"] == FindingStatus.PASS
    short = expected.max_age < 31536000
    assert found["endpoint.hsts-short-max-age"] == (FindingStatus.WARN if short else FindingStatus.PASS)
    # A missing preload is information, never a warning.
    assert found["endpoint.hsts-no-preload"] == FindingStatus.PASS


def test_no_hsts_header_is_flagged_by_the_mozilla_policies_only() -> None:
    with https_server(["Content-Type: text/plain"]) as server:
        facts = scan(server.port, [session_check_enricher(ocsp=False)])
        seen = python_client_header(server.port, "Strict-Transport-Security")
    assert seen is None
    assert facts.http is not None and facts.http.outcome == HttpOutcome.ANSWERED and facts.hsts is None
    for policy in ("mozilla-intermediate", "mozilla-modern"):
        found = statuses(facts, policy)
        assert found["endpoint.hsts-missing"] == FindingStatus.WARN
        assert found["endpoint.hsts-short-max-age"] == FindingStatus.SKIPPED
    assert "endpoint.hsts-missing" not in statuses(facts, "pci-dss-4.0.1")


def test_a_service_that_is_not_http_is_skipped_and_a_switched_off_check_is_an_error() -> None:
    with https_server([], banner=b"* OK IMAP4rev1 ready\r\n") as server:
        imaps = scan(server.port, [session_check_enricher(ocsp=False)])
        off = scan(server.port, [session_check_enricher(http=False, ocsp=False)])
    assert imaps.http is not None and imaps.http.outcome == HttpOutcome.NOT_HTTP, imaps.http
    assert statuses(imaps, "mozilla-intermediate")["endpoint.hsts-missing"] == FindingStatus.SKIPPED
    assert off.http is None
    assert statuses(off, "mozilla-intermediate")["endpoint.hsts-missing"] == FindingStatus.ERROR


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed (make system-deps)")
def test_nginx_add_header_cross_checked_with_curl() -> None:
    curl = shutil.which("curl")
    assert curl is not None, "curl not installed (make system-deps)"
    block = NginxServerBlock(
        extra=('add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',)
    )
    with nginx_server([block, NginxServerBlock()]) as servers:
        with_hsts, without = servers.addresses
        facts = scan(with_hsts.port, [session_check_enricher(ocsp=False)])
        bare = scan(without.port, [session_check_enricher(ocsp=False)])
        shown = subprocess.run(
            [curl, "-sk", "-D", "-", "-o", "/dev/null", f"https://127.0.0.1:{with_hsts.port}/"],
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    header = next(line for line in shown.splitlines() if line.lower().startswith("strict-transport-security"))
    assert (
        parse_hsts(header.split(":", 1)[1]) == facts.hsts == Hsts(max_age=63072000, include_subdomains=True)
    )
    assert bare.hsts is None and bare.http is not None and bare.http.status == 200


# ------------------------------------------------------------------ OCSP stapling and revocation


def s_client_status(port: int, root: Path) -> str:
    openssl = shutil.which("openssl")
    assert openssl is not None
    return subprocess.run(
        [openssl, "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", "-status",
         "-CAfile", str(root)],
        input="", capture_output=True, text=True, timeout=15, check=False,
    ).stdout  # fmt: skip


def cert_and_session(anchors: TrustAnchors, now: dt.datetime | None = None) -> list[Enricher]:
    clock = (lambda: now) if now else None
    return [
        certificate_enricher(anchors, timeout=5.0, clock=clock),
        session_check_enricher(http=False, clock=clock),
    ]


def test_stapled_good_response_is_valid_and_stale_or_revoked_ones_are_not(tmp_path: Path) -> None:
    pki = make_pki()
    leaf = make_revocable_leaf(pki.intermediate)
    files = server_files(tmp_path, pki, leaf)
    good = ocsp_response(tmp_path, pki, leaf)
    revoked = ocsp_response(tmp_path, pki, leaf, revoked=True)
    anchors = load_trust_anchors(str(files.root), use_system=False)
    base = ["-cert", str(files.leaf), "-key", str(files.key), "-cert_chain", str(files.intermediate)]
    with openssl_s_server([*base, "-status_file", str(good)]) as server:
        facts = scan(server.port, cert_and_session(anchors))
        later = scan(server.port, cert_and_session(anchors, NOW + dt.timedelta(days=5)))
        shown = s_client_status(server.port, files.root)
    assert "OCSP Response Status: successful" in shown and "Cert Status: good" in shown
    assert facts.ocsp_stapling is not None
    assert (facts.ocsp_stapling.stapled, facts.ocsp_stapling.valid) == (True, True), facts.ocsp_stapling
    assert facts.ocsp_stapling.cert_status == "good"
    assert later.ocsp_stapling is not None and later.ocsp_stapling.valid is False
    assert "stale" in later.ocsp_stapling.problem
    assert statuses(facts, "pci-dss-4.0.1")["endpoint.ocsp-stapled-invalid"] == FindingStatus.PASS
    assert statuses(later, "pci-dss-4.0.1")["endpoint.ocsp-stapled-invalid"] == FindingStatus.FAIL
    with openssl_s_server([*base, "-status_file", str(revoked)]) as server:
        bad = scan(server.port, cert_and_session(anchors))
        shown = s_client_status(server.port, files.root)
    assert "Cert Status: revoked" in shown
    assert bad.ocsp_stapling is not None and bad.ocsp_stapling.valid is False
    assert bad.ocsp_stapling.cert_status == "revoked"
    assert statuses(bad, "nist-800-52r2")["endpoint.ocsp-stapled-invalid"] == FindingStatus.FAIL


def test_nothing_stapled_and_must_staple(tmp_path: Path) -> None:
    pki = make_pki()
    leaf = make_revocable_leaf(pki.intermediate, crl=False, must_staple=True)
    files = server_files(tmp_path, pki, leaf)
    anchors = load_trust_anchors(str(files.root), use_system=False)
    base = ["-cert", str(files.leaf), "-key", str(files.key), "-cert_chain", str(files.intermediate)]
    with openssl_s_server(base) as server:
        facts = scan(server.port, cert_and_session(anchors))
        shown = s_client_status(server.port, files.root)
    assert "OCSP response: no response sent" in shown
    assert facts.ocsp_stapling is not None and facts.ocsp_stapling.stapled is False
    assert facts.certificate is not None and facts.certificate.must_staple is True
    assert facts.certificate.ocsp_urls and not facts.certificate.crl_urls
    found = statuses(facts, "mozilla-intermediate")
    assert found["endpoint.must-staple-not-stapled"] == FindingStatus.FAIL
    assert found["endpoint.ocsp-not-stapled"] == FindingStatus.WARN
    assert statuses(facts, "pci-dss-4.0.1")["endpoint.ocsp-stapled-invalid"] == FindingStatus.PASS


# ------------------------------------------------------------------ lifetime, revocation, public trust


def test_lifetime_and_revocation_judged_for_public_leaves_only(tmp_path: Path) -> None:
    pki = make_pki()
    # Issued after 2026-03-15 (SC-081's first step: 200 days at most); this one has 300 and no pointers.
    issued = NOW - dt.timedelta(days=2)
    assert issued >= dt.datetime(2026, 3, 15, tzinfo=dt.UTC) + dt.timedelta(
        days=10
    )  # the PKI's CAs are younger
    leaf = make_revocable_leaf(pki.intermediate, crl=False, ocsp=False, not_before=issued, days=300)
    files = server_files(tmp_path, pki, leaf)
    base = ["-cert", str(files.leaf), "-key", str(files.key), "-cert_chain", str(files.intermediate)]
    moment = NOW
    # The test root plays the system store (publicly trusted), then a --ca-file (a private CA).
    public = TrustAnchors(system=(pki.root.cert,))
    private = TrustAnchors(system=(), extra=(pki.root.cert,))
    with openssl_s_server(base) as server:
        as_public = scan(server.port, [certificate_enricher(public, timeout=5.0, clock=lambda: moment)])
        as_private = scan(server.port, [certificate_enricher(private, timeout=5.0, clock=lambda: moment)])
    assert as_public.certificate is not None and as_private.certificate is not None
    assert as_public.certificate.lifetime_days == as_private.certificate.lifetime_days == 300
    assert as_public.certificate.publicly_trusted is True
    assert as_private.certificate.publicly_trusted is None  # no system store at all: unknown
    public_found = statuses(as_public, "pci-dss-4.0.1")
    assert public_found["endpoint.cert-lifetime-over-cab-limit"] == FindingStatus.FAIL
    assert public_found["endpoint.cert-no-revocation"] == FindingStatus.FAIL
    private_found = statuses(as_private, "pci-dss-4.0.1")
    assert private_found["endpoint.cert-lifetime-over-cab-limit"] == FindingStatus.SKIPPED
    assert private_found["endpoint.cert-no-revocation"] == FindingStatus.SKIPPED
    # Mozilla's own lifespans: 366 days (intermediate) passes, 90 (modern) does not.
    assert (
        statuses(as_public, "mozilla-intermediate")["endpoint.cert-lifespan-over-mozilla"]
        == FindingStatus.PASS
    )
    assert statuses(as_public, "mozilla-modern")["endpoint.cert-lifespan-over-mozilla"] == FindingStatus.WARN


def test_private_ca_next_to_a_system_store_is_not_public(tmp_path: Path) -> None:
    pki = make_pki()
    leaf = make_revocable_leaf(pki.intermediate)
    files = server_files(tmp_path, pki, leaf)
    anchors = load_trust_anchors(str(files.root))  # the real system store plus --ca-file
    assert anchors.system, "no system trust store (install ca-certificates: make system-deps)"
    base = ["-cert", str(files.leaf), "-key", str(files.key), "-cert_chain", str(files.intermediate)]
    with openssl_s_server(base) as server:
        facts = scan(server.port, [certificate_enricher(anchors, timeout=5.0)])
    assert facts.certificate is not None
    assert facts.certificate.trusted is True and facts.certificate.publicly_trusted is False
    assert facts.certificate.crl_urls and facts.certificate.ocsp_urls


def test_starttls_endpoint_sends_no_http_request_and_hsts_does_not_apply() -> None:
    from tests.probe import daemons, pki

    if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
        pytest.fail("dovecot (apt: dovecot-imapd dovecot-pop3d) is not installed")
    leaf = pki.make_leaf(None)
    with daemons.dovecot_server(ssl=True, cert_pem=leaf.pem, key_pem=leaf.key_pem) as dc:
        facts = scan(dc.imap, [session_check_enricher()], starttls="imap")
    assert facts.http is None and facts.hsts is None
    assert facts.ocsp_stapling is not None and facts.ocsp_stapling.stapled is False
    assert statuses(facts, "mozilla-intermediate")["endpoint.hsts-missing"] == FindingStatus.SKIPPED


@contextlib.contextmanager
def raw_https_server(answer: bytes | None) -> Iterator[ServerAddress]:
    """A Python `ssl` server that completes the handshake, then sends `answer` (None: nothing at all)."""
    files = make_cert()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.chain, files.key)

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with context.wrap_socket(conn, server_side=True) as tls:
            recv_some(tls)
            if answer is not None:
                tls.sendall(answer)
            stop.wait(3)

    with serve(handle) as address:
        yield address


def test_http_answer_is_bounded_and_a_silent_server_is_not_assessed() -> None:
    endless = (
        b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=31536000\r\n" + b"X-Pad: " + b"a" * 40000
    )
    with raw_https_server(endless) as server:
        facts = scan(server.port, [session_check_enricher(ocsp=False)])
    assert facts.http is not None and facts.http.outcome == HttpOutcome.ANSWERED
    assert facts.hsts == Hsts(max_age=31536000)
    quick = ScanOptions(timeout=1.0, retries=0, versions=(TlsVersion.TLSv1_2, TlsVersion.TLSv1_3))
    with raw_https_server(None) as server:
        target = Target(raw=f"127.0.0.1:{server.port}", host="127.0.0.1", port=server.port)
        (silent,) = asyncio.run(Scanner(quick, enrichers=[session_check_enricher(ocsp=False)]).scan([target]))
    assert silent.http is not None and silent.http.outcome == HttpOutcome.FAILED
    assert "timeout" in silent.http.detail
    assert statuses(silent, "mozilla-intermediate")["endpoint.hsts-missing"] == FindingStatus.ERROR
