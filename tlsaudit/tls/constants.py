"""IANA TLS registries as typed data, with small lookup helpers.

Pure data: no I/O, no sockets. Sources are the IANA "Transport Layer Security (TLS) Parameters" and
"TLS Extensions" registries and the RFCs they cite (RFC 5246, RFC 8446, RFC 8422, RFC 7919, ...).
The cipher suite rows live in `cipher_suites.py`; this module derives their properties from the
IANA names, so one table is the single source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from tlsaudit.models import ALL_VERSIONS, TlsVersion
from tlsaudit.tls.cipher_suites import CIPHER_SUITE_ROWS, NON_IANA_CODES, OPENSSL_NAME_ALIASES

# --------------------------------------------------------------------------------------------------
# Protocol versions
# --------------------------------------------------------------------------------------------------

VERSION_CODES: dict[TlsVersion, int] = {
    TlsVersion.SSLv2: 0x0002,
    TlsVersion.SSLv3: 0x0300,
    TlsVersion.TLSv1_0: 0x0301,
    TlsVersion.TLSv1_1: 0x0302,
    TlsVersion.TLSv1_2: 0x0303,
    TlsVersion.TLSv1_3: 0x0304,
}

_VERSIONS_BY_CODE: dict[int, TlsVersion] = {code: version for version, code in VERSION_CODES.items()}


def version_from_code(code: int) -> TlsVersion | None:
    """The protocol version a wire code stands for; None for unknown codes (drafts, GREASE, DTLS)."""
    return _VERSIONS_BY_CODE.get(code)


def version_rank(version: TlsVersion) -> int:
    """Position of a version in protocol order, SSLv2 lowest; for comparisons."""
    return ALL_VERSIONS.index(version)


# --------------------------------------------------------------------------------------------------
# GREASE (RFC 8701): reserved values a client sprinkles into lists to keep servers tolerant.
# --------------------------------------------------------------------------------------------------

GREASE_VALUES: frozenset[int] = frozenset((n << 12) | 0x0A00 | (n << 4) | 0x0A for n in range(16))


def is_grease(code: int) -> bool:
    """True for the 16 GREASE values 0x0A0A, 0x1A1A, ... 0xFAFA (cipher suites, groups, extensions...)."""
    return code in GREASE_VALUES


def _grease_label(code: int) -> str:
    return f"GREASE(0x{code:04X})"


# --------------------------------------------------------------------------------------------------
# Cipher suites
# --------------------------------------------------------------------------------------------------


class SuiteClass(StrEnum):
    """The cipher suite classes rules match on (`cipher_suites.classes`)."""

    NULL = "null"  # no encryption
    ANON = "anon"  # no authentication of the server
    EXPORT = "export"  # export-grade (40/56-bit) key exchange or cipher
    RC4 = "rc4"
    THREE_DES = "3des"
    DES = "des"  # single DES, including DES40
    IDEA = "idea"
    RC2 = "rc2"
    SEED = "seed"
    CBC = "cbc"  # block cipher in CBC mode
    AEAD = "aead"
    NO_FORWARD_SECRECY = "no-forward-secrecy"  # static RSA/DH/ECDH/PSK/KRB5/GOST key exchange
    FORWARD_SECRECY = "forward-secrecy"
    MD5 = "md5"  # MD5 record MAC
    SHA1_MAC = "sha1-mac"  # SHA-1 record MAC
    PSK = "psk"
    SRP = "srp"
    GOST = "gost"
    SCSV = "scsv"  # a signalling value, not a suite
    TLS13 = "tls13"
    UNKNOWN = "unknown"  # a code this table does not know


SUITE_CLASSES: frozenset[str] = frozenset(SuiteClass)


@dataclass(frozen=True, slots=True, kw_only=True)
class CipherSuite:
    """One cipher suite and what it is made of.

    kex: NULL RSA DH DHE ECDH ECDHE PSK DHE_PSK ECDHE_PSK RSA_PSK SRP KRB5 ECCPWD GOST FORTEZZA, or ANY
    for TLS 1.3 suites (the key exchange is negotiated apart). Anonymous DH/ECDH use ephemeral keys,
    so they are kex DHE/ECDHE with auth "anon".
    auth: NULL RSA DSS ECDSA anon PSK SRP KRB5 ECCPWD GOST FORTEZZA, or ANY for TLS 1.3.
    cipher: the bulk cipher as named in the suite (e.g. AES_128_GCM, 3DES_EDE_CBC, NULL).
    cipher_bits: effective key strength (3DES counts 112).
    mac: MD5 SHA1 SHA256 SHA384 (HMAC), AEAD, or the GOST/SM MAC names; NULL for none.
    """

    code: int
    name: str
    openssl_name: str
    kex: str
    auth: str
    cipher: str
    cipher_bits: int
    mac: str
    tls13: bool
    min_version: TlsVersion
    classes: frozenset[str]


# Key exchange part of an IANA name (before _WITH_) -> (kex, auth).
_KEX_PARTS: dict[str, tuple[str, str]] = {
    "NULL": ("NULL", "NULL"),
    "RSA": ("RSA", "RSA"),
    "RSA_EXPORT": ("RSA", "RSA"),
    "RSA_EXPORT1024": ("RSA", "RSA"),
    "RSA_FIPS": ("RSA", "RSA"),
    "RSA_OLDFIPS": ("RSA", "RSA"),
    "DH_DSS": ("DH", "DSS"),
    "DH_DSS_EXPORT": ("DH", "DSS"),
    "DH_RSA": ("DH", "RSA"),
    "DH_RSA_EXPORT": ("DH", "RSA"),
    "DHE_DSS": ("DHE", "DSS"),
    "DHE_DSS_EXPORT": ("DHE", "DSS"),
    "DHE_DSS_EXPORT1024": ("DHE", "DSS"),
    "DHE_RSA": ("DHE", "RSA"),
    "DHE_RSA_EXPORT": ("DHE", "RSA"),
    "DH_anon": ("DHE", "anon"),
    "DH_anon_EXPORT": ("DHE", "anon"),
    "KRB5": ("KRB5", "KRB5"),
    "KRB5_EXPORT": ("KRB5", "KRB5"),
    "PSK": ("PSK", "PSK"),
    "DHE_PSK": ("DHE_PSK", "PSK"),
    "PSK_DHE": ("DHE_PSK", "PSK"),  # RFC 6655 spells two DHE-PSK CCM_8 suites this way round
    "RSA_PSK": ("RSA_PSK", "RSA"),
    "ECDHE_PSK": ("ECDHE_PSK", "PSK"),
    "ECDH_ECDSA": ("ECDH", "ECDSA"),
    "ECDHE_ECDSA": ("ECDHE", "ECDSA"),
    "ECDH_RSA": ("ECDH", "RSA"),
    "ECDHE_RSA": ("ECDHE", "RSA"),
    "ECDH_anon": ("ECDHE", "anon"),
    "SRP_SHA": ("SRP", "SRP"),
    "SRP_SHA_RSA": ("SRP", "RSA"),
    "SRP_SHA_DSS": ("SRP", "DSS"),
    "ECCPWD": ("ECCPWD", "ECCPWD"),
    "GOSTR341112_256": ("GOST", "GOST"),
    "GOSTR341001": ("GOST", "GOST"),
    "GOSTR341094": ("GOST", "GOST"),
    "FORTEZZA_KEA": ("FORTEZZA", "FORTEZZA"),
}

_FORWARD_SECRET_KEX = frozenset({"DHE", "ECDHE", "DHE_PSK", "ECDHE_PSK", "SRP", "ECCPWD", "ANY"})
_PSK_KEX = frozenset({"PSK", "DHE_PSK", "ECDHE_PSK", "RSA_PSK"})
# Suites defined for TLS only (they need TLS extensions or the TLS PRF), not for SSLv3.
_TLS_ONLY_KEX = frozenset({"ECDH", "ECDHE", "SRP", "GOST"}) | _PSK_KEX

# Record MAC suffix of an IANA name -> MAC label.
_MAC_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_SHA384", "SHA384"),
    ("_SHA256", "SHA256"),
    ("_SHA", "SHA1"),
    ("_MD5", "MD5"),
    ("_SM3", "SM3"),
    ("_OMAC", "OMAC"),
    ("_IMIT", "IMIT"),
    ("_GOSTR3411", "GOSTR3411"),
    ("_NULL", "NULL"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Bulk:
    label: str
    bits: int
    mode: str  # null | stream | cbc | aead
    family: SuiteClass | None = None  # the class a weak or notable cipher adds


_BULK_CIPHERS: dict[str, _Bulk] = {
    "NULL": _Bulk(label="NULL", bits=0, mode="null"),
    # RFC 9150 integrity-only TLS 1.3 suites (TLS_SHA256_SHA256): no cipher at all.
    "SHA256": _Bulk(label="NULL", bits=0, mode="null"),
    "SHA384": _Bulk(label="NULL", bits=0, mode="null"),
    "RC4_40": _Bulk(label="RC4_40", bits=40, mode="stream", family=SuiteClass.RC4),
    "RC4_56": _Bulk(label="RC4_56", bits=56, mode="stream", family=SuiteClass.RC4),
    "RC4_128": _Bulk(label="RC4_128", bits=128, mode="stream", family=SuiteClass.RC4),
    "RC2_CBC_40": _Bulk(label="RC2_CBC_40", bits=40, mode="cbc", family=SuiteClass.RC2),
    "RC2_CBC_56": _Bulk(label="RC2_CBC_56", bits=56, mode="cbc", family=SuiteClass.RC2),
    "IDEA_CBC": _Bulk(label="IDEA_CBC", bits=128, mode="cbc", family=SuiteClass.IDEA),
    "DES40_CBC": _Bulk(label="DES40_CBC", bits=40, mode="cbc", family=SuiteClass.DES),
    "DES_CBC_40": _Bulk(label="DES_CBC_40", bits=40, mode="cbc", family=SuiteClass.DES),
    "DES_CBC": _Bulk(label="DES_CBC", bits=56, mode="cbc", family=SuiteClass.DES),
    "3DES_EDE_CBC": _Bulk(label="3DES_EDE_CBC", bits=112, mode="cbc", family=SuiteClass.THREE_DES),
    "FORTEZZA_CBC": _Bulk(label="FORTEZZA_CBC", bits=80, mode="cbc"),
    "SEED_CBC": _Bulk(label="SEED_CBC", bits=128, mode="cbc", family=SuiteClass.SEED),
    "AES_128_CBC": _Bulk(label="AES_128_CBC", bits=128, mode="cbc"),
    "AES_256_CBC": _Bulk(label="AES_256_CBC", bits=256, mode="cbc"),
    "CAMELLIA_128_CBC": _Bulk(label="CAMELLIA_128_CBC", bits=128, mode="cbc"),
    "CAMELLIA_256_CBC": _Bulk(label="CAMELLIA_256_CBC", bits=256, mode="cbc"),
    "ARIA_128_CBC": _Bulk(label="ARIA_128_CBC", bits=128, mode="cbc"),
    "ARIA_256_CBC": _Bulk(label="ARIA_256_CBC", bits=256, mode="cbc"),
    "AES_128_GCM": _Bulk(label="AES_128_GCM", bits=128, mode="aead"),
    "AES_256_GCM": _Bulk(label="AES_256_GCM", bits=256, mode="aead"),
    "AES_128_CCM": _Bulk(label="AES_128_CCM", bits=128, mode="aead"),
    "AES_256_CCM": _Bulk(label="AES_256_CCM", bits=256, mode="aead"),
    "AES_128_CCM_8": _Bulk(label="AES_128_CCM_8", bits=128, mode="aead"),
    "AES_256_CCM_8": _Bulk(label="AES_256_CCM_8", bits=256, mode="aead"),
    "CAMELLIA_128_GCM": _Bulk(label="CAMELLIA_128_GCM", bits=128, mode="aead"),
    "CAMELLIA_256_GCM": _Bulk(label="CAMELLIA_256_GCM", bits=256, mode="aead"),
    "ARIA_128_GCM": _Bulk(label="ARIA_128_GCM", bits=128, mode="aead"),
    "ARIA_256_GCM": _Bulk(label="ARIA_256_GCM", bits=256, mode="aead"),
    "CHACHA20_POLY1305": _Bulk(label="CHACHA20_POLY1305", bits=256, mode="aead"),
    "AEGIS_128L": _Bulk(label="AEGIS_128L", bits=128, mode="aead"),
    "AEGIS_256": _Bulk(label="AEGIS_256", bits=256, mode="aead"),
    "SM4_GCM": _Bulk(label="SM4_GCM", bits=128, mode="aead"),
    "SM4_CCM": _Bulk(label="SM4_CCM", bits=128, mode="aead"),
    "KUZNYECHIK_CTR": _Bulk(label="KUZNYECHIK_CTR", bits=256, mode="stream"),
    "MAGMA_CTR": _Bulk(label="MAGMA_CTR", bits=256, mode="stream"),
    "28147_CNT": _Bulk(label="GOST28147_CNT", bits=256, mode="stream"),
    "KUZNYECHIK_MGM_L": _Bulk(label="KUZNYECHIK_MGM_L", bits=256, mode="aead"),
    "KUZNYECHIK_MGM_S": _Bulk(label="KUZNYECHIK_MGM_S", bits=256, mode="aead"),
    "MAGMA_MGM_L": _Bulk(label="MAGMA_MGM_L", bits=256, mode="aead"),
    "MAGMA_MGM_S": _Bulk(label="MAGMA_MGM_S", bits=256, mode="aead"),
}

# Suites that exist only in TLS 1.3: RFC 8446, RFC 8998 (SM4), RFC 9150 (integrity-only),
# RFC 9367 (GOST), draft-irtf-cfrg-aegis-aead (AEGIS).
_TLS13_CODES: frozenset[int] = frozenset(
    {0x1301, 0x1302, 0x1303, 0x1304, 0x1305, 0x1306, 0x1307, 0x00C6, 0x00C7, 0xC0B4, 0xC0B5}
    | {0xC103, 0xC104, 0xC105, 0xC106}
)


def _split_mac(bulk: str) -> tuple[str, str]:
    for suffix, mac in _MAC_SUFFIXES:
        if bulk.endswith(suffix):
            return bulk[: -len(suffix)], mac
    return bulk, "AEAD"  # CCM suites name no MAC: CCM authenticates the record itself


def _describe(code: int, name: str, openssl_name: str) -> CipherSuite:
    """Derive a suite's parts from its IANA name; raises ValueError on a name this grammar lacks."""
    if name.endswith("_SCSV"):
        return CipherSuite(
            code=code,
            name=name,
            openssl_name=openssl_name,
            kex="",
            auth="",
            cipher="",
            cipher_bits=0,
            mac="",
            tls13=False,
            min_version=TlsVersion.SSLv3,
            classes=frozenset({SuiteClass.SCSV}),
        )
    body = name.removeprefix("TLS_").removeprefix("SSL_").removesuffix("_OLD")
    tls13 = code in _TLS13_CODES
    kex_part, _, bulk_part = body.rpartition("_WITH_")
    if tls13:
        kex, auth = "ANY", "ANY"
    else:
        if kex_part not in _KEX_PARTS:
            raise ValueError(f"0x{code:04X} {name}: unknown key exchange {kex_part!r}")
        kex, auth = _KEX_PARTS[kex_part]
    cipher_token, mac = _split_mac(bulk_part)
    if cipher_token not in _BULK_CIPHERS:
        raise ValueError(f"0x{code:04X} {name}: unknown cipher {cipher_token!r}")
    bulk = _BULK_CIPHERS[cipher_token]
    if bulk.mode == "aead":
        mac = "AEAD"

    classes: set[SuiteClass] = set()
    if bulk.mode == "null":
        classes.add(SuiteClass.NULL)
    elif bulk.mode in ("cbc", "aead"):
        classes.add(SuiteClass(bulk.mode))
    if bulk.family:
        classes.add(bulk.family)
    if auth in ("anon", "NULL"):
        classes.add(SuiteClass.ANON)
    # 56-bit ciphers are export-grade only in the EXPORT1024 suites, which say so in their name.
    if "EXPORT" in kex_part or bulk.bits == 40:
        classes.add(SuiteClass.EXPORT)
    classes.add(SuiteClass.FORWARD_SECRECY if kex in _FORWARD_SECRET_KEX else SuiteClass.NO_FORWARD_SECRECY)
    if mac == "MD5":
        classes.add(SuiteClass.MD5)
    elif mac == "SHA1":
        classes.add(SuiteClass.SHA1_MAC)
    if kex in _PSK_KEX:
        classes.add(SuiteClass.PSK)
    if kex == "SRP":
        classes.add(SuiteClass.SRP)
    if kex_part.startswith("GOSTR") or "28147" in cipher_token:
        classes.add(SuiteClass.GOST)
    if tls13:
        classes.add(SuiteClass.TLS13)

    if tls13:
        min_version = TlsVersion.TLSv1_3
    elif (
        bulk.mode == "aead"
        or kex == "ECCPWD"
        or kex_part == "GOSTR341112_256"
        or (mac in ("SHA256", "SHA384") and not (kex in _PSK_KEX and not cipher_token.startswith("ARIA")))
    ):
        # RFC 5487, 5489 and 6367 allow their PSK CBC/NULL suites with SHA-256/384 in TLS 1.0 too.
        min_version = TlsVersion.TLSv1_2
    elif kex in _TLS_ONLY_KEX:
        min_version = TlsVersion.TLSv1_0
    else:
        min_version = TlsVersion.SSLv3

    return CipherSuite(
        code=code,
        name=name,
        openssl_name=openssl_name,
        kex=kex,
        auth=auth,
        cipher=bulk.label,
        cipher_bits=bulk.bits,
        mac=mac,
        tls13=tls13,
        min_version=min_version,
        classes=frozenset(classes),
    )


