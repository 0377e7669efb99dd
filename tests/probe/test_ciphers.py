"""Cipher suite enumeration: the algorithm on its own, then against real servers configured with
known suite lists (openssl s_server, nginx, tlslite-ng)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Sequence

import pytest

from tests.probe.suite_servers import tlslite_suite_server
from tests.support.go_server import go_tls_server
from tests.support.nginx import NginxServerBlock, nginx_server
from tests.support.tls_servers import openssl_s_server
from tlsaudit.errors import ProbeError
from tlsaudit.models import TlsVersion
from tlsaudit.probe.ciphers import enumerate_cipher_suites, enumerate_suites
from tlsaudit.probe.transport import standalone_prober
from tlsaudit.tls.constants import suite_by_name, suites_for_version

# ------------------------------------------------------------------ the algorithm


class SimulatedServer:
    """Picks from what it is offered: by its own order, or by the client's."""

    def __init__(self, accepts: Sequence[int], *, server_order: bool, fail_after: int | None = None) -> None:
        self.accepts = list(accepts)
        self.server_order = server_order
        self.hellos: list[list[int]] = []
        self.fail_after = fail_after

    async def __call__(self, offered: Sequence[int]) -> int | None:
        self.hellos.append(list(offered))
        if self.fail_after is not None and len(self.hellos) > self.fail_after:
            raise ProbeError("timeout after 1s waiting for the server's answer")
        if self.server_order:
            return next((s for s in self.accepts if s in offered), None)
        return next((s for s in offered if s in self.accepts), None)


CANDIDATES = list(range(1, 301))


def test_server_order_across_chunks() -> None:
    accepts = [250, 3, 120, 64, 65]
    server = SimulatedServer(accepts, server_order=True)
    out = asyncio.run(enumerate_suites(server, CANDIDATES))
    assert out.accepted == tuple(accepts)
    assert out.server_preference is True
    assert out.complete
    assert max(len(h) for h in server.hellos) <= 64
    # 5 chunks + 5 accepted, 2 order probes, 4 selection probes
    assert out.probes == len(server.hellos) == 5 + 5 + 2 + 4


def test_server_order_in_one_chunk_needs_no_sorting() -> None:
    accepts = [40, 2, 17]
    server = SimulatedServer(accepts, server_order=True)
    out = asyncio.run(enumerate_suites(server, CANDIDATES[:64]))
    assert out.accepted == (40, 2, 17)
    assert out.server_preference is True
    assert out.probes == 1 + 3 + 2


def test_client_order() -> None:
    server = SimulatedServer([250, 3, 120], server_order=False)
    out = asyncio.run(enumerate_suites(server, CANDIDATES))
    assert set(out.accepted) == {250, 3, 120}
    assert out.accepted == (3, 120, 250), "listed in the order offered"
    assert out.server_preference is False


class AeadChoiceServer:
    """Go's and BoringSSL's rule: the client's first AEAD suite says AES-GCM or ChaCha20 first, then the
    server picks by its own order (AES-128-GCM, AES-256-GCM, ChaCha20 or ChaCha20 first)."""

    AES = (1, 2)
    CHACHA = 3

    def __init__(self) -> None:
        self.hellos: list[list[int]] = []

    async def __call__(self, offered: Sequence[int]) -> int | None:
        self.hellos.append(list(offered))
        first = next((s for s in offered if s in (*self.AES, self.CHACHA)), None)
        order = [*self.AES, self.CHACHA] if first in self.AES else [self.CHACHA, *self.AES]
        return next((s for s in order if s in offered), None)


def test_following_the_clients_aead_choice_is_not_client_order() -> None:
    """Offered AES-256 before AES-128, Go picks AES-128: the first and last of a reversed list winning
    is no proof of client order (regression: Go's TLS 1.3 suites were reported in client order)."""
    server = AeadChoiceServer()
    out = asyncio.run(enumerate_suites(server, CANDIDATES[:64]))
    assert out.accepted == (1, 2, 3)
    assert out.server_preference is None
    assert server.hellos[-1] == [2, 1, 3]


