"""The IANA registries: spot checks against RFC text, internal consistency, and two independent peers."""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tlsaudit.models import ALL_VERSIONS, TlsVersion
from tlsaudit.tls import constants as c
from tlsaudit.tls.cipher_suites import CIPHER_SUITE_ROWS, NON_IANA_CODES

SUITES = list(c.CIPHER_SUITES.values())
REAL_SUITES = [s for s in SUITES if "scsv" not in s.classes]

# (code, IANA name), each copied from the RFC that assigned it.
RFC_SUITES: list[tuple[int, str]] = [
    # RFC 5246 appendix A.5
    (0x0000, "TLS_NULL_WITH_NULL_NULL"),
    (0x0001, "TLS_RSA_WITH_NULL_MD5"),
    (0x0002, "TLS_RSA_WITH_NULL_SHA"),
    (0x003B, "TLS_RSA_WITH_NULL_SHA256"),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x000D, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA"),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    (0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"),
    (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5"),
    (0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256"),
    # RFC 4346 (export suites)
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    # RFC 5469 / RFC 2712
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA"),
    (0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA"),
    (0x001F, "TLS_KRB5_WITH_3DES_EDE_CBC_SHA"),
    (0x0026, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA"),
    # RFC 5288
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256"),
    # RFC 4492 / RFC 8422
    (0xC001, "TLS_ECDH_ECDSA_WITH_NULL_SHA"),
    (0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA"),
    # RFC 5289
    (0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0xC032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384"),
    # RFC 4279, RFC 5487, RFC 5489, RFC 6655, RFC 8442
    (0x008A, "TLS_PSK_WITH_RC4_128_SHA"),
    (0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256"),
    (0xC037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"),
    (0xC0AA, "TLS_PSK_DHE_WITH_AES_128_CCM_8"),
    (0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"),
    # RFC 5054, RFC 4162, RFC 5932, RFC 6209, RFC 6367
    (0xC01A, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA"),
    (0x0096, "TLS_RSA_WITH_SEED_CBC_SHA"),
    (0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"),
    (0xC03C, "TLS_RSA_WITH_ARIA_128_CBC_SHA256"),
    (0xC061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384"),
    (0xC08B, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384"),
    # RFC 6655, RFC 7251, RFC 8492
    (0xC09C, "TLS_RSA_WITH_AES_128_CCM"),
    (0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"),
    (0xC0B0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256"),
    # RFC 7905
    (0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCAE, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256"),
    # RFC 8446 appendix B.4
    (0x1301, "TLS_AES_128_GCM_SHA256"),
    (0x1302, "TLS_AES_256_GCM_SHA384"),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
    (0x1304, "TLS_AES_128_CCM_SHA256"),
    (0x1305, "TLS_AES_128_CCM_8_SHA256"),
    # RFC 8998, RFC 9150, RFC 9189, RFC 9367
    (0x00C6, "TLS_SM4_GCM_SM3"),
    (0x00C7, "TLS_SM4_CCM_SM3"),
    (0xC0B4, "TLS_SHA256_SHA256"),
    (0xC0B5, "TLS_SHA384_SHA384"),
    (0xC100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC"),
    (0xC103, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L"),
    # RFC 5746, RFC 7507
    (0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
    (0x5600, "TLS_FALLBACK_SCSV"),
]


@pytest.mark.parametrize(("code", "name"), RFC_SUITES)
def test_suite_codes_match_rfc_text(code: int, name: str) -> None:
    assert c.suite_name(code) == name
    assert c.CIPHER_SUITES[code].code == code


def test_legacy_codes_present() -> None:
    assert c.suite_name(0x0060) == "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5"
    assert c.suite_name(0x0064) == "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA"
    assert c.suite_name(0x0066) == "TLS_DHE_DSS_WITH_RC4_128_SHA"
    assert c.suite_name(0xFEFF) == "SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA"
    assert c.suite_name(0xFFE0) == "SSL_RSA_OLDFIPS_WITH_3DES_EDE_CBC_SHA"
    for code in (0xFEFE, 0xFFE1, *range(0x0060, 0x0067)):
        assert code in c.CIPHER_SUITES
    assert "export" in c.classify(0x0062)
    assert "export" not in c.classify(0x0066)
    assert set(c.CIPHER_SUITES) >= NON_IANA_CODES


def test_scsvs_are_marked() -> None:
    for code in (0x00FF, 0x5600):
        assert c.classify(code) == frozenset({"scsv"})
    assert {0x00FF, 0x5600} == c.SCSV_CODES
    assert {s.code for s in SUITES if "scsv" in s.classes} == {0x00FF, 0x5600}


def test_suite_parts_for_known_suites() -> None:
    s = c.CIPHER_SUITES[0xC02F]
    assert (s.kex, s.auth, s.cipher, s.cipher_bits, s.mac) == ("ECDHE", "RSA", "AES_128_GCM", 128, "AEAD")
    assert s.openssl_name == "ECDHE-RSA-AES128-GCM-SHA256"
    assert s.min_version == TlsVersion.TLSv1_2 and not s.tls13
    assert s.classes == {"aead", "forward-secrecy"}
    s = c.CIPHER_SUITES[0x000A]
    assert (s.kex, s.auth, s.cipher, s.cipher_bits, s.mac) == ("RSA", "RSA", "3DES_EDE_CBC", 112, "SHA1")
    assert s.openssl_name == "DES-CBC3-SHA"
    assert s.min_version == TlsVersion.SSLv3
    assert s.classes == {"3des", "cbc", "no-forward-secrecy", "sha1-mac"}
    s = c.CIPHER_SUITES[0x1302]
    assert (s.kex, s.auth, s.cipher, s.cipher_bits) == ("ANY", "ANY", "AES_256_GCM", 256)
    assert s.tls13 and s.min_version == TlsVersion.TLSv1_3
    assert s.classes == {"aead", "forward-secrecy", "tls13"}
    s = c.CIPHER_SUITES[0x0003]
    assert s.classes == {"export", "rc4", "md5", "no-forward-secrecy"} and s.cipher_bits == 40
    s = c.CIPHER_SUITES[0x0034]
    assert s.auth == "anon" and {"anon", "cbc", "sha1-mac"} <= s.classes
    assert c.CIPHER_SUITES[0xC0B4].classes == {"null", "tls13", "forward-secrecy"}
    assert c.CIPHER_SUITES[0x0000].classes >= {"null", "anon", "no-forward-secrecy"}
    # RFC 5487 3.2: PSK CBC suites with SHA-256 work in TLS 1.0 too (OpenSSL agrees)
    assert c.CIPHER_SUITES[0x00AE].min_version == TlsVersion.TLSv1_0


def test_suite_lookup_by_name() -> None:
    assert c.suite_by_name("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384") is c.CIPHER_SUITES[0xC02C]
    assert c.suite_by_name("ECDHE-ECDSA-AES256-GCM-SHA384") is c.CIPHER_SUITES[0xC02C]
    assert c.suite_by_name("NO-SUCH-SUITE") is None
    # OpenSSL 1.0.2 spelling of a suite OpenSSL 1.1.0 renamed
    assert c.suite_by_name("EDH-RSA-DES-CBC3-SHA") is c.CIPHER_SUITES[0x0016]
    assert c.CIPHER_SUITES[0x0016].openssl_name == "DHE-RSA-DES-CBC3-SHA"
    assert c.CIPHER_SUITES[0x0015].openssl_name == "EDH-RSA-DES-CBC-SHA"


def test_counts_are_plausible() -> None:
    assert len(c.CIPHER_SUITES) >= 330
    iana = [code for code in c.CIPHER_SUITES if code not in NON_IANA_CODES]
    assert len(iana) >= 340
    assert len(CIPHER_SUITE_ROWS) == len(c.CIPHER_SUITES), "a code appears twice in the table"
    assert len(c.NAMED_GROUPS) >= 50
    assert len(c.SIGNATURE_SCHEMES) >= 40
    assert len(c.EXTENSION_TYPES) >= 60
    assert len(c.ALERT_DESCRIPTIONS) >= 35


def test_names_are_unique() -> None:
    for registry in (c.NAMED_GROUPS, c.SIGNATURE_SCHEMES, c.EXTENSION_TYPES, c.ALERT_DESCRIPTIONS):
        names = list(registry.values())
        assert len(names) == len(set(names))
    suite_names = [s.name for s in SUITES]
    assert len(suite_names) == len(set(suite_names))
    openssl_names = [s.openssl_name for s in SUITES if s.openssl_name]
    assert len(openssl_names) == len(set(openssl_names))
    assert len(openssl_names) >= 200


def test_codes_fit_their_fields() -> None:
    assert all(0 <= s.code <= 0xFFFF for s in SUITES)
    assert all(0 <= code <= 0xFFFF for code in c.NAMED_GROUPS)
    assert all(0 <= code <= 0xFFFF for code in c.SIGNATURE_SCHEMES)
    assert all(0 <= code <= 0xFFFF for code in c.EXTENSION_TYPES)
    assert all(0 <= code <= 0xFF for code in c.ALERT_DESCRIPTIONS)
    assert all(0x010000 <= kind <= 0xFFFFFF for kind in c.SSL2_CIPHER_KINDS)
    assert not any(c.is_grease(code) for code in c.CIPHER_SUITES)


# ------------------------------------------------------------------------------------------------
# Classification consistency over the whole table
# ------------------------------------------------------------------------------------------------


def _bulk(name: str) -> str:
    return name.rsplit("_WITH_", maxsplit=1)[-1]


def test_classes_use_the_vocabulary() -> None:
    for s in SUITES:
        assert s.classes <= c.SUITE_CLASSES, s.name
        assert s.classes, s.name


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_suite_classification_is_consistent(suite: c.CipherSuite) -> None:
    name, cls = suite.name, suite.classes
    if "scsv" in cls:
        assert cls == {"scsv"} and name.endswith("_SCSV")
        return
    bulk = _bulk(name)
    assert ("export" in cls) == ("EXPORT" in name or "_40" in bulk or "DES40" in bulk)
    assert ("anon" in cls) == ("_anon_" in name or name == "TLS_NULL_WITH_NULL_NULL")
    assert ("null" in cls) == (bulk.startswith("NULL_") or name in ("TLS_SHA256_SHA256", "TLS_SHA384_SHA384"))
    assert ("null" in cls) == (suite.cipher == "NULL") == (suite.cipher_bits == 0)
    is_aead = any(t in bulk for t in ("_GCM", "_CCM", "CHACHA20_POLY1305", "_MGM_", "AEGIS"))
    assert ("aead" in cls) == is_aead
    if is_aead:
        assert suite.mac == "AEAD"
        assert c.version_rank(suite.min_version) >= c.version_rank(TlsVersion.TLSv1_2)
    assert ("cbc" in cls) == ("_CBC" in bulk)
    assert not {"cbc", "aead"} <= cls
    assert ("rc4" in cls) == ("RC4" in bulk)
    assert ("3des" in cls) == ("3DES" in bulk)
    assert ("des" in cls) == ("DES" in bulk and "3DES" not in bulk)
    assert ("idea" in cls) == ("IDEA" in bulk)
    assert ("rc2" in cls) == ("RC2" in bulk)
    assert ("seed" in cls) == ("SEED" in bulk)
    assert ("md5" in cls) == name.endswith("_MD5")
    assert ("sha1-mac" in cls) == name.endswith("_SHA")
    assert ("psk" in cls) == ("PSK" in name)
    assert ("srp" in cls) == ("_SRP_" in name)
    assert ("gost" in cls) == ("GOST" in name)
    assert ("forward-secrecy" in cls) != ("no-forward-secrecy" in cls)
    kex_part = name.split("_WITH_")[0] if "_WITH_" in name else ""
    if re.search(r"_(EC)?DHE_", kex_part + "_") or "_anon" in kex_part or "SRP" in kex_part:
        assert "forward-secrecy" in cls
    if re.fullmatch(
        r"(TLS|SSL)_(RSA|DH_DSS|DH_RSA|ECDH_ECDSA|ECDH_RSA|PSK|RSA_PSK|KRB5)(_EXPORT\w*|_\w*FIPS)?", kex_part
    ):
        assert "no-forward-secrecy" in cls
    assert suite.tls13 == ("tls13" in cls) == (suite.min_version == TlsVersion.TLSv1_3)
    if suite.tls13:
        assert suite.kex == suite.auth == "ANY"
    if (name.endswith(("_SHA256", "_SHA384")) and "PSK" not in name) or "ARIA" in name:
        assert c.version_rank(suite.min_version) >= c.version_rank(TlsVersion.TLSv1_2)
    if bulk.endswith("_SHA") or bulk.endswith("_MD5"):
        assert c.version_rank(suite.min_version) <= c.version_rank(TlsVersion.TLSv1_0)


# ------------------------------------------------------------------------------------------------
# What a ClientHello of each version offers
# ------------------------------------------------------------------------------------------------


def test_tls13_suites_only_in_tls13_offer() -> None:
    tls13 = c.suites_for_version(TlsVersion.TLSv1_3)
    assert set(tls13) == {s.code for s in SUITES if s.tls13}
    assert tls13[:3] == (0x1302, 0x1301, 0x1303)
    for version in (TlsVersion.SSLv3, TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2):
        assert not set(c.suites_for_version(version)) & set(tls13), version


def test_sslv3_offer_has_no_tls12_only_suite() -> None:
    offer = c.suites_for_version(TlsVersion.SSLv3)
    assert offer
    for code in offer:
        suite = c.CIPHER_SUITES[code]
        assert "aead" not in suite.classes, suite.name
        assert suite.min_version not in (TlsVersion.TLSv1_2, TlsVersion.TLSv1_3), suite.name
    assert 0x000A in offer and 0x0004 in offer and 0x002F in offer
    assert 0xC013 in offer  # defined for TLS 1.0, still offered: a server may pick it
    assert 0x003C not in offer and 0xC02F not in offer


def test_offers_are_complete_and_scsv_free() -> None:
    tls12 = c.suites_for_version(TlsVersion.TLSv1_2)
    assert set(tls12) == {s.code for s in REAL_SUITES if not s.tls13}
    for version in ALL_VERSIONS:
        offer = c.suites_for_version(version)
        assert len(offer) == len(set(offer))
        assert not set(offer) & c.SCSV_CODES
    assert set(c.suites_for_version(TlsVersion.TLSv1_0)) <= set(tls12)
    assert c.suites_for_version(TlsVersion.SSLv3) == c.suites_for_version(TlsVersion.TLSv1_1)
    assert c.suites_for_version(TlsVersion.SSLv2) == tuple(c.SSL2_CIPHER_KINDS)


def test_offers_are_strong_first() -> None:
    tls12 = c.suites_for_version(TlsVersion.TLSv1_2)
    order = [0xC02F, 0xC013, 0x009C, 0x002F, 0x000A, 0x0005, 0x0003, 0x0034, 0x0001]
    positions = [tls12.index(code) for code in order]
    assert positions == sorted(positions)
    assert c.CIPHER_SUITES[tls12[0]].classes >= {"aead", "forward-secrecy"}
    assert "null" in c.CIPHER_SUITES[tls12[-1]].classes
    sslv3 = c.suites_for_version(TlsVersion.SSLv3)
    assert sslv3.index(0x0039) < sslv3.index(0x0035) < sslv3.index(0x000A) < sslv3.index(0x0004)


# ------------------------------------------------------------------------------------------------
# Helpers and the other registries
# ------------------------------------------------------------------------------------------------


def test_versions() -> None:
    assert {
        TlsVersion.SSLv2: 0x0002,
        TlsVersion.SSLv3: 0x0300,
        TlsVersion.TLSv1_0: 0x0301,
        TlsVersion.TLSv1_1: 0x0302,
        TlsVersion.TLSv1_2: 0x0303,
        TlsVersion.TLSv1_3: 0x0304,
    } == c.VERSION_CODES
    for version, code in c.VERSION_CODES.items():
        assert c.version_from_code(code) is version
    assert c.version_from_code(0x7F1C) is None  # TLS 1.3 draft 28
    assert c.version_from_code(0xFEFD) is None  # DTLS 1.2
    assert c.version_from_code(0x0A0A) is None
    assert c.version_rank(TlsVersion.SSLv3) < c.version_rank(TlsVersion.TLSv1_3)


def test_fallback_names() -> None:
    assert c.suite_name(0x1234) == "0x1234"
    assert c.suite_name(0x0A0A) == "GREASE(0x0A0A)"
    assert c.classify(0x1234) == {"unknown"}
    assert c.group_name(0x1234) == "0x1234"
    assert c.group_name(0xFAFA) == "GREASE(0xFAFA)"
    assert c.signature_scheme_name(0x0B0B) == "0x0B0B"  # 0x?A?A only are GREASE
    assert c.signature_scheme_name(0x1A1A) == "GREASE(0x1A1A)"
    assert c.signature_scheme_name(0xFE00) == "0xFE00"
    assert c.extension_name(0x3A3A) == "GREASE(0x3A3A)"
    assert c.extension_name(0x0063) == "0x0063"
    assert c.alert_name(200) == "alert(200)"
    assert c.alert_level_name(2) == "fatal"
    assert c.alert_level_name(7) == "level(7)"
    assert c.ssl2_cipher_name(0x010080) == "SSL_CK_RC4_128_WITH_MD5"
    assert c.ssl2_cipher_name(0xFF0800) == "0xFF0800"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (23, "secp256r1"),  # RFC 8422 5.1.1
        (24, "secp384r1"),
        (25, "secp521r1"),
        (29, "x25519"),
        (30, "x448"),
        (1, "sect163k1"),
        (26, "brainpoolP256r1"),  # RFC 7027
        (31, "brainpoolP256r1tls13"),  # RFC 8734
        (256, "ffdhe2048"),  # RFC 7919
        (260, "ffdhe8192"),
        (0x11EB, "SecP256r1MLKEM768"),
        (0x11EC, "X25519MLKEM768"),
        (0x11ED, "SecP384r1MLKEM1024"),
        (0x0201, "MLKEM768"),
        (41, "curveSM2"),  # RFC 8998
    ],
)
def test_group_names(code: int, name: str) -> None:
    assert c.group_name(code) == name


def test_group_families() -> None:
    assert set(c.NAMED_GROUPS) >= c.POST_QUANTUM_GROUPS
    assert {c.NAMED_GROUPS[g] for g in c.FFDHE_GROUPS} == {
        f"ffdhe{n}" for n in (2048, 3072, 4096, 6144, 8192)
    }
    assert all("MLKEM" in c.NAMED_GROUPS[g] or "Kyber" in c.NAMED_GROUPS[g] for g in c.POST_QUANTUM_GROUPS)
    assert 29 not in c.POST_QUANTUM_GROUPS


def test_suite_class_vocabulary() -> None:
    assert {
        "null", "anon", "export", "rc4", "3des", "des", "idea", "rc2", "seed", "cbc", "aead",
        "no-forward-secrecy", "forward-secrecy", "md5", "sha1-mac", "psk", "srp", "gost", "scsv",
        "tls13", "unknown",
    } == c.SUITE_CLASSES  # fmt: skip


@pytest.mark.parametrize(
    ("code", "name"),
    [
        # RFC 8446 4.2.3
        (0x0401, "rsa_pkcs1_sha256"),
        (0x0501, "rsa_pkcs1_sha384"),
        (0x0601, "rsa_pkcs1_sha512"),
        (0x0403, "ecdsa_secp256r1_sha256"),
        (0x0503, "ecdsa_secp384r1_sha384"),
        (0x0603, "ecdsa_secp521r1_sha512"),
        (0x0804, "rsa_pss_rsae_sha256"),
        (0x0807, "ed25519"),
        (0x0808, "ed448"),
        (0x0809, "rsa_pss_pss_sha256"),
        (0x080B, "rsa_pss_pss_sha512"),
        (0x0201, "rsa_pkcs1_sha1"),
        (0x0203, "ecdsa_sha1"),
        # RFC 5246 7.4.1.4.1 pairs (hash, signature)
        (0x0101, "rsa_pkcs1_md5"),
        (0x0202, "dsa_sha1"),
        (0x0301, "rsa_pkcs1_sha224"),
        (0x0303, "ecdsa_sha224"),
        (0x0708, "sm2sig_sm3"),  # RFC 8998
    ],
)
def test_signature_scheme_names(code: int, name: str) -> None:
    assert c.signature_scheme_name(code) == name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (0, "close_notify"),
        (10, "unexpected_message"),
        (20, "bad_record_mac"),
        (40, "handshake_failure"),
        (42, "bad_certificate"),
        (47, "illegal_parameter"),
        (48, "unknown_ca"),
        (50, "decode_error"),
        (70, "protocol_version"),
        (71, "insufficient_security"),
        (80, "internal_error"),
        (86, "inappropriate_fallback"),  # RFC 7507
        (90, "user_canceled"),
        (109, "missing_extension"),
        (110, "unsupported_extension"),
        (112, "unrecognized_name"),  # RFC 6066
        (116, "certificate_required"),
        (120, "no_application_protocol"),  # RFC 7301
    ],
)
def test_alert_names(code: int, name: str) -> None:
    assert c.alert_name(code) == name


def test_alert_levels() -> None:
    assert c.ALERT_LEVELS == {1: "warning", 2: "fatal"}


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (0, "server_name"),
        (1, "max_fragment_length"),
        (5, "status_request"),
        (10, "supported_groups"),
        (11, "ec_point_formats"),
        (13, "signature_algorithms"),
        (16, "application_layer_protocol_negotiation"),
        (18, "signed_certificate_timestamp"),
        (21, "padding"),
        (22, "encrypt_then_mac"),
        (23, "extended_master_secret"),
        (35, "session_ticket"),
        (41, "pre_shared_key"),
        (42, "early_data"),
        (43, "supported_versions"),
        (44, "cookie"),
        (45, "psk_key_exchange_modes"),
        (47, "certificate_authorities"),
        (49, "post_handshake_auth"),
        (50, "signature_algorithms_cert"),
        (51, "key_share"),
        (57, "quic_transport_parameters"),
        (0xFE0D, "encrypted_client_hello"),
        (0xFF01, "renegotiation_info"),
    ],
)
def test_extension_names(code: int, name: str) -> None:
    assert c.extension_name(code) == name


def test_handshake_and_content_types() -> None:
    h = c.HandshakeType
    expected = {
        "hello_request": 0,
        "client_hello": 1,
        "server_hello": 2,
        "new_session_ticket": 4,
        "end_of_early_data": 5,
        "hello_retry_request": 6,
        "encrypted_extensions": 8,
        "certificate": 11,
        "server_key_exchange": 12,
        "certificate_request": 13,
        "server_hello_done": 14,
        "certificate_verify": 15,
        "client_key_exchange": 16,
        "finished": 20,
        "certificate_status": 22,
        "key_update": 24,
        "message_hash": 254,
    }
    for name, value in expected.items():
        assert h[name] == value
    content_types = {t.name: int(t) for t in c.ContentType}
    assert content_types["change_cipher_spec"] == 20
    assert content_types["alert"] == 21
    assert content_types["handshake"] == 22
    assert content_types["application_data"] == 23
    assert content_types["heartbeat"] == 24


def test_grease() -> None:
    # RFC 8701 section 2: {0x0A,0x0A}, {0x1A,0x1A}, ... {0xFA,0xFA}
    assert sorted(c.GREASE_VALUES) == [0x0A0A + 0x1010 * i for i in range(16)]
    assert c.is_grease(0x0A0A) and c.is_grease(0xFAFA) and c.is_grease(0x7A7A)
    assert not c.is_grease(0x0A1A) and not c.is_grease(0x1301) and not c.is_grease(0x0000)


def test_hello_retry_request_random_and_downgrade_sentinels() -> None:
    # RFC 8446 4.1.3 prints the HRR random in hex; it is SHA-256 of "HelloRetryRequest".
    rfc_text = """CF 21 AD 74 E5 9A 61 11 BE 1D 8C 02 1E 65 B8 91
                  C2 A2 11 16 7A BB 8C 5E 07 9E 09 E2 C8 A8 33 9C"""
    assert bytes.fromhex(rfc_text) == c.HELLO_RETRY_REQUEST_RANDOM
    assert hashlib.sha256(b"HelloRetryRequest").digest() == c.HELLO_RETRY_REQUEST_RANDOM
    assert bytes.fromhex("44 4F 57 4E 47 52 44 01") == c.DOWNGRADE_TLS12_SENTINEL
    assert bytes.fromhex("44 4F 57 4E 47 52 44 00") == c.DOWNGRADE_TLS11_SENTINEL


def test_ssl2_cipher_kinds() -> None:
    # SSL 2.0 specification, appendix C
    assert c.SSL2_CIPHER_KINDS[0x010080] == "SSL_CK_RC4_128_WITH_MD5"
    assert c.SSL2_CIPHER_KINDS[0x020080] == "SSL_CK_RC4_128_EXPORT40_WITH_MD5"
    assert c.SSL2_CIPHER_KINDS[0x030080] == "SSL_CK_RC2_128_CBC_WITH_MD5"
    assert c.SSL2_CIPHER_KINDS[0x040080] == "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5"
    assert c.SSL2_CIPHER_KINDS[0x050080] == "SSL_CK_IDEA_128_CBC_WITH_MD5"
    assert c.SSL2_CIPHER_KINDS[0x060040] == "SSL_CK_DES_64_CBC_WITH_MD5"
    assert c.SSL2_CIPHER_KINDS[0x0700C0] == "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
    assert c.SSL2_CIPHER_KINDS[0x080080] == "SSL_CK_RC4_64_WITH_MD5"
    assert {0x020080, 0x040080} == c.SSL2_EXPORT_KINDS


def test_modules_do_no_io() -> None:
    tls_dir = Path(c.__file__).parent
    for module in ("constants.py", "cipher_suites.py"):
        tree = ast.parse((tls_dir / module).read_text())
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert not imported & {"socket", "asyncio", "ssl", "subprocess", "selectors"}, module


# ------------------------------------------------------------------------------------------------
# Cross-checks against independent implementations installed here
# ------------------------------------------------------------------------------------------------


def test_openssl_names_and_codes_match_local_openssl() -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl command not installed")
    out = subprocess.run(
        [openssl, "ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    seen = 0
    for line in out.splitlines():
        match = re.match(r"\s*0x([0-9A-F]{2}),0x([0-9A-F]{2})\s+-\s+(\S+)", line)
        if not match:
            continue
        code = int(match.group(1) + match.group(2), 16)
        assert code in c.CIPHER_SUITES, line
        assert c.CIPHER_SUITES[code].openssl_name == match.group(3), line
        seen += 1
    assert seen >= 50


def test_names_agree_with_tlslite() -> None:
    constants = pytest.importorskip("tlslite.constants")
    checked = 0
    for attr, value in vars(constants.CipherSuite).items():
        if not (attr.startswith("TLS_") and isinstance(value, int)) or value not in c.CIPHER_SUITES:
            continue
        if value in NON_IANA_CODES:
            continue
        ours = c.CIPHER_SUITES[value].name
        # tlslite-ng also keeps aliases (e.g. draft names) for one code; one of them must be ours
        aliases = {
            k.upper() for k, v in vars(constants.CipherSuite).items() if v == value and k.startswith("TLS_")
        }
        assert ours.upper() in aliases, (hex(value), ours, aliases)
        checked += 1
    assert checked >= 80