CIPHER_SUITES: dict[int, CipherSuite] = {code: _describe(code, n, o) for code, n, o in CIPHER_SUITE_ROWS}

SCSV_EMPTY_RENEGOTIATION_INFO = 0x00FF
SCSV_FALLBACK = 0x5600
SCSV_CODES: frozenset[int] = frozenset({SCSV_EMPTY_RENEGOTIATION_INFO, SCSV_FALLBACK})

_SUITES_BY_NAME: dict[str, CipherSuite] = {s.name: s for s in CIPHER_SUITES.values()}
_SUITES_BY_OPENSSL_NAME: dict[str, CipherSuite] = {
    s.openssl_name: s for s in CIPHER_SUITES.values() if s.openssl_name
} | {alias: CIPHER_SUITES[code] for alias, code in OPENSSL_NAME_ALIASES.items()}


def suite_name(code: int) -> str:
    """IANA name of a suite; GREASE as "GREASE(0x0A0A)", anything unknown as "0x%04X"."""
    suite = CIPHER_SUITES.get(code)
    if suite is not None:
        return suite.name
    if is_grease(code):
        return _grease_label(code)
    return f"0x{code:04X}"


def suite_by_name(name: str) -> CipherSuite | None:
    """Look a suite up by its IANA name or its OpenSSL name (older OpenSSL spellings too)."""
    return _SUITES_BY_NAME.get(name) or _SUITES_BY_OPENSSL_NAME.get(name)