def test_client_order_is_confirmed_with_the_first_two_swapped() -> None:
    server = SimulatedServer([40, 2, 17], server_order=False)
    out = asyncio.run(enumerate_suites(server, CANDIDATES[:64]))
    assert out.accepted == (2, 17, 40)
    assert out.server_preference is False
    assert server.hellos[-1] == [17, 2, 40]
    assert out.probes == 1 + 3 + 3


def test_single_suite_has_no_order() -> None:
    out = asyncio.run(enumerate_suites(SimulatedServer([7], server_order=True), CANDIDATES))
    assert out.accepted == (7,)
    assert out.server_preference is None


def test_nothing_accepted_costs_one_probe_per_chunk() -> None:
    server = SimulatedServer([], server_order=True)
    out = asyncio.run(enumerate_suites(server, CANDIDATES))
    assert out.accepted == ()
    assert out.probes == 5


def test_a_failed_probe_marks_the_result_incomplete() -> None:
    server = SimulatedServer([250, 3], server_order=True, fail_after=1)
    out = asyncio.run(enumerate_suites(server, CANDIDATES))
    assert not out.complete
    assert "timeout" in out.errors[0]


def test_a_suite_not_offered_stops_the_chunk() -> None:
    async def rogue(offered: Sequence[int]) -> int | None:
        return 0xFFFF

    out = asyncio.run(enumerate_suites(rogue, CANDIDATES[:10]))
    assert out.accepted == ()
    assert not out.complete
    assert "not offered" in out.errors[0]


# ------------------------------------------------------------------ real servers


def codes(*names: str) -> list[str]:
    """IANA names of suites given by OpenSSL or IANA name (and a check that the table knows them)."""
    out = []
    for name in names:
        suite = suite_by_name(name)
        assert suite is not None, name
        out.append(suite.name)
    return out


def enumerate_live(port: int, version: TlsVersion) -> tuple[tuple[str, ...], bool | None, int]:
    result, outcome = asyncio.run(
        enumerate_cipher_suites(standalone_prober("127.0.0.1", port, server_name="localhost"), version)
    )
    assert outcome.complete, outcome.errors
    return result.accepted, result.server_preference, outcome.probes


TLS12_LIST = [
    "ECDHE-RSA-AES256-GCM-SHA384",
    "AES128-SHA",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-SHA256",
]


def test_openssl_server_order() -> None:
    cipher = ":".join(TLS12_LIST) + ":@SECLEVEL=0"
    with openssl_s_server(["-tls1_2", "-cipher", cipher, "-serverpref"]) as server:
        accepted, preference, probes = enumerate_live(server.port, TlsVersion.TLSv1_2)
    assert accepted == tuple(codes(*TLS12_LIST))
    assert preference is True
    assert probes < 30


def test_openssl_client_order_and_tls13_suites() -> None:
    cipher = ":".join(TLS12_LIST) + ":@SECLEVEL=0"
    suites13 = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
    with openssl_s_server(["-cipher", cipher, "-ciphersuites", suites13]) as server:
        accepted, preference, _ = enumerate_live(server.port, TlsVersion.TLSv1_2)
        assert set(accepted) == set(codes(*TLS12_LIST))
        assert preference is False
        accepted13, _, _ = enumerate_live(server.port, TlsVersion.TLSv1_3)
        assert set(accepted13) == {"TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"}


def test_openssl_null_and_anonymous_suites() -> None:
    names = ["ECDHE-RSA-NULL-SHA", "NULL-SHA256", "AECDH-AES128-SHA", "ADH-AES256-GCM-SHA384"]
    cipher = ":".join(names) + ":@SECLEVEL=0"
    with openssl_s_server(["-tls1_2", "-cipher", cipher, "-serverpref"]) as server:
        accepted, preference, _ = enumerate_live(server.port, TlsVersion.TLSv1_2)
    assert accepted == tuple(codes(*names))
    assert preference is True
    result_classes = {c for name in accepted for c in classify(name)}
    assert {"null", "anon"} <= result_classes


def classify(name: str) -> frozenset[str]:
    suite = suite_by_name(name)
    assert suite is not None, name
    return suite.classes


