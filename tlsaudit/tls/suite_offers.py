"""Which cipher suites a ClientHello offers: the probe's ranked list, the conventional list, chunks.

Embedded and appliance stacks (wolfSSL among them) refuse hellos with more than about 128-150 suites, so a
version probe offers at most `MAX_OFFERED_SUITES`, the suites servers are really configured with first
(what OpenSSL, SChannel, JSSE and NSS have enabled over the years, weak ones included, since a probe must
find a server that only has those), then the rest of the registry by strength. What does not fit is
offered in further hellos of the same bound.

SSLv3 hellos carry no extensions, so they cannot be padded out of the 256-511-byte range that hangs some
load balancers: they stay below 256 bytes instead (`MAX_SSLV3_SUITES`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from tlsaudit.models import TlsVersion
from tlsaudit.tls.constants import suites_for_version

MAX_OFFERED_SUITES = 128
# 43 bytes of SSLv3 ClientHello around the suite list (2 bytes a suite), one slot kept for the SCSV.
MAX_SSLV3_SUITES = 100

DEPLOYED_SUITES: tuple[int, ...] = (
    # AEAD with forward secrecy (every current default)
    0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0x009E, 0x009F, 0xCCAA,
    0xC0AC, 0xC0AD, 0xC09C, 0xC09D, 0x00A2, 0x00A3,
    # CBC with forward secrecy (TLS 1.0-1.2 era defaults)
    0xC023, 0xC027, 0xC024, 0xC028, 0xC009, 0xC013, 0xC00A, 0xC014,
    0x0067, 0x006B, 0x0033, 0x0039, 0x0040, 0x006A, 0x0032, 0x0038,
    # RSA key exchange
    0x009C, 0x009D, 0x003C, 0x003D, 0x002F, 0x0035,
    # Camellia, SEED, IDEA, ARIA (national and older OpenSSL defaults)
    0x0041, 0x0084, 0x0045, 0x0088, 0x00BA, 0x00C0, 0xC072, 0xC076, 0x0096, 0x009A, 0x0007,
    0xC050, 0xC051, 0xC060, 0xC061,
    # 3DES, RC4, DES
    0xC012, 0xC008, 0x0016, 0x0013, 0x000A, 0xC011, 0xC007, 0x0005, 0x0004, 0x0009, 0x0015, 0x0012,
    # EXPORT
    0x0003, 0x0006, 0x0008, 0x0014, 0x0011, 0x0064, 0x0062, 0x0063, 0x0065,
    # anonymous
    0x0034, 0x003A, 0x00A6, 0x00A7, 0x006C, 0x006D, 0xC018, 0xC019, 0x0018, 0x001B, 0xC017, 0x001A,
    0x0019, 0x0017, 0xC016,
    # NULL encryption
    0x0002, 0x0001, 0x003B, 0xC010, 0xC006, 0xC015,
    # static ECDH and DH
    0xC00E, 0xC00F, 0xC004, 0xC005, 0xC02D, 0xC031, 0xC025, 0xC029, 0x0030, 0x0036, 0x0031, 0x0037,
    0x00A0, 0x00A4,
    # PSK, SRP, GOST
    0x008C, 0x008D, 0x00A8, 0x00A9, 0xC035, 0xC036, 0xCCAB, 0xCCAC, 0xC01D, 0xC01E, 0xC020, 0xC021,
    0x0081, 0xFF85,
)  # fmt: skip

# What a mainstream client of each era offers: a hello no working server should refuse for its size.
_CONVENTIONAL_TLS12 = (
    0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0x009E, 0x009F,
    0xC023, 0xC027, 0xC024, 0xC028, 0xC009, 0xC013, 0xC00A, 0xC014,
    0x0067, 0x006B, 0x0033, 0x0039, 0x009C, 0x009D, 0x003C, 0x003D, 0x002F, 0x0035,
    0x0041, 0x0084, 0xC012, 0x0016, 0x000A, 0x0005, 0x0004,
)  # fmt: skip
_CONVENTIONAL_TLS13 = (0x1301, 0x1302, 0x1303, 0x1304, 0x1305)


@cache
def ranked_suites(version: TlsVersion) -> tuple[int, ...]:
    """Every suite a hello of `version` may offer: deployed ones first, then the registry by strength."""
    candidates = suites_for_version(version)
    allowed = set(candidates)
    deployed = tuple(dict.fromkeys(c for c in DEPLOYED_SUITES if c in allowed))
    chosen = set(deployed)
    return deployed + tuple(c for c in candidates if c not in chosen)


def suite_limit(version: TlsVersion) -> int:
    """How many suites one hello of `version` offers at most, an SCSV included."""
    return MAX_SSLV3_SUITES if version is TlsVersion.SSLv3 else MAX_OFFERED_SUITES


def probe_suites(version: TlsVersion) -> tuple[int, ...]:
    """The suites of the first probe for `version` (room left for the renegotiation SCSV)."""
    return ranked_suites(version)[: suite_limit(version) - 1]


def remaining_suite_chunks(version: TlsVersion) -> list[tuple[int, ...]]:
    """The suites `probe_suites` left out, in hello-sized chunks."""
    rest = ranked_suites(version)[suite_limit(version) - 1 :]
    return chunked(rest, suite_limit(version) - 1)


def conventional_suites(version: TlsVersion) -> tuple[int, ...]:
    """A short list a mainstream client of the version's era would send."""
    if version is TlsVersion.TLSv1_3:
        return _CONVENTIONAL_TLS13
    allowed = set(suites_for_version(version))
    return tuple(c for c in _CONVENTIONAL_TLS12 if c in allowed)


def chunked(codes: Sequence[int], size: int) -> list[tuple[int, ...]]:
    return [tuple(codes[i : i + size]) for i in range(0, len(codes), size)]