def classify(code: int) -> frozenset[str]:
    """The SUITE_CLASSES a suite belongs to; {"unknown"} for codes this table does not know."""
    suite = CIPHER_SUITES.get(code)
    return suite.classes if suite is not None else frozenset({SuiteClass.UNKNOWN})


# Weakest first: a suite falls into the first group it matches.
_WEAK_TIERS: tuple[tuple[str, ...], ...] = (
    ("null",),
    ("anon",),
    ("export",),
    ("rc4", "des", "rc2", "md5"),
    ("3des", "idea"),
)
_KEX_PREFERENCE = {"ANY": 0, "ECDHE": 1, "DHE": 2, "ECDH": 3, "DH": 4, "RSA": 5}
_AUTH_PREFERENCE = {"ANY": 0, "ECDSA": 1, "RSA": 2, "DSS": 3}
_CIPHER_PREFERENCE = ("AES_256_GCM", "AES_128_GCM", "CHACHA20_POLY1305", "AES_256_CCM", "AES_128_CCM")


def _strength_key(suite: CipherSuite) -> tuple[int, ...]:
    """Sort key putting strong, mainstream suites first and the weakest last."""
    classes = suite.classes
    tier = -1
    for index, weak in enumerate(_WEAK_TIERS):
        if classes.intersection(weak):
            tier = 9 - index
            break
    if tier < 0:
        forward_secret = "forward-secrecy" in classes
        aead = "aead" in classes
        tier = {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}[
            (forward_secret, aead)
        ]
    niche = 1 if classes & {"psk", "srp", "gost"} or suite.kex in ("KRB5", "ECCPWD", "FORTEZZA") else 0
    if suite.code in NON_IANA_CODES:
        niche = 2
    cipher_rank = (
        _CIPHER_PREFERENCE.index(suite.cipher)
        if suite.cipher in _CIPHER_PREFERENCE
        else len(_CIPHER_PREFERENCE)
    )
    return (
        tier,
        niche,
        _KEX_PREFERENCE.get(suite.kex, len(_KEX_PREFERENCE)),
        cipher_rank,
        -suite.cipher_bits,
        _AUTH_PREFERENCE.get(suite.auth, len(_AUTH_PREFERENCE)),
        suite.code,
    )


