"""Wire pieces of the key-exchange and handshake-feature probes: the hello options stay valid and padded,
post-quantum key shares have the sizes the drafts fix and are answered by tlslite-ng, the
ServerKeyExchange event is split-independent, and RFC 7919 primes are recognised (cross-checked with the
primes `openssl genpkey` prints)."""

from __future__ import annotations

import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric import dh
from cryptography.hazmat.primitives.serialization import load_pem_parameters
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsaudit.models import TlsVersion
from tlsaudit.probe.key_exchange import dh_group_label
from tlsaudit.tls.client_hello import build_client_hello
from tlsaudit.tls.client_hello_parse import parse_client_hello
from tlsaudit.tls.constants import SCSV_FALLBACK, TLS13_GROUPS, ExtensionType
from tlsaudit.tls.ffdhe import ffdhe_name, modp_name, modp_prime
from tlsaudit.tls.pq_shares import MLKEM_Q, mlkem_encapsulation_key, pq_key_share
from tlsaudit.tls.server_flight import ServerFlightParser, ServerKeyExchange
from tlsaudit.tls.wire import encode_records, handshake_message, u8, u16, vec8, vec16, vec24

X25519MLKEM768 = 0x11EC


def _length(hello: bytes) -> int:
    return int.from_bytes(hello[6:9], "big") + 4


@pytest.mark.parametrize(
    ("group", "size"),
    [(0x11EC, 1216), (0x11EB, 1249), (0x11ED, 1665), (0x0200, 800), (0x0201, 1184), (0x0202, 1568)],
)
def test_pq_share_sizes(group: int, size: int) -> None:
    assert len(pq_key_share(group)) == size


def test_mlkem_key_passes_the_modulus_check() -> None:
    key = mlkem_encapsulation_key(768)[:-32]
    for i in range(0, len(key), 3):
        a = key[i] | ((key[i + 1] & 0x0F) << 8)
        b = (key[i + 1] >> 4) | (key[i + 2] << 4)
        assert a < MLKEM_Q and b < MLKEM_Q


def test_browser_sized_tls13_hello() -> None:
    hello = build_client_hello(
        TlsVersion.TLSv1_3,
        server_name="a.example",
        groups=(X25519MLKEM768, 0x001D),
        extra_key_shares=((X25519MLKEM768, pq_key_share(X25519MLKEM768)),),
    )
    info = parse_client_hello(hello)
    assert len(hello) > 1200
    assert info.key_share_groups == (X25519MLKEM768, 0x001D)
    assert set(info.groups) <= TLS13_GROUPS


def test_hello_without_key_shares() -> None:
    info = parse_client_hello(build_client_hello(TlsVersion.TLSv1_3, classical_shares=False))
    assert info.key_share_groups == ()


def test_share_for_a_group_not_offered_is_refused() -> None:
    with pytest.raises(ValueError):
        build_client_hello(TlsVersion.TLSv1_3, groups=(0x001D,), extra_key_shares=((0x11EC, b"x"),))


@pytest.mark.parametrize("min_length", [300, 1500, 3000])
def test_min_length_pads_out_of_256_511(min_length: int) -> None:
    hello = build_client_hello(TlsVersion.TLSv1_2, cipher_suites=(0x002F,), min_length=min_length)
    assert _length(hello) >= min_length and not 256 <= _length(hello) <= 511
    assert parse_client_hello(hello).padding_length is not None


def test_feature_options() -> None:
    hello = build_client_hello(
        TlsVersion.TLSv1_2,
        cipher_suites=(0x002F, 0x0035),
        compression_methods=(1, 0),
        fallback_scsv=True,
        extra_extensions=((ExtensionType.encrypt_then_mac, b""),),
    )
    info = parse_client_hello(hello)
    assert info.compression_methods == (1, 0)
    assert info.cipher_suites[-1] == SCSV_FALLBACK
    assert ExtensionType.encrypt_then_mac in info.extensions
    assert not 256 <= _length(hello) <= 511
    with pytest.raises(ValueError):
        build_client_hello(TlsVersion.TLSv1_3, compression_methods=(1, 0))
    with pytest.raises(ValueError):
        build_client_hello(TlsVersion.TLSv1_2, compression_methods=(1,))


