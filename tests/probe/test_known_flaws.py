"""Heartbleed, CCS injection and ROBOT: real non-vulnerable stacks (OpenSSL 3 `s_server`, tlslite-ng,
OpenSSL 1.0.2 from nassl) come out not vulnerable; the scripted vulnerable peers of
`tests/support/flaw_peers.py` come out vulnerable, after an independent raw client has shown that each
one really behaves so (the ROBOT peer's answers follow its own PKCS#1 check of real RSA decryptions)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support import flaw_peers
from tests.support.flaw_peers import (
    SECRET,
    Peer,
    heartbleed_peer,
    pkcs1_verdict,
    private_key,
    rsa_decrypt_raw,
)
from tests.support.legacy_openssl import legacy_handshake, legacy_openssl_server
from tests.support.scan_cli import scan_cli
from tests.support.tls_servers import openssl_s_server, python_tls_server, tlslite_server
from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.models import (
    EndpointFacts,
    FindingStatus,
    FlawCheck,
    FlawStatus,
    KnownFlaws,
    Target,
    TlsVersion,
)
from tlsaudit.probe.depth import cipher_suite_enricher
from tlsaudit.probe.known_flaws import known_flaws_enricher
from tlsaudit.probe.scanner import Scanner, ScanOptions
from tlsaudit.tls.client_hello import build_client_hello
from tlsaudit.tls.constants import ContentType
from tlsaudit.tls.rsa_key_exchange import Padding, encrypt_raw, key_exchange_flight, padded_premaster
from tlsaudit.tls.server_flight import Alert, CertificateChain, Event, ServerFlightParser, ServerHelloDone
from tlsaudit.tls.wire import encode_records, u8, u16

OPTIONS = ScanOptions(timeout=5.0, retries=1)
RULES = ("endpoint.heartbleed", "endpoint.ccs-injection", "endpoint.robot")


def scan(port: int, *, flaws: bool = True) -> EndpointFacts:
    target = Target(raw=f"127.0.0.1:{port}", host="127.0.0.1", port=port)
    enrichers = [cipher_suite_enricher(timeout=5.0)] + ([known_flaws_enricher()] if flaws else [])
    (facts,) = asyncio.run(Scanner(OPTIONS, enrichers=enrichers).scan([target]))
    return facts


def flaws_of(facts: EndpointFacts) -> KnownFlaws:
    assert facts.known_flaws is not None, facts.errors
    return facts.known_flaws


def statuses(facts: EndpointFacts, policy: str = "pci-dss-4.0.1") -> dict[str, FindingStatus]:
    found = evaluate(load_ruleset(policy), endpoints=[facts]).findings
    return {f.rule_id: f.status for f in found if f.rule_id in RULES}


def s_client(port: int, *args: str) -> str:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl not found: install the Debian package 'openssl'"
    done = subprocess.run(
        [openssl, "s_client", "-connect", f"127.0.0.1:{port}", *args],
        input=b"",
        capture_output=True,
        timeout=20,
        check=False,
    )
    return done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")


# ------------------------------------------------------------------ an independent raw client


class RawClient:
    """A blocking socket client for cross-checks: a TLS 1.2 hello, the server's first flight, then what
    the test sends; reads at most 64 KB."""

    def __init__(
        self,
        port: int,
        *,
        extensions: tuple[tuple[int, bytes], ...] = (),
        suites: tuple[int, ...] = (0x002F,),
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.parser = ServerFlightParser()
        self.events: list[Event] = []
        hello = build_client_hello(TlsVersion.TLSv1_2, cipher_suites=suites, extra_extensions=extensions)
        self.sock.sendall(hello)
        self.raw = bytearray()
        while not any(isinstance(e, ServerHelloDone) for e in self.events):
            data = self.sock.recv(65536)
            assert data, "closed before ServerHelloDone"
            self.events += self.parser.feed(data)

    def send_and_read(self, data: bytes) -> bytes:
        self.sock.sendall(data)
        out = bytearray()
        try:
            while len(out) < 65536:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
        self.sock.close()
        return bytes(out)

    def certificate(self) -> bytes:
        chain = next(e for e in self.events if isinstance(e, CertificateChain))
        return chain.der_certs[0]


def first_alert(data: bytes) -> int | None:
    parsed = ServerFlightParser().feed(data)  # alerts parse anywhere
    alert = next((e for e in parsed if isinstance(e, Alert)), None)
    return alert.description if alert else None


# ------------------------------------------------------------------ real stacks: not vulnerable


def test_openssl3_is_not_vulnerable() -> None:
    with openssl_s_server(["-cipher", "ALL:@SECLEVEL=0"]) as srv:
        facts = scan(srv.port)
        rsa_kex = s_client(srv.port, "-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0")
        early_ccs = RawClient(srv.port).send_and_read(
            encode_records(ContentType.change_cipher_spec, 0x0303, b"\x01")
        )
    found = flaws_of(facts)
    assert "Cipher is AES128-SHA" in rsa_kex  # RSA key exchange is accepted: ROBOT applies
    assert found.heartbleed == FlawCheck(
        status=FlawStatus.NOT_VULNERABLE,
        reason="TLSv1.2: the server does not negotiate the heartbeat extension",
        connections=1,
    )
    assert found.ccs_injection is not None and found.ccs_injection.status == FlawStatus.NOT_VULNERABLE
    assert "unexpected_message" in found.ccs_injection.reason
    assert first_alert(early_ccs) == 10  # the independent client sees the same refusal
    assert found.robot is not None and found.robot.status == FlawStatus.NOT_VULNERABLE, found.robot
    assert found.robot.connections == len(Padding)  # one round: no second one without a difference
    assert set(statuses(facts).values()) == {FindingStatus.PASS}


def test_openssl3_without_rsa_key_exchange_robot_does_not_apply() -> None:
    with openssl_s_server(["-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-no_tls1_3"]) as srv:
        facts = scan(srv.port)
        refused = s_client(srv.port, "-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0")
    assert "Cipher is AES128-SHA" not in refused
    robot = flaws_of(facts).robot
    assert robot is not None and robot.status == FlawStatus.NOT_APPLICABLE, robot
    assert robot.connections == 0  # the enumeration found no RSA suite: nothing sent
    assert statuses(facts)["endpoint.robot"] == FindingStatus.PASS


def test_tlslite_is_not_vulnerable_and_answers_well_formed_heartbeats() -> None:
    with tlslite_server([TlsVersion.TLSv1_2]) as srv:
        facts = scan(srv.port)
        echo = RawClient(srv.port, extensions=((15, b"\x01"),), suites=(0x002F, 0x009C))
        reply = echo.send_and_read(encode_records(24, 0x0303, u8(1) + u16(4) + b"ping" + bytes(16)))
    found = flaws_of(facts)
    assert found.heartbleed is not None and found.heartbleed.status == FlawStatus.NOT_VULNERABLE
    assert "discarded" in found.heartbleed.reason
    assert reply[:1] == b"\x18" and b"ping" in reply  # tlslite echoes a well-formed request
    for check in (found.ccs_injection, found.robot):
        assert check is not None and check.status == FlawStatus.NOT_VULNERABLE, check


def test_tls13_only_has_none_of_these_flaws() -> None:
    with python_tls_server([TlsVersion.TLSv1_3]) as srv:
        facts = scan(srv.port)
    found = flaws_of(facts)
    for check in (found.heartbleed, found.ccs_injection, found.robot):
        assert check == FlawCheck(
            status=FlawStatus.NOT_APPLICABLE, reason="no version below TLS 1.3 accepted"
        )
    assert set(statuses(facts).values()) == {FindingStatus.PASS}  # nothing to fault


@pytest.mark.slow
def test_openssl_102_from_nassl_is_not_vulnerable() -> None:
    versions = [TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2]
    with legacy_openssl_server(versions) as srv:
        facts = scan(srv.port)
        handshake = legacy_handshake(srv, TlsVersion.TLSv1_2)
    assert handshake.version == TlsVersion.TLSv1_2, handshake.error  # nassl's own client connects
    found = flaws_of(facts)
    assert found.heartbleed is not None and found.heartbleed.status == FlawStatus.NOT_VULNERABLE
    assert "over-long heartbeat" in found.heartbleed.reason  # it negotiates heartbeats, then discards
    for check in (found.ccs_injection, found.robot):
        assert check is not None and check.status == FlawStatus.NOT_VULNERABLE, check
    assert set(statuses(facts).values()) == {FindingStatus.PASS}


# ------------------------------------------------------------------ scripted vulnerable peers


def test_heartbleed_peer_leaks_and_is_found_without_the_leak_reaching_the_report(tmp_path: Path) -> None:
    with heartbleed_peer() as peer:
        # Cross-check: an over-long request gets the bytes after it in the peer's buffer.
        raw = RawClient(peer.port, extensions=((15, b"\x01"),))
        leak = raw.send_and_read(encode_records(24, 0x0303, u8(1) + u16(200) + b"x"))
        facts = scan(peer.port)
        run = scan_cli(peer.address.target, "--timeout", "5", "--policy", "pci-dss-4.0.1")
        outputs = _render(peer, tmp_path)
    assert SECRET in leak
    hb = flaws_of(facts).heartbleed
    assert hb is not None and hb.status == FlawStatus.VULNERABLE and hb.connections == 1, hb
    assert statuses(facts)["endpoint.heartbleed"] == FindingStatus.FAIL
    text = json.dumps(run.report)
    assert SECRET.decode() not in text and "scripted-peer-secret" not in text
    assert run.endpoint["known_flaws"]["heartbleed"]["status"] == "vulnerable", run.describe()
    (finding,) = run.findings("endpoint.heartbleed")
    assert finding["status"] == "fail" and "CVE-2014-0160" in finding["message"]
    for fmt, shown in outputs.items():
        assert "scripted-peer-secret" not in shown, fmt
        assert "Heartbleed" in shown, fmt


def _render(peer: Peer, folder: Path) -> dict[str, str]:
    """Every format of one scan of `peer` (only the flaw checks besides the version sweep)."""
    files = [folder / f"report.{ext}" for ext in ("txt", "html", "md", "csv", "sarif", "xml", "json")]
    argv = [sys.executable, "-m", "tlsaudit", "scan", peer.address.target, "-q", "--timeout", "5"]
    argv += ["--no-ciphers", "--no-certificates", "--no-hsts", "--no-key-exchange", "--no-handshake-checks"]
    for file in files:
        argv += ["-o", str(file)]
    subprocess.run(argv, capture_output=True, text=True, timeout=110, check=False)
    return {file.suffix: file.read_text() for file in files}


def test_patched_heartbeat_peer_is_not_vulnerable() -> None:
    with heartbleed_peer(vulnerable=False) as peer:
        facts = scan(peer.port)
    hb = flaws_of(facts).heartbleed
    assert hb is not None and hb.status == FlawStatus.NOT_VULNERABLE, hb


def test_ccs_injection_peer() -> None:
    with flaw_peers.ccs_peer() as peer:
        answer = RawClient(peer.port).send_and_read(
            encode_records(20, 0x0303, b"\x01") + encode_records(22, 0x0303, os.urandom(48))
        )
        facts = scan(peer.port)
    assert first_alert(answer) == 20  # the peer took the early CCS: the next record did not decrypt
    ccs = flaws_of(facts).ccs_injection
    assert ccs is not None and ccs.status == FlawStatus.VULNERABLE and ccs.connections == 1, ccs
    assert statuses(facts)["endpoint.ccs-injection"] == FindingStatus.FAIL
    with flaw_peers.ccs_peer(vulnerable=False) as patched:
        fixed = flaws_of(scan(patched.port)).ccs_injection
    assert fixed is not None and fixed.status == FlawStatus.NOT_VULNERABLE, fixed


def _oracle_answer(peer: Peer, ciphertext: bytes) -> int | None:
    raw = RawClient(peer.port)
    return first_alert(raw.send_and_read(key_exchange_flight(ciphertext, 0x0303, bytes(48))))


def test_robot_peer_is_a_real_oracle_and_is_found() -> None:
    with flaw_peers.robot_peer() as peer:
        key = private_key(peer.cert)
        public = key.public_key()
        size = (public.key_size + 7) // 8
        # Cross-check, Bleichenbacher's way: multiply a conforming ciphertext by s^e; whether the
        # plaintext m*s conforms is computed here with the private key, and the peer's alerts follow it.
        conforming = encrypt_raw(
            public, b"\x00\x02" + bytes(range(1, 256))[: size - 51] + b"\x00" + os.urandom(48)
        )
        n, e = public.public_numbers().n, public.public_numbers().e
        expected = {"ok": 20, "bad-padding": 51, "bad-length": 50}
        for s in (1, 2, 3, 12345):
            c = (int.from_bytes(conforming, "big") * pow(s, e, n) % n).to_bytes(size, "big")
            verdict = pkcs1_verdict(rsa_decrypt_raw(key, c))
            assert _oracle_answer(peer, c) == expected[verdict], (s, verdict)
        peer.verdicts.clear()
        before = peer.connections
        facts = scan(peer.port)
        decrypted = list(peer.verdicts)
    robot = flaws_of(facts).robot
    assert robot is not None and robot.status == FlawStatus.VULNERABLE, robot
    assert "strong padding oracle" in robot.reason and robot.connections == 2 * len(Padding)
    # The peer decrypted the ten premaster secrets itself: the five variants, twice.
    assert Counter(decrypted) == Counter({"ok": 4, "bad-padding": 4, "bad-length": 2})
    assert peer.connections > before
    assert statuses(facts)["endpoint.robot"] == FindingStatus.FAIL
    assert "alert decrypt_error" in robot.reason and "alert bad_record_mac" in robot.reason


def test_robot_countermeasure_is_not_vulnerable() -> None:
    with flaw_peers.robot_peer(vulnerable=False) as peer:
        facts = scan(peer.port)
        decrypted = list(peer.verdicts)
    robot = flaws_of(facts).robot
    assert robot is not None and robot.status == FlawStatus.NOT_VULNERABLE, robot
    assert Counter(decrypted) == Counter({"ok": 2, "bad-padding": 2, "bad-length": 1})


def test_the_padding_variants_are_what_they_say() -> None:
    with flaw_peers.robot_peer() as peer:
        key = private_key(peer.cert)
    public = key.public_key()
    size = (public.key_size + 7) // 8
    seen = {
        v: pkcs1_verdict(rsa_decrypt_raw(key, encrypt_raw(public, padded_premaster(v, size, 0x0303))))
        for v in Padding
    }
    assert seen == {
        Padding.CORRECT: "ok",
        Padding.WRONG_FIRST_BYTES: "bad-padding",
        Padding.ZERO_MISPLACED: "bad-length",
        Padding.NO_ZERO: "bad-padding",
        Padding.WRONG_VERSION: "ok",
    }
    wrong_version = rsa_decrypt_raw(
        key, encrypt_raw(public, padded_premaster(Padding.WRONG_VERSION, size, 0x0303))
    )
    assert wrong_version[-48:-46] == b"\x02\x02"


# ------------------------------------------------------------------ switched off, undecided


def test_switched_off_or_undecided_is_not_assessed() -> None:
    with openssl_s_server(["-cipher", "ALL:@SECLEVEL=0"]) as srv:
        facts = scan(srv.port, flaws=False)
        run = scan_cli(
            f"127.0.0.1:{srv.port}", "--timeout", "5", "--no-flaw-checks", "--policy", "pci-dss-4.0.1"
        )
    assert facts.known_flaws is None
    assert set(statuses(facts).values()) == {FindingStatus.ERROR}
    assert "known_flaws" not in run.endpoint
    assert {
        f["rule_id"]: f["status"] for f in run.findings("endpoint.") if f["rule_id"] in RULES
    } == dict.fromkeys(RULES, "error")
    undecided = FlawCheck(status=FlawStatus.UNKNOWN, reason="the answers changed between two rounds")
    unknown = dataclasses.replace(facts, known_flaws=KnownFlaws(robot=undecided))
    assert statuses(unknown)["endpoint.robot"] == FindingStatus.ERROR


def test_policies_cite_the_flaw_and_key_exchange_rules() -> None:
    pci = load_ruleset("pci-dss-4.0.1").policy.citations
    nist = load_ruleset("nist-800-52r2").policy.citations
    for rule in RULES:
        assert "6.3" in pci[rule] and "11.3" in pci[rule], rule
    for rule in ("endpoint.dh-under-2048", "endpoint.dh-logjam", "endpoint.kex-small-curve"):
        assert "4.2.1" in pci[rule] and "800-52r2 3.3.1" in nist[rule], rule
    assert "2048" in nist["endpoint.dh-under-2048"]


def test_a_server_that_leaves_tls_after_the_key_exchange_is_not_vulnerable() -> None:
    """A daemon that answers a failed handshake in plain text (vsftpd's `500 OOPS`) never decrypted with
    wrong keys and gave every ROBOT variant the same answer: not vulnerable, never left unknown."""
    with flaw_peers.plaintext_abort_peer() as peer:
        answer = RawClient(peer.port).send_and_read(
            encode_records(20, 0x0303, b"\x01") + encode_records(22, 0x0303, os.urandom(48))
        )
        facts = scan(peer.port)
    assert flaw_peers.PLAINTEXT_ABORT in answer and first_alert(answer) is None
    flaws = flaws_of(facts)
    assert flaws.ccs_injection is not None and flaws.ccs_injection.status == FlawStatus.NOT_VULNERABLE
    assert "left TLS" in flaws.ccs_injection.reason
    assert flaws.robot is not None and flaws.robot.status == FlawStatus.NOT_VULNERABLE, flaws.robot
    assert statuses(facts)["endpoint.ccs-injection"] == FindingStatus.PASS
    assert statuses(facts)["endpoint.robot"] == FindingStatus.PASS