_ORDERED_SUITES: tuple[CipherSuite, ...] = tuple(sorted(CIPHER_SUITES.values(), key=_strength_key))


def suites_for_version(version: TlsVersion) -> tuple[int, ...]:
    """Every code a ClientHello of `version` may offer, strongest first; never an SCSV.

    TLS 1.3: only TLS 1.3 suites. TLS 1.2: every pre-1.3 suite. SSLv3 to TLS 1.1: every pre-1.3
    suite that does not need TLS 1.2 (AEAD, SHA-256/384 MAC). Suites defined for TLS 1.0 only (ECC,
    PSK, SRP) stay in the SSLv3 offer: some servers pick them there, and a probe must not miss one.
    SSLv2: the 3-byte SSLv2 cipher kinds of SSL2_CIPHER_KINDS, which are no TLS suites at all.
    """
    if version is TlsVersion.SSLv2:
        return tuple(SSL2_CIPHER_KINDS)
    if version is TlsVersion.TLSv1_3:
        return tuple(s.code for s in _ORDERED_SUITES if s.tls13)
    limit = version_rank(version) if version is TlsVersion.TLSv1_2 else version_rank(TlsVersion.TLSv1_1)
    return tuple(
        s.code
        for s in _ORDERED_SUITES
        if not s.tls13 and "scsv" not in s.classes and version_rank(s.min_version) <= limit
    )


