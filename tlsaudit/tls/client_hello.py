"""ClientHello builders for every version tlsaudit probes, SSLv2 included.

The probe hellos offer what a version can use (legacy suites and curves included, within the bounds real
stacks accept), so that a server configured for old clients only still answers. Nothing here depends on
the local OpenSSL.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tlsaudit.models import TlsVersion
from tlsaudit.tls.constants import (
    HYBRID_PQ_GROUPS,
    SCSV_EMPTY_RENEGOTIATION_INFO,
    SCSV_FALLBACK,
    SSL2_CIPHER_KINDS,
    TLS13_GROUPS,
    VERSION_CODES,
    ContentType,
    ExtensionType,
    HandshakeType,
)
from tlsaudit.tls.suite_offers import conventional_suites, probe_suites
from tlsaudit.tls.wire import encode_records, handshake_message, u8, u16, vec8, vec16

GROUP_X25519 = 0x001D
GROUP_SECP256R1 = 0x0017
PADDING_TARGET = 512  # RFC 7685 padding lifts a 256-511-byte hello to this size (as BoringSSL does)

# Offered groups, modern first, then every legacy curve an old server might insist on, then FFDHE.
OFFERED_GROUPS: tuple[int, ...] = (
    0x001D,
    0x0017,
    0x0018,
    0x0019,
    0x001E,  # x25519, secp256r1/384r1/521r1, x448
    0x001A,
    0x001B,
    0x001C,  # brainpoolP256r1/384r1/512r1
    0x0016,
    0x0015,
    0x0014,
    0x0013,
    0x0012,
    0x0011,
    0x0010,
    0x000F,  # secp256k1 .. secp160r1
    0x000E,
    0x000D,
    0x000C,
    0x000B,
    0x000A,
    0x0009,
    0x0008,
    0x0007,  # sect571r1 .. sect239k1 ...
    0x0006,
    0x0005,
    0x0004,
    0x0003,
    0x0002,
    0x0001,
    0x0100,
    0x0101,
    0x0102,
    0x0103,
    0x0104,  # ffdhe2048 .. ffdhe8192
)

OFFERED_SIGNATURE_SCHEMES: tuple[int, ...] = (
    0x0403,
    0x0503,
    0x0603,  # ecdsa_secp256r1_sha256 .. secp521r1_sha512
    0x0807,
    0x0808,  # ed25519, ed448
    0x0804,
    0x0805,
    0x0806,  # rsa_pss_rsae_sha256/384/512
    0x0809,
    0x080A,
    0x080B,  # rsa_pss_pss_sha256/384/512
    0x0401,
    0x0501,
    0x0601,  # rsa_pkcs1_sha256/384/512
    0x081A,
    0x081B,
    0x081C,  # ecdsa_brainpool*_tls13
    0x0303,
    0x0301,
    0x0302,  # sha224 ecdsa/rsa/dsa
    0x0203,
    0x0201,
    0x0202,  # ecdsa_sha1, rsa_pkcs1_sha1, dsa_sha1
    0x0402,
    0x0502,
    0x0602,  # dsa sha256/384/512
    0x0101,  # rsa md5
)

TLS13_SIGNATURE_SCHEMES: tuple[int, ...] = (
    0x0403,
    0x0503,
    0x0603,
    0x0807,
    0x0808,
    0x0804,
    0x0805,
    0x0806,
    0x0809,
    0x080A,
    0x080B,
    0x0401,
    0x0501,
    0x0601,
    0x0203,
    0x0201,
)

CONVENTIONAL_GROUPS: tuple[int, ...] = (0x001D, 0x0017, 0x0018, 0x0019)  # x25519, P-256/384/521
# TLS 1.3: the hybrid post-quantum groups too (without a key share: a server that insists on one asks
# for it with a HelloRetryRequest, which is acceptance).
TLS13_OFFERED_GROUPS: tuple[int, ...] = (
    0x001D,
    0x0017,
    0x0018,
    0x0019,
    0x001E,
    *HYBRID_PQ_GROUPS,
    0x0100,
    0x0101,
    0x0102,
    0x0103,
    0x0104,
)


@dataclass(frozen=True, slots=True)
class KeyShares:
    """Public keys for the key_share extension. Probes never finish a handshake, so one set serves a scan."""

    x25519: bytes
    secp256r1: bytes


@cache
def default_key_shares() -> KeyShares:
    x_pub = x25519.X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    p_pub = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return KeyShares(x25519=x_pub, secp256r1=p_pub)


def _extension(ext_type: int, body: bytes) -> bytes:
    return u16(ext_type) + vec16(body)


def _server_name_ext(name: str) -> bytes:
    encoded = name.encode("idna") if not name.isascii() else name.encode("ascii")
    entry = u8(0) + vec16(encoded)
    return _extension(ExtensionType.server_name, vec16(entry))


def _u16_list(values: Sequence[int]) -> bytes:
    return b"".join(u16(v) for v in values)


def sni_allowed(name: str | None) -> bool:
    """SNI carries host names only, never IP literals (RFC 6066 section 3)."""
    if not name:
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return True
    return False


def probe_hello(version: TlsVersion, server_name: str | None) -> bytes:
    """The default probe hello, built once per version and name; only the random changes per call."""
    if version == TlsVersion.SSLv2:
        return build_sslv2_client_hello()
    template = _probe_template(version, server_name)
    # The random sits after the record header (5), handshake header (4) and client_version (2).
    return template[:11] + os.urandom(32) + template[43:]


@lru_cache(maxsize=4096)
def _probe_template(version: TlsVersion, server_name: str | None) -> bytes:
    return build_client_hello(
        version, cipher_suites=probe_suites(version), server_name=server_name, random=bytes(32)
    )


def suites_hello(version: TlsVersion, suites: Sequence[int], server_name: str | None) -> bytes:
    """`build_client_hello(version, cipher_suites=suites, server_name=server_name)`, built once per list
    and name (suite enumeration and the chunks after a probe repeat the same lists on every endpoint);
    only the random changes per call, as in `probe_hello`."""
    if version == TlsVersion.SSLv2:
        return build_sslv2_client_hello()
    template = _suites_template(version, tuple(suites), server_name)
    return template[:11] + os.urandom(32) + template[43:]


@lru_cache(maxsize=4096)
def _suites_template(version: TlsVersion, suites: tuple[int, ...], server_name: str | None) -> bytes:
    return build_client_hello(version, cipher_suites=suites, server_name=server_name, random=bytes(32))


def conventional_hello(version: TlsVersion, server_name: str | None) -> bytes:
    """A small hello of the kind a mainstream client sends for `version`: the second opinion before a
    refusal of the big probe hello is believed."""
    if version == TlsVersion.SSLv2:
        return build_sslv2_client_hello()
    return build_client_hello(
        version,
        cipher_suites=conventional_suites(version),
        server_name=server_name,
        groups=CONVENTIONAL_GROUPS,
    )


def _groups_for(version: TlsVersion, groups: Sequence[int] | None) -> list[int]:
    if version == TlsVersion.TLSv1_3:
        return [g for g in (groups or TLS13_OFFERED_GROUPS) if g in TLS13_GROUPS]
    return list(groups or OFFERED_GROUPS)


def _key_share_entries(groups: Sequence[int], shares: KeyShares) -> bytes:
    """Shares for the offered groups tlsaudit holds keys for (with none, the server asks in a retry)."""
    entries = b""
    if GROUP_X25519 in groups:
        entries += u16(GROUP_X25519) + vec16(shares.x25519)
    if GROUP_SECP256R1 in groups:
        entries += u16(GROUP_SECP256R1) + vec16(shares.secp256r1)
    return entries


def _padding_for(handshake_length: int) -> bytes:
    """An RFC 7685 padding extension that moves a handshake message out of 256-511 bytes, else nothing."""
    if not 256 <= handshake_length < PADDING_TARGET:
        return b""
    pad = max(PADDING_TARGET - handshake_length - 4, 0)
    return _extension(ExtensionType.padding, bytes(pad))


def build_client_hello(
    version: TlsVersion,
    *,
    cipher_suites: Sequence[int] | None = None,
    server_name: str | None = None,
    groups: Sequence[int] | None = None,
    key_shares: KeyShares | None = None,
    random: bytes | None = None,
    extra_key_shares: Sequence[tuple[int, bytes]] = (),
    classical_shares: bool = True,
    extra_extensions: Sequence[tuple[int, bytes]] = (),
    compression_methods: Sequence[int] = (0,),
    fallback_scsv: bool = False,
    min_length: int = 0,
) -> bytes:
    """A complete ClientHello record offering exactly `version` (TLS 1.3: through supported_versions).

    Valid for the version it offers: a TLS 1.3 hello lists only TLS 1.3 groups, signature schemes and
    suites (plus the renegotiation SCSV, as every hello), a key share for each offered group tlsaudit
    holds a key for, a 32-byte legacy session id and null compression only. Suites default to the probe's
    bounded list; a hello whose handshake message would be 256-511 bytes long is padded to 512 (RFC 7685).

    Options for the handshake-feature probes (the defaults leave the hello as above):
    `extra_key_shares` (group, share) pairs placed before the classical shares (TLS 1.3; each group must
    be offered); `classical_shares=False` sends no X25519/P-256 share (the server then names its choice
    in a HelloRetryRequest); `extra_extensions` (type, body) pairs appended as given (e.g. encrypt_then_mac,
    renegotiation_info); `compression_methods` (TLS 1.2 and below; null must stay among them);
    `fallback_scsv` appends TLS_FALLBACK_SCSV (RFC 7507); `min_length` pads the handshake message to at
    least that many bytes (a browser-sized hello).
    """
    if version == TlsVersion.SSLv2:
        return build_sslv2_client_hello()
    suites = list(cipher_suites if cipher_suites is not None else probe_suites(version))
    is_tls13 = version == TlsVersion.TLSv1_3
    # Every hello signals secure renegotiation (RFC 5746), a TLS 1.3-only one too, as OpenSSL's does:
    # servers that require it (GnuTLS %SAFE_RENEGOTIATION) refuse a TLS 1.3 hello without it.
    if SCSV_EMPTY_RENEGOTIATION_INFO not in suites:
        suites.append(SCSV_EMPTY_RENEGOTIATION_INFO)
    if fallback_scsv and SCSV_FALLBACK not in suites:
        suites.append(SCSV_FALLBACK)
    if 0 not in compression_methods or (is_tls13 and tuple(compression_methods) != (0,)):
        raise ValueError("a hello offers null compression, and only that in TLS 1.3 (RFC 8446 4.1.2)")
    client_version = VERSION_CODES[TlsVersion.TLSv1_2] if is_tls13 else VERSION_CODES[version]
    rand = random if random is not None else os.urandom(32)
    session_id = os.urandom(32) if is_tls13 else b""

    extensions = bytearray()
    if version != TlsVersion.SSLv3:  # SSLv3-only stacks may choke on any extension
        offered_groups = _groups_for(version, groups)
        if server_name and sni_allowed(server_name):
            extensions += _server_name_ext(server_name)
        extensions += _extension(ExtensionType.supported_groups, vec16(_u16_list(offered_groups)))
        extensions += _extension(ExtensionType.ec_point_formats, vec8(b"\x00\x01\x02"))
        extensions += _extension(ExtensionType.session_ticket, b"")
        extensions += _extension(ExtensionType.extended_master_secret, b"")
        if version in (TlsVersion.TLSv1_2, TlsVersion.TLSv1_3):
            schemes = TLS13_SIGNATURE_SCHEMES if is_tls13 else OFFERED_SIGNATURE_SCHEMES
            extensions += _extension(ExtensionType.signature_algorithms, vec16(_u16_list(schemes)))
        if is_tls13:
            entries = b""
            for group, share in extra_key_shares:
                if group not in offered_groups:
                    raise ValueError(f"a key share for group 0x{group:04x}, which the hello does not offer")
                entries += u16(group) + vec16(share)
            if classical_shares:
                entries += _key_share_entries(
                    [g for g in offered_groups if g not in {e[0] for e in extra_key_shares}],
                    key_shares or default_key_shares(),
                )
            extensions += _extension(ExtensionType.key_share, vec16(entries))
            extensions += _extension(
                ExtensionType.supported_versions, vec8(u16(VERSION_CODES[TlsVersion.TLSv1_3]))
            )
            extensions += _extension(ExtensionType.psk_key_exchange_modes, vec8(b"\x01"))
        for ext_type, ext_body in extra_extensions:
            extensions += _extension(ext_type, ext_body)

    compression = bytes(compression_methods)
    body = u16(client_version) + rand + vec8(session_id) + vec16(_u16_list(suites)) + vec8(compression)
    if extensions:
        # 4 bytes of handshake header, 2 of extensions length.
        length = 4 + len(body) + 2 + len(extensions)
        if length < min_length:  # never into 256-511 bytes: at least PADDING_TARGET
            target = max(min_length, PADDING_TARGET)
            extensions += _extension(ExtensionType.padding, bytes(max(target - length - 4, 0)))
        else:
            extensions += _padding_for(length)
        body += vec16(bytes(extensions))
    # Record-layer version 3.1 for TLS hellos (as browsers do); SSLv3 probes say 3.0 throughout.
    record_version = VERSION_CODES[TlsVersion.SSLv3] if version == TlsVersion.SSLv3 else 0x0301
    message = handshake_message(HandshakeType.client_hello, body)
    return encode_records(ContentType.handshake, record_version, message)


def build_sslv2_client_hello(challenge: bytes | None = None) -> bytes:
    """An SSLv2 CLIENT-HELLO (2-byte record header) offering every SSLv2 cipher kind."""
    kinds = b"".join(code.to_bytes(3, "big") for code in SSL2_CIPHER_KINDS)
    chal = challenge if challenge is not None else os.urandom(16)
    msg = u8(1) + u16(0x0002) + u16(len(kinds)) + u16(0) + u16(len(chal)) + kinds + chal
    return u16(0x8000 | len(msg)) + msg
