"""The real-stack helpers themselves: configuration checks, keystores, raw hellos, second opinions.

That each stack variant accepts exactly its configured versions is checked, by independent clients,
whenever tests/probe/test_real_stacks.py starts it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.support.botan_server import botan_server, render_policy
from tests.support.certs import CertSpec, KeyType, make_cert
from tests.support.clients import python_handshake, tlslite_handshake
from tests.support.gnutls_server import gnutls_priority, gnutls_server, gnutls_version
from tests.support.jsse_server import KEYSTORE_PASSWORD, write_pkcs12
from tests.support.legacy_openssl import legacy_handshake, legacy_openssl_server
from tests.support.mbedtls_server import mbedtls_server
from tests.support.node_server import node_tls_server
from tests.support.nss_server import nss_label, nss_server, nss_version_range
from tests.support.raw_hello import CONVENTIONAL_SUITES, client_hello_tls12, filler_suites
from tests.support.stacks import STACK_VARIANTS
from tests.support.tls_servers import tlslite_server
from tests.support.wolfssl_server import wolfssl_server
from tlsaudit.models import TlsVersion

V = TlsVersion


def test_gnutls_priority_strings() -> None:
    assert gnutls_priority({V.TLSv1_2}) == "NORMAL:-VERS-ALL:+VERS-TLS1.2"
    assert gnutls_priority({V.TLSv1_3, V.TLSv1_0}) == "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.3"
    with pytest.raises(ValueError, match="priority"):
        gnutls_priority({V.SSLv2})
    assert gnutls_version().startswith("3.")


@pytest.mark.parametrize(
    ("factory", "versions"),
    [
        (node_tls_server, {V.TLSv1_0, V.TLSv1_2}),
        (node_tls_server, {V.SSLv3}),
        (wolfssl_server, {V.TLSv1_0}),
        (wolfssl_server, {V.TLSv1_1, V.TLSv1_3}),
        (mbedtls_server, {V.TLSv1_3}),
        (mbedtls_server, {V.SSLv3, V.TLSv1_0}),
        (mbedtls_server, {V.TLSv1_0, V.TLSv1_2}),
        (legacy_openssl_server, {V.TLSv1_3}),
        (botan_server, {V.TLSv1_2, V.TLSv1_3}),
        (botan_server, {V.SSLv3}),
        (nss_server, {V.SSLv2}),
        (nss_server, {V.TLSv1_0, V.TLSv1_2}),
        (nss_server, {V.SSLv3, V.TLSv1_0, V.TLSv1_1, V.TLSv1_2, V.TLSv1_3}),  # NSS' own refusal
    ],
)
def test_impossible_version_sets_are_refused(
    factory: Callable[[set[TlsVersion]], AbstractContextManager[object]], versions: set[TlsVersion]
) -> None:
    with pytest.raises(ValueError), factory(versions):
        pass


def test_botan_policy_enables_exactly_the_versions() -> None:
    policy = render_policy({V.TLSv1_0, V.TLSv1_2})
    assert "allow_tls10 = true\nallow_tls11 = false\nallow_tls12 = true\n" in policy
    assert "ciphers = ChaCha20Poly1305 AES-256/GCM AES-128/GCM AES-256 AES-128\n" in policy
    assert "ciphers" not in render_policy({V.TLSv1_2})  # Botan's default: AEAD only


def test_botan_server_binds_ipv4_loopback_only() -> None:
    for host in ("0.0.0.0", "::1"):
        with pytest.raises(ValueError), botan_server({V.TLSv1_2}, host=host):
            pass


def test_pkcs12_keystore_holds_leaf_key_and_intermediate(tmp_path: Path) -> None:
    files = make_cert()
    stored = pkcs12.load_pkcs12(
        write_pkcs12(files, tmp_path / "s.p12").read_bytes(), KEYSTORE_PASSWORD.encode()
    )
    assert stored.key is not None
    assert stored.cert is not None
    assert stored.cert.certificate.subject == x509.load_pem_x509_certificate(files.leaf.read_bytes()).subject
    assert len(stored.additional_certs) == 1


def test_raw_hello_lengths_are_consistent() -> None:
    suites = [*CONVENTIONAL_SUITES, *filler_suites(294)]
    assert len(set(suites)) == 300
    hello = client_hello_tls12(suites)
    assert hello[0] == 0x16
    assert struct.unpack("!H", hello[3:5])[0] == len(hello) - 5
    assert int.from_bytes(hello[6:9], "big") == len(hello) - 9
    assert struct.unpack("!H", hello[44:46])[0] == 600  # 2 bytes per suite, after version/random/session


def test_stack_variant_names_are_unique_and_say_their_versions() -> None:
    for name, variant in STACK_VARIANTS.items():
        assert name == variant.name
        assert variant.versions


def test_tls13_only_tlslite_server_takes_a_strict_tls13_client() -> None:
    """The strict TLS 1.3 server (no groups TLS 1.3 forbids) completes with tlslite-ng and Python ssl."""
    with tlslite_server({V.TLSv1_3}) as server:
        assert tlslite_handshake(server, V.TLSv1_3).version is V.TLSv1_3
        assert python_handshake(server, V.TLSv1_3).version is V.TLSv1_3
        assert not python_handshake(server, V.TLSv1_2).accepted


def test_gnutls_server_agrees_with_python_and_tlslite_clients() -> None:
    versions = {V.TLSv1_2, V.TLSv1_3}
    with gnutls_server(gnutls_priority(versions), versions) as server:
        for version in (V.TLSv1_2, V.TLSv1_3):
            assert python_handshake(server, version).version is version
            assert tlslite_handshake(server, version).version is version
        assert not python_handshake(server, V.TLSv1_1).accepted


@pytest.mark.slow
def test_botan_server_agrees_with_python_and_tlslite_clients() -> None:
    """A second opinion on the Botan server (its reference client is `openssl s_client`)."""
    versions = {V.TLSv1_1, V.TLSv1_2}
    with botan_server(versions) as server:
        for version in (V.TLSv1_1, V.TLSv1_2):
            assert tlslite_handshake(server, version).version is version
        assert python_handshake(server, V.TLSv1_2).version is V.TLSv1_2
        assert not python_handshake(server, V.TLSv1_0).accepted
        assert not tlslite_handshake(server, V.TLSv1_3).accepted


def test_nss_version_ranges() -> None:
    assert nss_version_range({V.TLSv1_3, V.TLSv1_2}) == (V.TLSv1_2, V.TLSv1_3)
    assert nss_version_range({V.SSLv3}) == (V.SSLv3, V.SSLv3)
    with pytest.raises(ValueError, match="contiguous"):
        nss_version_range({V.TLSv1_1, V.TLSv1_3})
    assert nss_label().startswith("NSS 3.")


def test_nss_server_agrees_with_python_and_tlslite_clients() -> None:
    """A second opinion on the NSS server: Python ssl and tlslite-ng, SSLv3 included."""
    versions = {V.TLSv1_2, V.TLSv1_3}
    with nss_server(versions) as server:
        for version in (V.TLSv1_2, V.TLSv1_3):
            assert python_handshake(server, version).version is version
            assert tlslite_handshake(server, version).version is version
        assert not python_handshake(server, V.TLSv1_1).accepted
    with nss_server({V.SSLv3, V.TLSv1_0}) as server:
        assert tlslite_handshake(server, V.SSLv3).version is V.SSLv3
        assert not tlslite_handshake(server, V.TLSv1_1).accepted


def test_nss_server_serves_each_leaf_of_one_subject() -> None:
    """NSS files leaves of one subject under one nickname; each server still serves its own leaf."""
    for key_type, kex in ((KeyType.EC_P256, "ECDHE-ECDSA-"), (KeyType.RSA_2048, "ECDHE-RSA-")):
        with nss_server({V.TLSv1_2}, cert=make_cert(CertSpec(key_type=key_type))) as server:
            assert (python_handshake(server, V.TLSv1_2).cipher or "").startswith(kex)


def test_openssl102_sslv3_server_agrees_with_tlslite_client() -> None:
    """A second opinion on the OpenSSL 1.0.2 SSLv3 server: tlslite-ng's SSLv3 client."""
    with legacy_openssl_server({V.SSLv3}) as server:
        assert tlslite_handshake(server, V.SSLv3).version is V.SSLv3
        assert legacy_handshake(server, V.SSLv3).version is V.SSLv3
        assert not legacy_handshake(server, V.SSLv2).accepted