# --------------------------------------------------------------------------------------------------
# SSLv2 cipher kinds (3-byte codes, SSL 2.0 specification appendix C; 0x080080 from Netscape).
# --------------------------------------------------------------------------------------------------

SSL2_CIPHER_KINDS: dict[int, str] = {
    0x0700C0: "SSL_CK_DES_192_EDE3_CBC_WITH_MD5",
    0x010080: "SSL_CK_RC4_128_WITH_MD5",
    0x030080: "SSL_CK_RC2_128_CBC_WITH_MD5",
    0x050080: "SSL_CK_IDEA_128_CBC_WITH_MD5",
    0x080080: "SSL_CK_RC4_64_WITH_MD5",
    0x060040: "SSL_CK_DES_64_CBC_WITH_MD5",
    0x020080: "SSL_CK_RC4_128_EXPORT40_WITH_MD5",
    0x040080: "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5",
}

SSL2_EXPORT_KINDS: frozenset[int] = frozenset({0x020080, 0x040080})


def ssl2_cipher_name(kind: int) -> str:
    """Name of an SSLv2 cipher kind; unknown ones as "0x%06X"."""
    return SSL2_CIPHER_KINDS.get(kind, f"0x{kind:06X}")


# --------------------------------------------------------------------------------------------------
# Supported groups (IANA "TLS Supported Groups", RFC 8422, RFC 7919, RFC 8446 and later)
# --------------------------------------------------------------------------------------------------