def test_nginx_suites() -> None:
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        pytest.fail("nginx is not installed")
    names = ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-SHA384", "AES256-GCM-SHA384"]
    block = NginxServerBlock(
        versions=frozenset({TlsVersion.TLSv1_2}),
        ciphers=":".join(names) + ":@SECLEVEL=0",
        extra=("ssl_prefer_server_ciphers on;",),
    )
    with nginx_server([block]) as nginx:
        port = nginx.blocks[0][0].port
        accepted, preference, _ = enumerate_live(port, TlsVersion.TLSv1_2)
    assert accepted == tuple(codes(*names))
    assert preference is True


def test_3des_only_server() -> None:
    """The local OpenSSL (Debian's 3.x) has neither 3DES nor RC4 suites even at @SECLEVEL=0
    (`openssl ciphers -v '3DES:@SECLEVEL=0'` finds none), so tlslite-ng plays these servers."""
    with tlslite_suite_server(["3des"], TlsVersion.TLSv1_2) as server:
        result, outcome = asyncio.run(
            enumerate_cipher_suites(
                standalone_prober("127.0.0.1", server.port, server_name="localhost"), TlsVersion.TLSv1_2
            )
        )
    assert outcome.complete, outcome.errors
    assert result.accepted
    assert all("3DES_EDE_CBC" in name for name in result.accepted), result.accepted
    assert "3des" in result.classes
    assert "aead" not in result.classes


def test_rc4_server() -> None:
    """tlslite-ng serves RC4 (see test_3des_only_server for why not OpenSSL)."""
    with tlslite_suite_server(["rc4"], TlsVersion.TLSv1_0) as server:
        result, outcome = asyncio.run(
            enumerate_cipher_suites(
                standalone_prober("127.0.0.1", server.port, server_name="localhost"), TlsVersion.TLSv1_0
            )
        )
    assert outcome.complete, outcome.errors
    assert result.accepted
    assert all("RC4_128" in name for name in result.accepted), result.accepted
    assert "rc4" in result.classes


def test_candidate_lists_are_the_registry() -> None:
    tls12 = suites_for_version(TlsVersion.TLSv1_2)
    assert len(tls12) > 300, "the whole IANA registry, not just what OpenSSL knows"
    assert 0x000A in tls12 and 0x0005 in tls12 and 0x1301 not in tls12


def test_hostile_peers_leave_the_enumeration_incomplete_or_empty() -> None:
    from tests.support.hostile import garbage_server, reset_server, silent_server

    async def run(port: int, timeout: float) -> tuple[tuple[str, ...], tuple[str, ...]]:
        result, _ = await enumerate_cipher_suites(
            standalone_prober("127.0.0.1", port, server_name="localhost", timeout=timeout), TlsVersion.TLSv1_2
        )
        return result.accepted, result.errors

    with reset_server() as server:
        accepted, errors = asyncio.run(run(server.port, 2.0))
    assert accepted == () and errors and "reset" in errors[0], "a reset is never taken as a refusal"
    with silent_server() as server:
        accepted, errors = asyncio.run(run(server.port, 0.3))
    assert accepted == () and errors and "timeout" in errors[0]
    with garbage_server() as server:
        accepted, errors = asyncio.run(run(server.port, 2.0))
    assert accepted == () and errors


@pytest.mark.slow
def test_go_tls13_follows_the_clients_aead_choice_only() -> None:
    """Go 1.19: AES-128-GCM over AES-256-GCM whatever the client's order, ChaCha20 when the client lists
    it first: neither the server's order nor the client's."""
    with go_tls_server([TlsVersion.TLSv1_3]) as server:
        accepted, preference, _ = enumerate_live(server.port, TlsVersion.TLSv1_3)
    assert set(accepted) == {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    }
    assert preference is None


@pytest.mark.slow
def test_go_tls12_configured_suites_in_go_order() -> None:
    """Go takes the configured TLS 1.2 suites as a set and ranks them itself (ECDHE before RSA)."""
    names = ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
    with go_tls_server([TlsVersion.TLSv1_2], cipher_suites=names) as server:
        accepted, preference, _ = enumerate_live(server.port, TlsVersion.TLSv1_2)
    assert accepted == tuple(reversed(names))
    assert preference is True