def test_defaults_unchanged() -> None:
    a = build_client_hello(TlsVersion.TLSv1_2, random=bytes(32), server_name="a.example")
    b = build_client_hello(
        TlsVersion.TLSv1_2,
        random=bytes(32),
        server_name="a.example",
        compression_methods=(0,),
        fallback_scsv=False,
        extra_extensions=(),
        min_length=0,
    )
    assert a == b


# ------------------------------------------------------------------ ServerKeyExchange


def _flight(ske_body: bytes, suite: int) -> bytes:
    hello = u16(0x0303) + bytes(32) + vec8(b"") + u16(suite) + u8(0) + vec16(b"")
    cert = vec24(vec24(b"\x30\x03\x02\x01\x01"))
    msgs = (
        handshake_message(2, hello)
        + handshake_message(11, cert)
        + handshake_message(12, ske_body)
        + handshake_message(14, b"")
    )
    return encode_records(22, 0x0303, msgs)


DHE_SUITE = 0x009E  # TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
ECDHE_SUITE = 0xC02F  # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256


def _events(data: bytes, cuts: list[int]) -> list[object]:
    parser = ServerFlightParser()
    events: list[object] = []
    last = 0
    for cut in sorted(set(cuts)):
        events += parser.feed(data[last:cut])
        last = cut
    events += parser.feed(data[last:])
    return events


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), max_size=6))
def test_server_key_exchange_any_split(cuts: list[int]) -> None:
    p = b"\xff" * 128
    dhe = _flight(vec16(p) + vec16(b"\x02") + vec16(b"\x05" * 128) + b"\x00" * 10, DHE_SUITE)
    ecdhe = _flight(u8(3) + u16(0x001D) + vec8(b"\x04" * 32) + b"\x00" * 10, ECDHE_SUITE)
    for data, want in ((dhe, ServerKeyExchange(kex="DHE", dh_p=p)), (ecdhe, None)):
        whole = _events(data, [])
        assert _events(data, [c for c in cuts if c < len(data)]) == whole
        ske = [e for e in whole if isinstance(e, ServerKeyExchange)]
        assert len(ske) == 1
        if want is not None:
            assert ske[0] == want and ske[0].dh_bits == 1024
        else:
            assert ske[0].named_group == 0x001D


# ------------------------------------------------------------------ RFC 7919, RFC 3526, RFC 2409


_OPENSSL_GROUPS = {
    **{f"ffdhe{bits}": f"ffdhe{bits}" for bits in (2048, 3072, 4096, 6144, 8192)},
    **{f"modp{bits}": f"modp_{bits}" for bits in (1536, 2048, 3072, 4096, 6144, 8192)},
}


@pytest.mark.parametrize("name", sorted(_OPENSSL_GROUPS))
def test_named_primes_match_openssl(name: str) -> None:
    """RFC 7919 and RFC 3526 primes, computed from e and pi, against OpenSSL's named groups."""
    pem = subprocess.run(
        ["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:{_OPENSSL_GROUPS[name]}"],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    params = load_pem_parameters(pem)
    assert isinstance(params, dh.DHParameters)
    p = params.parameter_numbers().p
    prime = p.to_bytes((p.bit_length() + 7) // 8, "big")
    assert dh_group_label(prime) == name
    assert (ffdhe_name(prime), modp_name(prime)) == (
        (name, None) if name.startswith("ffdhe") else (None, name)
    )
    assert dh_group_label(prime[:-1] + bytes([prime[-1] ^ 2])) == f"custom-{p.bit_length()}"


def _probably_prime(n: int) -> bool:
    """Miller-Rabin with the first twelve primes as bases."""
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


@pytest.mark.parametrize("bits", [768, 1024])
def test_rfc2409_primes_are_the_oakley_safe_primes(bits: int) -> None:
    """OpenSSL 3 has no name for RFC 2409's groups: the formula with the published X must give a safe
    prime (p and (p-1)/2 prime; a wrong X would not) with the groups' well-known first and last words."""
    p = modp_prime(bits)
    assert _probably_prime(p) and _probably_prime((p - 1) // 2)
    text = f"{p:x}"
    assert text.startswith("ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd1")
    assert text.endswith("ffffffffffffffff")
    prime = p.to_bytes(bits // 8, "big")
    assert modp_name(prime) == f"modp{bits}"
    assert dh_group_label(prime) == f"modp{bits}"
    assert dh_group_label(prime[:-1] + b"\x01") == f"custom-{bits}"