NAMED_GROUPS: dict[int, str] = {
    1: "sect163k1",
    2: "sect163r1",
    3: "sect163r2",
    4: "sect193r1",
    5: "sect193r2",
    6: "sect233k1",
    7: "sect233r1",
    8: "sect239k1",
    9: "sect283k1",
    10: "sect283r1",
    11: "sect409k1",
    12: "sect409r1",
    13: "sect571k1",
    14: "sect571r1",
    15: "secp160k1",
    16: "secp160r1",
    17: "secp160r2",
    18: "secp192k1",
    19: "secp192r1",
    20: "secp224k1",
    21: "secp224r1",
    22: "secp256k1",
    23: "secp256r1",
    24: "secp384r1",
    25: "secp521r1",
    26: "brainpoolP256r1",
    27: "brainpoolP384r1",
    28: "brainpoolP512r1",
    29: "x25519",
    30: "x448",
    31: "brainpoolP256r1tls13",
    32: "brainpoolP384r1tls13",
    33: "brainpoolP512r1tls13",
    34: "GC256A",
    35: "GC256B",
    36: "GC256C",
    37: "GC256D",
    38: "GC512A",
    39: "GC512B",
    40: "GC512C",
    41: "curveSM2",
    256: "ffdhe2048",
    257: "ffdhe3072",
    258: "ffdhe4096",
    259: "ffdhe6144",
    260: "ffdhe8192",
    512: "MLKEM512",
    513: "MLKEM768",
    514: "MLKEM1024",
    4587: "SecP256r1MLKEM768",
    4588: "X25519MLKEM768",
    4589: "SecP384r1MLKEM1024",
    25497: "X25519Kyber768Draft00",
    25498: "SecP256r1Kyber768Draft00",
    65281: "arbitrary_explicit_prime_curves",
    65282: "arbitrary_explicit_char2_curves",
}


# Groups whose key exchange resists a quantum computer: ML-KEM alone or in a hybrid with ECDH
# (draft-connolly-tls-mlkem-key-agreement, draft-kwiatkowski-tls-ecdhe-mlkem, the Kyber drafts).
POST_QUANTUM_GROUPS: frozenset[int] = frozenset({512, 513, 514, 4587, 4588, 4589, 25497, 25498})

# Finite-field Diffie-Hellman groups of RFC 7919.
FFDHE_GROUPS: frozenset[int] = frozenset({256, 257, 258, 259, 260})


def group_name(code: int) -> str:
    """Name of a supported group; GREASE as "GREASE(0x0A0A)", unknown as "0x%04X"."""
    if code in NAMED_GROUPS:
        return NAMED_GROUPS[code]
    return _grease_label(code) if is_grease(code) else f"0x{code:04X}"


# --------------------------------------------------------------------------------------------------
# Signature schemes (IANA "TLS SignatureScheme", RFC 8446 4.2.3) and the TLS 1.2 hash/signature
# pairs of RFC 5246 7.4.1.4.1 that have no TLS 1.3 name (hash byte, signature byte).
# --------------------------------------------------------------------------------------------------

