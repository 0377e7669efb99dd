"""ClientHello builders for every version tlsaudit probes, SSLv2 included.

The hellos offer everything a version can use (legacy suites and curves included), so that a server
configured for old clients only still answers. Nothing here depends on the local OpenSSL.
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
from tlsaudit.tls.constants import SSL2_CIPHER_KINDS, VERSION_CODES, suites_for_version
from tlsaudit.tls.wire import CONTENT_HANDSHAKE, encode_records, handshake_message, u8, u16, vec8, vec16

HANDSHAKE_CLIENT_HELLO = 1

EXT_SERVER_NAME = 0
EXT_STATUS_REQUEST = 5
EXT_SUPPORTED_GROUPS = 10
EXT_EC_POINT_FORMATS = 11
EXT_SIGNATURE_ALGORITHMS = 13
EXT_ALPN = 16
EXT_EXTENDED_MASTER_SECRET = 23
EXT_SESSION_TICKET = 35
EXT_SUPPORTED_VERSIONS = 43
EXT_PSK_KEY_EXCHANGE_MODES = 45
EXT_KEY_SHARE = 51
EXT_RENEGOTIATION_INFO = 0xFF01

GROUP_X25519 = 0x001D
GROUP_SECP256R1 = 0x0017

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

SCSV_EMPTY_RENEGOTIATION_INFO = 0x00FF


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
    return _extension(EXT_SERVER_NAME, vec16(entry))


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
    template = _probe_template(version, server_name)
    if version == TlsVersion.SSLv2:
        return build_sslv2_client_hello()
    # The random sits after the record header (5), handshake header (4) and client_version (2).
    return template[:11] + os.urandom(32) + template[43:]


@lru_cache(maxsize=4096)
def _probe_template(version: TlsVersion, server_name: str | None) -> bytes:
    return build_client_hello(version, server_name=server_name, random=bytes(32))


def build_client_hello(
    version: TlsVersion,
    *,
    cipher_suites: Sequence[int] | None = None,
    server_name: str | None = None,
    groups: Sequence[int] = OFFERED_GROUPS,
    key_shares: KeyShares | None = None,
    random: bytes | None = None,
) -> bytes:
    """A complete ClientHello record offering exactly `version` (TLS 1.3: through supported_versions)."""
    if version == TlsVersion.SSLv2:
        return build_sslv2_client_hello()
    suites = list(cipher_suites if cipher_suites is not None else suites_for_version(version))
    is_tls13 = version == TlsVersion.TLSv1_3
    if not is_tls13 and SCSV_EMPTY_RENEGOTIATION_INFO not in suites:
        suites.append(SCSV_EMPTY_RENEGOTIATION_INFO)
    client_version = VERSION_CODES[TlsVersion.TLSv1_2] if is_tls13 else VERSION_CODES[version]
    rand = random if random is not None else os.urandom(32)
    session_id = os.urandom(32) if is_tls13 else b""

    extensions = bytearray()
    if version != TlsVersion.SSLv3:  # SSLv3-only stacks may choke on any extension
        if server_name and sni_allowed(server_name):
            extensions += _server_name_ext(server_name)
        extensions += _extension(EXT_SUPPORTED_GROUPS, vec16(_u16_list(groups)))
        extensions += _extension(EXT_EC_POINT_FORMATS, vec8(b"\x00\x01\x02"))
        extensions += _extension(EXT_SESSION_TICKET, b"")
        extensions += _extension(EXT_EXTENDED_MASTER_SECRET, b"")
        if version in (TlsVersion.TLSv1_2, TlsVersion.TLSv1_3):
            schemes = TLS13_SIGNATURE_SCHEMES if is_tls13 else OFFERED_SIGNATURE_SCHEMES
            extensions += _extension(EXT_SIGNATURE_ALGORITHMS, vec16(_u16_list(schemes)))
        if is_tls13:
            shares = key_shares or default_key_shares()
            entries = (
                u16(GROUP_X25519) + vec16(shares.x25519) + u16(GROUP_SECP256R1) + vec16(shares.secp256r1)
            )
            extensions += _extension(EXT_KEY_SHARE, vec16(entries))
            extensions += _extension(EXT_SUPPORTED_VERSIONS, vec8(u16(VERSION_CODES[TlsVersion.TLSv1_3])))
            extensions += _extension(EXT_PSK_KEY_EXCHANGE_MODES, vec8(b"\x01"))

    body = u16(client_version) + rand + vec8(session_id) + vec16(_u16_list(suites)) + vec8(b"\x00")
    if extensions:
        body += vec16(bytes(extensions))
    # Record-layer version 3.1 for TLS hellos (as browsers do); SSLv3 probes say 3.0 throughout.
    record_version = VERSION_CODES[TlsVersion.SSLv3] if version == TlsVersion.SSLv3 else 0x0301
    return encode_records(CONTENT_HANDSHAKE, record_version, handshake_message(HANDSHAKE_CLIENT_HELLO, body))


def build_sslv2_client_hello(challenge: bytes | None = None) -> bytes:
    """An SSLv2 CLIENT-HELLO (2-byte record header) offering every SSLv2 cipher kind."""
    kinds = b"".join(code.to_bytes(3, "big") for code in SSL2_CIPHER_KINDS)
    chal = challenge if challenge is not None else os.urandom(16)
    msg = u8(1) + u16(0x0002) + u16(len(kinds)) + u16(0) + u16(len(chal)) + kinds + chal
    return u16(0x8000 | len(msg)) + msg