SIGNATURE_SCHEMES: dict[int, str] = {
    # RFC 5246 pairs: hash md5(1) sha1(2) sha224(3) sha256(4) sha384(5) sha512(6);
    # signature rsa(1) dsa(2) ecdsa(3).
    0x0101: "rsa_pkcs1_md5",
    0x0102: "dsa_md5",
    0x0103: "ecdsa_md5",
    0x0201: "rsa_pkcs1_sha1",
    0x0202: "dsa_sha1",
    0x0203: "ecdsa_sha1",
    0x0301: "rsa_pkcs1_sha224",
    0x0302: "dsa_sha224",
    0x0303: "ecdsa_sha224",
    0x0401: "rsa_pkcs1_sha256",
    0x0402: "dsa_sha256",
    0x0403: "ecdsa_secp256r1_sha256",
    0x0420: "rsa_pkcs1_sha256_legacy",
    0x0501: "rsa_pkcs1_sha384",
    0x0502: "dsa_sha384",
    0x0503: "ecdsa_secp384r1_sha384",
    0x0520: "rsa_pkcs1_sha384_legacy",
    0x0601: "rsa_pkcs1_sha512",
    0x0602: "dsa_sha512",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0620: "rsa_pkcs1_sha512_legacy",
    0x0704: "eccsi_sha256",
    0x0705: "iso_ibs1",
    0x0706: "iso_ibs2",
    0x0707: "iso_chinese_ibs",
    0x0708: "sm2sig_sm3",
    0x0709: "gostr34102012_256a",
    0x070A: "gostr34102012_256b",
    0x070B: "gostr34102012_256c",
    0x070C: "gostr34102012_256d",
    0x070D: "gostr34102012_512a",
    0x070E: "gostr34102012_512b",
    0x070F: "gostr34102012_512c",
    0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384",
    0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519",
    0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256",
    0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512",
    0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
    0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
    0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
    # RFC 9189: TLS 1.2 GOST pairs, hash "intrinsic"(8) with signature 64/65.
    0x0840: "gostr34102012_256",
    0x0841: "gostr34102012_512",
    0x0904: "mldsa44",
    0x0905: "mldsa65",
    0x0906: "mldsa87",
}


def signature_scheme_name(code: int) -> str:
    """Name of a signature scheme; GREASE as "GREASE(0x0A0A)", unknown as "0x%04X"."""
    if code in SIGNATURE_SCHEMES:
        return SIGNATURE_SCHEMES[code]
    return _grease_label(code) if is_grease(code) else f"0x{code:04X}"


# --------------------------------------------------------------------------------------------------
# Alerts (IANA "TLS Alerts"; SSLv3 no_certificate; RFC 8446 6)
# --------------------------------------------------------------------------------------------------

ALERT_LEVELS: dict[int, str] = {1: "warning", 2: "fatal"}

ALERT_DESCRIPTIONS: dict[int, str] = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    21: "decryption_failed",
    22: "record_overflow",
    30: "decompression_failure",
    40: "handshake_failure",
    41: "no_certificate",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    52: "too_many_cids_requested",
    60: "export_restriction",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    111: "certificate_unobtainable",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    114: "bad_certificate_hash_value",
    115: "unknown_psk_identity",
    116: "certificate_required",
    117: "general_error",
    120: "no_application_protocol",
    121: "ech_required",
}


def alert_name(code: int) -> str:
    """Name of an alert description; unknown ones as "alert(N)"."""
    return ALERT_DESCRIPTIONS.get(code, f"alert({code})")


def alert_level_name(code: int) -> str:
    """Name of an alert level; unknown ones as "level(N)"."""
    return ALERT_LEVELS.get(code, f"level({code})")


# --------------------------------------------------------------------------------------------------
# Extensions (IANA "TLS ExtensionType Values"), plus a few widely sent unregistered ones.
# --------------------------------------------------------------------------------------------------

EXTENSION_TYPES: dict[int, str] = {
    0: "server_name",
    1: "max_fragment_length",
    2: "client_certificate_url",
    3: "trusted_ca_keys",
    4: "truncated_hmac",
    5: "status_request",
    6: "user_mapping",
    7: "client_authz",
    8: "server_authz",
    9: "cert_type",
    10: "supported_groups",
    11: "ec_point_formats",
    12: "srp",
    13: "signature_algorithms",
    14: "use_srtp",
    15: "heartbeat",
    16: "application_layer_protocol_negotiation",
    17: "status_request_v2",
    18: "signed_certificate_timestamp",
    19: "client_certificate_type",
    20: "server_certificate_type",
    21: "padding",
    22: "encrypt_then_mac",
    23: "extended_master_secret",
    24: "token_binding",
    25: "cached_info",
    26: "tls_lts",
    27: "compress_certificate",
    28: "record_size_limit",
    29: "pwd_protect",
    30: "pwd_clear",
    31: "password_salt",
    32: "ticket_pinning",
    33: "tls_cert_with_extern_psk",
    34: "delegated_credential",
    35: "session_ticket",
    36: "TLMSP",
    37: "TLMSP_proxying",
    38: "TLMSP_delegate",
    39: "supported_ekt_ciphers",
    41: "pre_shared_key",
    42: "early_data",
    43: "supported_versions",
    44: "cookie",
    45: "psk_key_exchange_modes",
    47: "certificate_authorities",
    48: "oid_filters",
    49: "post_handshake_auth",
    50: "signature_algorithms_cert",
    51: "key_share",
    52: "transparency_info",
    53: "connection_id_deprecated",
    54: "connection_id",
    55: "external_id_hash",
    56: "external_session_id",
    57: "quic_transport_parameters",
    58: "ticket_request",
    59: "dnssec_chain",
    60: "sequence_number_encryption_algorithms",
    61: "rrc",
    62: "tls_flags",
    64768: "ech_outer_extensions",
    65037: "encrypted_client_hello",
    65281: "renegotiation_info",
    # Not in the IANA registry, but sent by deployed clients:
    13172: "next_protocol_negotiation",
    17513: "application_settings_old",
    17613: "application_settings",
    30031: "channel_id_old",
    30032: "channel_id",
}


def extension_name(code: int) -> str:
    """Name of an extension type; GREASE as "GREASE(0x0A0A)", unknown as "0x%04X"."""
    if code in EXTENSION_TYPES:
        return EXTENSION_TYPES[code]
    return _grease_label(code) if is_grease(code) else f"0x{code:04X}"


# --------------------------------------------------------------------------------------------------
# Record and handshake framing
# --------------------------------------------------------------------------------------------------


class ContentType(IntEnum):
    """TLS record content types (IANA "TLS ContentType")."""

    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23
    heartbeat = 24
    tls12_cid = 25
    ack = 26
    return_routability_check = 27


class HandshakeType(IntEnum):
    """Handshake message types (IANA "TLS HandshakeType")."""

    hello_request = 0
    client_hello = 1
    server_hello = 2
    hello_verify_request = 3
    new_session_ticket = 4
    end_of_early_data = 5
    hello_retry_request = 6  # draft TLS 1.3 only; RFC 8446 sends HRR as a server_hello
    encrypted_extensions = 8
    request_connection_id = 9
    new_connection_id = 10
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    client_certificate_request = 17
    finished = 20
    certificate_url = 21
    certificate_status = 22
    supplemental_data = 23
    key_update = 24
    compressed_certificate = 25
    ekt_key = 26
    next_protocol = 67  # NPN, never registered with IANA
    message_hash = 254


# SSLv2 record-level message types (SSL 2.0 specification).
SSL2_MT_ERROR = 0
SSL2_MT_CLIENT_HELLO = 1
SSL2_MT_SERVER_HELLO = 4

# RFC 8446 4.1.3: a ServerHello whose random is SHA-256("HelloRetryRequest") is a HelloRetryRequest.
HELLO_RETRY_REQUEST_RANDOM: bytes = bytes.fromhex(
    "CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C"
)

# RFC 8446 4.1.3: last 8 bytes of ServerHello.random from a TLS 1.3 server that negotiated lower.
DOWNGRADE_TLS12_SENTINEL: bytes = b"DOWNGRD\x01"  # negotiated TLS 1.2
DOWNGRADE_TLS11_SENTINEL: bytes = b"DOWNGRD\x00"  # negotiated TLS 1.1 or below


class ExtensionType(IntEnum):
    """The extension types tlsaudit builds or reads (names as in the IANA registry)."""

    server_name = 0
    status_request = 5
    supported_groups = 10
    ec_point_formats = 11
    signature_algorithms = 13
    application_layer_protocol_negotiation = 16
    heartbeat = 15
    padding = 21
    encrypt_then_mac = 22
    extended_master_secret = 23
    session_ticket = 35
    supported_versions = 43
    psk_key_exchange_modes = 45
    key_share = 51
    renegotiation_info = 0xFF01


# Hybrid post-quantum groups for TLS 1.3 (draft-ietf-tls-ecdhe-mlkem): X25519MLKEM768 and its siblings.
HYBRID_PQ_GROUPS: tuple[int, ...] = (0x11EC, 0x11EB, 0x11ED)
# Groups a TLS 1.3 ClientHello may offer (RFC 8446 4.2.7): the curves it kept, X25519/X448, FFDHE, and
# the hybrid post-quantum groups registered since.
# Further TLS 1.3-only post-quantum groups: pure ML-KEM (draft-connolly-tls-mlkem-key-agreement) and the
# withdrawn Kyber drafts (X25519Kyber768Draft00, SecP256r1Kyber768Draft00), still answered by some servers.
PURE_MLKEM_GROUPS: tuple[int, ...] = (0x0200, 0x0201, 0x0202)
KYBER_DRAFT_GROUPS: tuple[int, ...] = (0x6399, 0x639A)
TLS13_GROUPS: frozenset[int] = (
    frozenset({0x0017, 0x0018, 0x0019, 0x001D, 0x001E})
    | FFDHE_GROUPS
    | frozenset(HYBRID_PQ_GROUPS)
    | frozenset(PURE_MLKEM_GROUPS)
    | frozenset(KYBER_DRAFT_GROUPS)
)

# The content types a server's first flight may carry.
ALERT_LEVEL_WARNING = 1
ALERT_CLOSE_NOTIFY = 0
