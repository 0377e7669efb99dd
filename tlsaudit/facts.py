"""Named facts: the vocabulary rules are written in, and how each subject turns into it.

A rule may only name facts declared here (loading is strict). Each section below belongs to one collector.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from tlsaudit import runtime_kinds
from tlsaudit.models import (
    LEGACY_VERSIONS,
    MODERN_VERSIONS,
    CaptureFacts,
    CertificateInfo,
    CipherSuiteResult,
    EndpointFacts,
    FactValue,
    FlawStatus,
    HttpOutcome,
    ProtocolStatus,
    Readiness,
    ReasonCode,
    RuntimeFacts,
    SimulationResult,
    TlsVersion,
)
from tlsaudit.tls.constants import HYBRID_PQ_GROUPS, NAMED_GROUPS


@dataclass(frozen=True, slots=True, kw_only=True)
class FactSpec:
    type: str  # "str" | "int" | "bool" | "list" | "version"
    doc: str
    scheme: str = "plain"  # version scheme for type "version" (see rules/README.md)


# ---------------------------------------------------------------- endpoint: protocols
ENDPOINT_FACTS: dict[str, FactSpec] = {
    **{
        f"protocol.{v.value}": FactSpec(
            type="str", doc=f"accepted or rejected for {v.value}; unknown if undetermined"
        )
        for v in TlsVersion
    },
    "accepted_versions": FactSpec(type="list", doc="versions the endpoint accepted"),
    "highest_version": FactSpec(type="str", doc="highest version accepted"),
    "modern_accepted": FactSpec(type="bool", doc="TLS 1.2 or TLS 1.3 accepted"),
    "legacy_accepted": FactSpec(type="bool", doc="SSLv2, SSLv3, TLS 1.0 or TLS 1.1 accepted"),
    "reachable": FactSpec(
        type="bool",
        doc="at least one probe reached a TLS (or SSL) speaker; false when none did (and STARTTLS was "
        "not refused)",
    ),
    "connect_error": FactSpec(
        type="str", doc="why no probe reached a TLS speaker, with a hint when a plain-text banner was seen"
    ),
    "starttls": FactSpec(type="str", doc="STARTTLS protocol used, if any"),
    "port": FactSpec(type="int", doc="TCP port"),
    "client_certificate": FactSpec(
        type="str",
        doc="requested or required when the server asks for a client certificate, none when it does not"
        " (unknown when no handshake got that far)",
    ),
}

# ---------------------------------------------------------------- endpoint: STARTTLS
STARTTLS_FACTS: dict[str, FactSpec] = {
    "starttls.refused": FactSpec(
        type="bool", doc="the server refused STARTTLS (unknown when STARTTLS was not used)"
    ),
    "starttls.refusal": FactSpec(type="str", doc="what the server answered when it refused STARTTLS"),
}

# ---------------------------------------------------------------- endpoint: certificate
CERTIFICATE_FACTS: dict[str, FactSpec] = {
    "certificate.subject": FactSpec(type="str", doc="subject DN of the leaf"),
    "certificate.issuer": FactSpec(type="str", doc="issuer DN of the leaf"),
    "certificate.names": FactSpec(type="list", doc="subjectAltName entries (DNS:..., IP:...)"),
    "certificate.not_after": FactSpec(type="str", doc="notAfter of the leaf (ISO 8601, UTC)"),
    "certificate.not_before": FactSpec(type="str", doc="notBefore of the leaf (ISO 8601, UTC)"),
    "certificate.days_left": FactSpec(
        type="int", doc="whole days until notAfter; once expired, minus the whole days since notAfter"
    ),
    "certificate.expired": FactSpec(type="bool", doc="notAfter is in the past"),
    "certificate.expired_ago": FactSpec(
        type="str", doc='how long ago the leaf expired, in words ("36 days ago"); unknown if it has not'
    ),
    "certificate.not_yet_valid": FactSpec(type="bool", doc="notBefore is in the future"),
    "certificate.trusted": FactSpec(
        type="bool",
        doc="the chain validates to a trusted root (system store + --ca-file) as OpenSSL-based clients "
        "(curl, Python ssl) decide; dates and name judged apart",
    ),
    "certificate.trust_error": FactSpec(type="str", doc="why path validation failed, in plain words"),
    "certificate.profile_issues": FactSpec(
        type="list",
        doc="RFC 5280 requirements a trusted chain does not meet, which strict verifiers refuse "
        "(Python 3.13+, openssl -x509_strict, cryptography)",
    ),
    "certificate.self_signed": FactSpec(type="bool", doc="the leaf is self-signed"),
    "certificate.hostname_match": FactSpec(
        type="bool", doc="the leaf's subjectAltName covers the name scanned"
    ),
    "certificate.key_type": FactSpec(type="str", doc="RSA, EC, Ed25519, Ed448, DSA"),
    "certificate.key_bits": FactSpec(type="int", doc="public key size in bits"),
    "certificate.signature_hash": FactSpec(
        type="str", doc="hash of the leaf signature (sha256, sha1, md5, ...; intrinsic for EdDSA)"
    ),
    "certificate.chain_signature_hashes": FactSpec(
        type="list", doc="hashes of the signatures on every certificate sent except self-signed roots"
    ),
    "certificate.chain_complete": FactSpec(
        type="bool", doc="the server sent every intermediate needed (unknown under an unknown root)"
    ),
    "certificate.chain_in_order": FactSpec(type="bool", doc="each certificate is signed by the next one"),
}

# ---------------------------------------------------------------- endpoint: cipher suites
CIPHER_SUITE_FACTS: dict[str, FactSpec] = {
    "cipher_suites.accepted": FactSpec(type="list", doc="every suite accepted, any version (IANA names)"),
    "cipher_suites.classes": FactSpec(
        type="list",
        doc="classes of the accepted suites: null anon export rc4 des 3des idea rc2 seed cbc aead "
        "forward-secrecy no-forward-secrecy md5 sha1-mac psk srp gost tls13",
    ),
    "cipher_suites.server_preference": FactSpec(type="bool", doc="the server imposes its own order"),
    "cipher_suites.forward_secrecy": FactSpec(
        type="bool", doc="at least one accepted suite has forward secrecy"
    ),
    "cipher_suites.tls12_aead": FactSpec(
        type="bool", doc="TLS 1.2 accepts an AEAD suite (unknown when TLS 1.2 was not enumerated)"
    ),
    "cipher_suites.outside_mozilla_intermediate": FactSpec(
        type="list",
        doc="accepted suites outside Mozilla's intermediate configuration (6.0: no DHE)",
    ),
}

# ---------------------------------------------------------------- endpoint: key exchange and handshake
KEY_EXCHANGE_FACTS: dict[str, FactSpec] = {
    **{
        f"key_exchange.groups.{v.value}": FactSpec(
            type="list", doc=f"named groups {v.value} accepts (IANA names; unknown when not probed)"
        )
        for v in (TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2, TlsVersion.TLSv1_3)
    },
    "key_exchange.groups": FactSpec(type="list", doc="named groups accepted by any version"),
    "key_exchange.pq_hybrid": FactSpec(
        type="bool",
        doc="TLS 1.3 negotiates a hybrid post-quantum group (X25519MLKEM768, SecP256r1MLKEM768, ...)",
    ),
    "key_exchange.pq_hello_retry": FactSpec(
        type="bool",
        doc="the server asks for a hybrid share (HelloRetryRequest) when offered only classical ones",
    ),
    "key_exchange.pq_preferred": FactSpec(
        type="bool", doc="the server picks X25519MLKEM768 when the client sends that share and an X25519 one"
    ),
    "key_exchange.dh_bits": FactSpec(
        type="int", doc="smallest finite-field DH group accepted, in bits (unknown when no DHE is accepted)"
    ),
    "key_exchange.dhe_accepted": FactSpec(type="bool", doc="a DHE suite or an FFDHE group is accepted"),
    "key_exchange.min_ec_bits": FactSpec(
        type="int", doc="size in bits of the smallest elliptic curve accepted (unknown when none)"
    ),
    "key_exchange.forward_secrecy": FactSpec(
        type="bool", doc="every key exchange accepted, on every version, is ephemeral"
    ),
    "key_exchange.static_key_exchange": FactSpec(
        type="list", doc="versions accepting RSA or static (EC)DH key exchange (no forward secrecy)"
    ),
    "key_exchange.large_hello_tolerant": FactSpec(
        type="bool", doc="a browser-sized ClientHello (post-quantum key share, over 1,200 bytes) is answered"
    ),
    "tls13_accepted": FactSpec(type="bool", doc="TLS 1.3 accepted"),
}

HANDSHAKE_FACTS: dict[str, FactSpec] = {
    "handshake.applies": FactSpec(
        type="bool", doc="SSLv3 to TLS 1.2 accepted (the handshake.* facts concern those versions)"
    ),
    "handshake.secure_renegotiation": FactSpec(
        type="bool", doc="RFC 5746 renegotiation_info in the ServerHello"
    ),
    "handshake.client_renegotiation": FactSpec(
        type="bool", doc="the server completes a renegotiation the client starts"
    ),
    "handshake.fallback_applies": FactSpec(type="bool", doc="two or more versions are accepted"),
    "handshake.fallback_scsv": FactSpec(
        type="bool", doc="a fallback hello with TLS_FALLBACK_SCSV is refused (inappropriate_fallback)"
    ),
    "handshake.compression": FactSpec(type="bool", doc="TLS compression (DEFLATE) accepted"),
    "handshake.extended_master_secret": FactSpec(type="bool", doc="RFC 7627 extended master secret"),
    "handshake.encrypt_then_mac": FactSpec(
        type="bool", doc="RFC 7366 encrypt-then-MAC with CBC suites (unknown without CBC suites)"
    ),
    "handshake.cbc_accepted": FactSpec(type="bool", doc="a CBC suite is accepted (below TLS 1.3)"),
    "handshake.session_id_resumption": FactSpec(type="bool", doc="sessions resume by session ID"),
    "handshake.session_ticket_resumption": FactSpec(type="bool", doc="sessions resume by ticket (RFC 5077)"),
    "handshake.ticket_lifetime_hint": FactSpec(type="int", doc="session ticket lifetime hint, in seconds"),
}

_FLAW_NAMES = {
    "heartbleed": "Heartbleed (CVE-2014-0160)",
    "ccs_injection": "CCS injection (CVE-2014-0224)",
    "robot": "ROBOT (Bleichenbacher padding oracle)",
}
KNOWN_FLAW_FACTS: dict[str, FactSpec] = {
    **{
        f"known_flaws.{key}": FactSpec(
            type="str",
            doc=f"{title}: vulnerable, not-vulnerable or not-applicable (unknown when not checked or "
            "undecided)",
        )
        for key, title in _FLAW_NAMES.items()
    },
    **{
        f"known_flaws.{key}_reason": FactSpec(type="str", doc=f"{title}: what the server did, in words")
        for key, title in _FLAW_NAMES.items()
    },
}

# Sizes of the elliptic curves (for "curves under 256 bits").
_CURVE_BITS: dict[str, int] = {
    **{
        f"sect{n}{k}": int(n)
        for n in ("163", "193", "233", "239", "283", "409", "571")
        for k in ("k1", "r1", "r2")
    },
    **{f"secp{n}{k}": int(n) for n in ("160", "192", "224", "256", "384", "521") for k in ("k1", "r1", "r2")},
    "brainpoolP256r1": 256,
    "brainpoolP384r1": 384,
    "brainpoolP512r1": 512,
    "x25519": 255,
    "x448": 448,
}

# ------------------------------------------------------- endpoint: certificate lifetime and revocation
CERTIFICATE_POLICY_FACTS: dict[str, FactSpec] = {
    "certificate.lifetime_days": FactSpec(
        type="int", doc="validity period of the leaf in days (notBefore to notAfter inclusive, rounded up)"
    ),
    "certificate.cab_max_lifetime_days": FactSpec(
        type="int",
        doc="CA/B Forum maximum for the leaf's notBefore (SC-081: 398 days, 200 from 2026-03-15, "
        "100 from 2027-03-15, 47 from 2029-03-15)",
    ),
    "certificate.cab_lifetime_excess_days": FactSpec(
        type="int", doc="lifetime_days minus cab_max_lifetime_days (over the limit when positive)"
    ),
    "certificate.publicly_trusted": FactSpec(
        type="bool",
        doc="the chain validates against the system store alone (false: trusted only through --ca-file, "
        "or not at all; unknown without a system store)",
    ),
    "certificate.revocation": FactSpec(
        type="list", doc="how the leaf can be revoked: crl, ocsp (empty: neither)"
    ),
    "certificate.key_shared_with_sslv2": FactSpec(
        type="list",
        doc="other endpoints of the report that accept SSLv2 with this certificate's key (DROWN)",
    ),
    "certificate.must_staple": FactSpec(
        type="bool", doc="the leaf demands a stapled OCSP response (RFC 7633)"
    ),
}

# ---------------------------------------------------------------- endpoint: OCSP stapling and HTTP (HSTS)
SESSION_FACTS: dict[str, FactSpec] = {
    "ocsp_stapling.stapled": FactSpec(
        type="bool", doc="the server stapled an OCSP response when asked (status_request)"
    ),
    "ocsp_stapling.valid": FactSpec(
        type="bool",
        doc="the stapled response is signed by the issuer, about the leaf, good and current "
        "(unknown when nothing was stapled)",
    ),
    "ocsp_stapling.problem": FactSpec(type="str", doc="why the stapled response is not valid"),
    "http.outcome": FactSpec(
        type="str",
        doc="the HTTP request after the handshake: answered, not-http (not an HTTPS service), failed "
        "(unknown when not sent: STARTTLS, or the check was switched off)",
    ),
    "http.status": FactSpec(type="int", doc="HTTP status code of the answer"),
    "hsts.present": FactSpec(
        type="bool",
        doc="the answer carries a valid Strict-Transport-Security header (unknown unless an HTTP answer "
        "was read)",
    ),
    "hsts.max_age": FactSpec(type="int", doc="HSTS max-age in seconds"),
    "hsts.include_subdomains": FactSpec(type="bool", doc="HSTS includeSubDomains"),
    "hsts.preload": FactSpec(type="bool", doc="HSTS preload"),
}

# ---------------------------------------------------------------- endpoint: suites per version (known flaws)
SUITES_BY_VERSION_FACTS: dict[str, FactSpec] = {
    f"cipher_suites.classes.{v.value}": FactSpec(
        type="list",
        doc=f"classes of the suites accepted with {v.value} (empty when {v.value} was rejected; unknown "
        "when it was accepted but not enumerated)",
    )
    for v in TlsVersion
    if v != TlsVersion.SSLv2
}

# Mozilla Server Side TLS 6.0 (April 2026), intermediate configuration (IANA names of its OpenSSL list):
# 5.7's list without the DHE suites, which 6.0 dropped.
MOZILLA_INTERMEDIATE_SUITES: frozenset[str] = frozenset(
    {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    }
)

# ---------------------------------------------------------------- runtime
RUNTIME_FACTS: dict[str, FactSpec] = {
    "kind": FactSpec(type="str", doc=", ".join(runtime_kinds.NAMES)),
    "version": FactSpec(type="version", doc="runtime version, normalised per kind"),
    "evidence": FactSpec(
        type="str", doc="the last command run to inspect the runtime, its exit code and output"
    ),
}


# Details each inspector reports, "details.<name>". Inspectors add their own entries here.
def _d(type_: str, doc: str, scheme: str = "plain") -> FactSpec:
    return FactSpec(type=type_, doc=doc, scheme=scheme)


RUNTIME_DETAIL_FACTS: dict[str, FactSpec] = {
    # every kind
    "inspect_error": _d("str", "why the runtime could not be assessed (timeout, crash, not executable, ...)"),
    "pq_hybrid_default": _d(
        "bool", "its TLS stack offers a hybrid post-quantum group (X25519MLKEM768) by default"
    ),
    "pq_hybrid_source": _d(
        "str", "what pq_hybrid_default was derived from (OpenSSL 3.0.19 < 3.5, Java 27, ...)"
    ),
    "tls_library": _d(
        "str", "TLS library in use: OpenSSL, LibreSSL, NSS, GnuTLS, Schannel, SecureTransport, ..."
    ),
    "tls_library_version": _d("version", "version of that TLS library", "openssl"),
    "tls_library_version_source": _d("str", "where tls_library_version was read (e.g. libssl soname)"),
    "min_version": _d("str", "default minimum protocol (TLSv1.0 .. TLSv1.3, or library-default)"),
    "max_version": _d("str", "default maximum protocol (TLSv1.0 .. TLSv1.3, or library-default)"),
    "security_level": _d("int", "OpenSSL security level in effect (0-5)"),
    "windows_version": _d("version", "Windows version (6.1 = 7/2008 R2, 6.2 = 8/2012, 10.0 = 10/11)"),
    # php (ext/curl and streams) and curl
    "php_sapi": _d("str", "PHP SAPI that was run (cli)"),
    "php_ini": _d("str", "php.ini the PHP binary loaded"),
    "curl_loaded": _d("bool", "PHP: ext/curl is loaded"),
    "openssl_loaded": _d("bool", "PHP: ext/openssl is loaded (needed by https:// and ssl:// streams)"),
    "curl_version": _d("version", "libcurl version"),
    "curl_has_ssl": _d("bool", "libcurl was built with TLS (CURL_VERSION_SSL / Features: SSL)"),
    "curl_https": _d("bool", "curl lists https among its protocols"),
    "curl_ssl_backend": _d("str", "libcurl TLS backend in use (OpenSSL, NSS, GnuTLS, Schannel, ...)"),
    "curl_ssl_version": _d("version", "version of libcurl's TLS backend", "openssl"),
    "curl_ssl_version_text": _d("str", "curl_version()['ssl_version'] as printed"),
    "curl_ssl_backend_selected_by": _d("str", "set when CURL_SSL_BACKEND chose a MultiSSL backend"),
    "curl_ssl_alternates": _d("list", "MultiSSL: backends built in but not in use"),
    "openssl_runtime_library": _d("str", "PHP streams: library ext/openssl runs with (OpenSSL, LibreSSL)"),
    "openssl_runtime_version": _d("version", "PHP streams: runtime OpenSSL version (php -i)", "openssl"),
    "openssl_runtime_version_source": _d(
        "str", "phpinfo, or the header version when phpinfo has no library line"
    ),
    "openssl_header_version": _d(
        "version", "PHP: OpenSSL header version ext/openssl was built with", "openssl"
    ),
    "stream_transports": _d("list", "PHP: stream_get_transports() (ssl, tls, tlsv1.2, ...)"),
    # java
    "java_version": _d("version", "java.version as the banner prints it", "java"),
    "java_major": _d("int", "Java feature release (6, 7, 8, 11, 17, ...)"),
    "java_build": _d("str", "build string of the runtime"),
    "vendor": _d(
        "str", "Oracle, OpenJDK, IBM, Azul Zulu, Amazon Corretto, Eclipse Temurin, GraalVM, Debian, ..."
    ),
    "vendor_version": _d("str", "java.vendor.version"),
    "runtime_version": _d("str", "java.runtime.version"),
    "ibm_sr_fp": _d("version", "IBM Java service refresh and fix pack (SR6 FP25)", "ibm"),
    "default_client_protocols": _d("list", "protocols the default SSLContext enables for clients"),
    "default_protocols_source": _d("str", "probe or -XshowSettings:security:tls"),
    "showsettings_protocols": _d("list", "Enabled Protocols from -XshowSettings:security:tls"),
    "supported_protocols": _d("list", "protocols the JSSE provider supports at all"),
    "disabled_algorithms": _d("list", "effective jdk.tls.disabledAlgorithms"),
    "disabled_algorithms_file": _d("list", "jdk.tls.disabledAlgorithms as written in java.security"),
    "pinned_client_protocols": _d("list", "jdk.tls.client.protocols when set"),
    "pin_source": _d(
        "str",
        "where jdk.tls.client.protocols came from (JAVA_TOOL_OPTIONS, _JAVA_OPTIONS, ..., or a service file "
        "and line, or a process: pid N and its command line)",
    ),
    "https_protocols": _d("list", "https.protocols when set (HttpsURLConnection only)"),
    "https_protocols_source": _d("str", "where https.protocols came from"),
    "security_properties_override": _d("str", "-Djava.security.properties file, when set"),
    "ibm_override_default_tls": _d("bool", "IBM: com.ibm.jsse2.overrideDefaultTLS=true"),
    "ibm_override_default_protocol": _d("str", "IBM: com.ibm.jsse2.overrideDefaultProtocol"),
    "option_variables": _d("list", "JVM option variables set in the environment"),
    "java_security_path": _d("str", "java.security file read"),
    "java_home": _d("str", "java.home of the runtime"),
    "probe_error": _d("str", "why the TLS client probe gave no answer"),
    # python
    "openssl_version_text": _d("str", "ssl.OPENSSL_VERSION"),
    "has_tls12": _d("bool", "ssl.HAS_TLSv1_2 (3.7+)"),
    "has_tls13": _d("bool", "ssl.HAS_TLSv1_3 (3.7+)"),
    "protocol_tlsv1_2": _d("bool", "ssl.PROTOCOL_TLSv1_2 exists (2.7.9+/3.4+)"),
    "has_sni": _d("bool", "ssl.HAS_SNI"),
    "default_suites_openssl": _d(
        "bool", "built --with-ssl-default-suites=openssl (OpenSSL's policy decides)"
    ),
    "ssl_error": _d("str", "the ssl module or its default context failed"),
    "min_max_source": _d("str", "openssl.cnf min/max_version were read from (interpreters that cannot tell)"),
    # node
    "node_options": _d("str", "NODE_OPTIONS in the environment"),
    "node_options_error": _d(
        "str", "node refuses to start with these options (NODE_OPTIONS or command line)"
    ),
    "node_options_source": _d("str", "where those options were set (NODE_OPTIONS ..., command line ...)"),
    # pins where the runtime is run (tlsaudit.pins: service files, env files, running processes)
    "pin_summary": _d(
        "str", "every TLS setting made where the runtime is run: SETTING=VALUE at FILE:LINE (service)"
    ),
    "run_by": _d("list", "the services, configuration places and processes (pid N) that run this runtime"),
    "tls_limits_source": _d("str", "where min_version/max_version were pinned (a file and line, or pid N)"),
    "not_run": _d(
        "str", "the runtime was found in service configuration only and not run (e.g. under --root)"
    ),
    # browser
    "browser": _d("str", "Chromium, Chrome, Edge, Firefox or Firefox ESR"),
    "engine": _d("str", "Chromium or Gecko"),
    "tls12_by_default": _d("bool", "this version has TLS 1.2 on by default"),
    "tls13_by_default": _d("bool", "this version has TLS 1.3 on by default"),
    "tls10_11_disabled": _d("bool", "this version has TLS 1.0 and 1.1 off by default"),
    "tls10_11_disabled_since": _d("str", "the first version of this browser with TLS 1.0/1.1 off"),
    # openssl
    "openssl_cli_version": _d("version", "version of the openssl command", "openssl"),
    "openssldir": _d("str", "OPENSSLDIR"),
    "compiled_security_level": _d("int", "-DOPENSSL_TLS_SECURITY_LEVEL the library was built with"),
    "config_source": _d("str", "OPENSSL_CONF or OPENSSLDIR"),
    "config_path": _d("str", "openssl.cnf in effect"),
    "config_exists": _d("bool", "that file exists"),
    "config_system_default": _d("str", "how the system_default section was reached, or why not"),
    "cipher_string": _d("str", "CipherString of the system_default section"),
    "security_level_source": _d("str", "CipherString, compiled default or library default"),
    # dotnet
    "product": _d("str", "framework (.NET Framework) or core (.NET Core / .NET 5+)"),
    "runtime_name": _d("str", "Microsoft.NETCore.App, Microsoft.AspNetCore.App, ..."),
    "framework_release": _d("version", "Release DWORD of NDP\\v4\\Full", "dotnet-release"),
    "sch_use_strong_crypto_64": _d("int", "SchUseStrongCrypto, 64-bit registry view"),
    "sch_use_strong_crypto_32": _d("int", "SchUseStrongCrypto, 32-bit registry view (Wow6432Node)"),
    "system_default_tls_versions_64": _d("int", "SystemDefaultTlsVersions, 64-bit registry view"),
    "system_default_tls_versions_32": _d("int", "SystemDefaultTlsVersions, 32-bit registry view"),
    "registry_tls_opt_in": _d("bool", "SchUseStrongCrypto=1 or SystemDefaultTlsVersions=1 in both views"),
    "schannel_tls12_client_enabled": _d("bool", "Schannel offers TLS 1.2 as a client by default"),
    "schannel_tls12_client_explicitly_disabled": _d(
        "bool", "TLS 1.2\\Client Enabled=0 or DisabledByDefault=1"
    ),
    **{
        f"schannel_{v}_client_{what}_value": _d("int", f"SCHANNEL {v} Client {what} DWORD, when set")
        for v in ("tls10", "tls11", "tls12", "tls13")
        for what in ("enabled", "disabled_by_default")
    },
}

# Detail facts declared by the runtime-kind descriptors (kinds added after the descriptor table).
for _kind in runtime_kinds.KINDS:
    for _name, _fact in _kind.details.items():
        RUNTIME_DETAIL_FACTS.setdefault(_name, _d(_fact.type, _fact.doc, _fact.scheme))

HYBRID_GROUP_NAMES = frozenset(NAMED_GROUPS.get(code, f"0x{code:04X}") for code in HYBRID_PQ_GROUPS)

# ---------------------------------------------------------------- capture
CAPTURE_FACTS: dict[str, FactSpec] = {
    "capture.client": FactSpec(
        type="str", doc="the client observed (php ext/curl, java HttpsURLConnection, ...)"
    ),
    "capture.runtime_kind": FactSpec(type="str", doc="kind of the runtime the client belongs to, if probed"),
    "capture.versions_offered": FactSpec(
        type="list", doc="versions the client offered (only the maximum when it sent no supported_versions)"
    ),
    "capture.highest_offered": FactSpec(type="str", doc="highest version offered"),
    "capture.offers_modern": FactSpec(
        type="bool", doc="TLS 1.2 or 1.3 offered; false also when the client gave up before sending a hello"
    ),
    "capture.offers_tls12": FactSpec(
        type="bool", doc="TLS 1.2 offered: the client would reach a TLS 1.2-only server"
    ),
    "capture.offers_legacy": FactSpec(
        type="bool",
        doc="SSLv2, SSLv3, TLS 1.0 or TLS 1.1 offered (unknown when only a TLS 1.2+ maximum is on the wire)",
    ),
    "capture.weak_suites": FactSpec(
        type="list", doc="weak suites offered (NULL, anon, EXPORT, RC4, DES, 3DES, ...)"
    ),
    "capture.offers_weak_suites": FactSpec(type="bool", doc="at least one weak suite offered"),
    "capture.offers_pq_hybrid": FactSpec(
        type="bool", doc="a hybrid post-quantum group (X25519MLKEM768, SecP256r1MLKEM768, ...) offered"
    ),
    "capture.sslv2_hello": FactSpec(type="bool", doc="the client sent an SSLv2-format ClientHello"),
    "capture.outcome": FactSpec(type="str", doc="how the handshake with the listener ended"),
    "capture.completed": FactSpec(type="bool", doc="the client completed a handshake with the listener"),
    "capture.negotiated_version": FactSpec(type="str", doc="version negotiated with the listener"),
    "capture.runtime_readiness": FactSpec(
        type="str", doc="readiness the version tables (runtime rules) give the client's runtime"
    ),
    "capture.version_table_check": FactSpec(
        type="str",
        doc="observation against the version tables: agrees, too-optimistic (table says ready, the client "
        "offers no TLS 1.2+), too-pessimistic (table says needs-upgrade, the client completed TLS 1.2+)",
    ),
}


# ---------------------------------------------------------------- endpoint: simulated clients
CLIENT_SIMULATION_FACTS: dict[str, FactSpec] = {
    "clients.simulated": FactSpec(type="bool", doc="client profiles were replayed at this endpoint"),
    "clients.failing": FactSpec(
        type="list", doc="the simulated clients that fail (name version, profile id)"
    ),
    "clients.failing_count": FactSpec(
        type="int",
        doc="how many simulated clients fail (unknown when some could not be decided and none failed)",
    ),
    "clients.connecting": FactSpec(type="list", doc="the simulated clients that connect"),
}


def known_facts(applies_to: str) -> Mapping[str, FactSpec]:
    """Facts a rule with this `applies_to` may name."""
    if applies_to in ("endpoint", "certificate", "cipher-suites"):
        return {
            **ENDPOINT_FACTS,
            **STARTTLS_FACTS,
            **CERTIFICATE_FACTS,
            **CIPHER_SUITE_FACTS,
            **CLIENT_SIMULATION_FACTS,
            **CERTIFICATE_POLICY_FACTS,
            **SESSION_FACTS,
            **SUITES_BY_VERSION_FACTS,
            **KEY_EXCHANGE_FACTS,
            **HANDSHAKE_FACTS,
            **KNOWN_FLAW_FACTS,
        }
    if applies_to == "runtime":
        return {**RUNTIME_FACTS, **{f"details.{k}": v for k, v in RUNTIME_DETAIL_FACTS.items()}}
    if applies_to == "capture":
        return CAPTURE_FACTS
    return {}


def endpoint_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    facts: dict[str, FactValue] = {
        "port": ep.port,
        "starttls": ep.starttls,
        "client_certificate": _client_certificate(ep),
    }
    accepted: list[str] = []
    for v in TlsVersion:
        result = ep.protocols.get(v)
        status = result.status if result else ProtocolStatus.UNKNOWN
        facts[f"protocol.{v.value}"] = None if status == ProtocolStatus.UNKNOWN else status.value
        if status == ProtocolStatus.ACCEPTED:
            accepted.append(v.value)
    facts["accepted_versions"] = tuple(accepted)
    facts["highest_version"] = accepted[-1] if accepted else None
    facts["modern_accepted"] = _any_accepted(ep, MODERN_VERSIONS)
    facts["legacy_accepted"] = _any_accepted(ep, LEGACY_VERSIONS)
    answered = any(r.status != ProtocolStatus.UNKNOWN for r in ep.protocols.values())
    facts["reachable"] = True if answered else (None if ep.starttls_refused is not None else False)
    facts["connect_error"] = None if answered else connect_error(ep)
    facts.update(starttls_facts(ep))
    if ep.certificate is not None:
        facts.update(certificate_facts(ep.certificate))
    if ep.cipher_suites:
        facts.update(cipher_suite_facts(ep.cipher_suites))
    facts.update(client_simulation_facts(ep))
    if ep.certificate is not None:
        facts.update(certificate_policy_facts(ep.certificate))
    facts.update(session_facts(ep))
    facts.update(shared_key_facts(ep))
    facts.update(suites_by_version_facts(ep))
    facts.update(key_exchange_facts(ep))
    facts.update(handshake_facts(ep))
    facts.update(known_flaw_facts(ep))
    return facts


def client_simulation_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    if not ep.clients:
        return {"clients.simulated": False}
    failing = tuple(
        f"{c.name} {c.version} ({c.client})" for c in ep.clients if c.result == SimulationResult.FAILS
    )
    undecided = any(c.result == SimulationResult.UNKNOWN for c in ep.clients)
    return {
        "clients.simulated": True,
        "clients.failing": failing,
        "clients.failing_count": None if undecided and not failing else len(failing),
        "clients.connecting": tuple(
            f"{c.name} {c.version} ({c.client})" for c in ep.clients if c.result == SimulationResult.CONNECTS
        ),
    }


def key_exchange_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    """Key-exchange facts; every one unknown when the key exchange was not probed."""
    facts: dict[str, FactValue] = dict.fromkeys(KEY_EXCHANGE_FACTS)
    tls13 = ep.protocols.get(TlsVersion.TLSv1_3)
    facts["tls13_accepted"] = (
        None
        if tls13 is None or tls13.status == ProtocolStatus.UNKNOWN
        else tls13.status == ProtocolStatus.ACCEPTED
    )
    kx = ep.key_exchange
    if kx is None:
        return facts
    failed = bool(kx.errors)
    every: list[str] = []
    for version, names in kx.groups.items():
        facts[f"key_exchange.groups.{version.value}"] = names
        every.extend(n for n in names if n not in every)
    ec_bits = [_CURVE_BITS[n] for n in every if n in _CURVE_BITS]
    dhe = bool(kx.dh_groups) or any(n.startswith("ffdhe") for n in every)
    facts |= {
        "key_exchange.groups": None if failed else tuple(every),
        "key_exchange.pq_hybrid": kx.pq_hybrid,
        "key_exchange.pq_hello_retry": kx.pq_hello_retry,
        "key_exchange.pq_preferred": kx.pq_preferred,
        "key_exchange.dh_bits": kx.dh_bits,
        "key_exchange.dhe_accepted": None if failed and not dhe else dhe,
        "key_exchange.min_ec_bits": min(ec_bits) if ec_bits else None,
        "key_exchange.forward_secrecy": kx.forward_secrecy,
        "key_exchange.static_key_exchange": kx.static_key_exchange
        if kx.forward_secrecy is not None
        else None,
        "key_exchange.large_hello_tolerant": kx.large_hello_tolerant,
    }
    return facts


def handshake_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    """Handshake-feature facts; `handshake.applies` is false for a TLS 1.3-only endpoint."""
    facts: dict[str, FactValue] = dict.fromkeys(HANDSHAKE_FACTS)
    decided = [r for r in ep.protocols.values() if r.status != ProtocolStatus.UNKNOWN]
    legacy = [
        v for v in TlsVersion if v not in (TlsVersion.SSLv2, TlsVersion.TLSv1_3) and _is_accepted(ep, v)
    ]
    fallback_versions = [v for v in TlsVersion if v != TlsVersion.SSLv2 and _is_accepted(ep, v)]
    facts["handshake.applies"] = bool(legacy) if decided else None
    facts["handshake.fallback_applies"] = len(fallback_versions) >= 2 if decided else None
    hs = ep.handshake
    if hs is None:
        return facts
    facts |= {
        "handshake.secure_renegotiation": hs.secure_renegotiation,
        "handshake.client_renegotiation": hs.client_renegotiation,
        "handshake.fallback_scsv": hs.fallback_scsv,
        "handshake.compression": hs.compression,
        "handshake.extended_master_secret": hs.extended_master_secret,
        "handshake.encrypt_then_mac": hs.encrypt_then_mac,
        "handshake.cbc_accepted": hs.cbc_accepted,
        "handshake.session_id_resumption": hs.session_id_resumption,
        "handshake.session_ticket_resumption": hs.session_ticket_resumption,
        "handshake.ticket_lifetime_hint": hs.ticket_lifetime_hint,
    }
    return facts


def known_flaw_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    """Known-flaw facts: the status of each check, unknown when it was not run or decided nothing."""
    facts: dict[str, FactValue] = dict.fromkeys(KNOWN_FLAW_FACTS)
    flaws = ep.known_flaws
    if flaws is None:
        return facts
    for key in _FLAW_NAMES:
        check = getattr(flaws, key)
        if check is None:
            continue
        facts[f"known_flaws.{key}_reason"] = check.reason
        if check.status != FlawStatus.UNKNOWN:
            facts[f"known_flaws.{key}"] = check.status.value
    return facts


def _is_accepted(ep: EndpointFacts, version: TlsVersion) -> bool:
    result = ep.protocols.get(version)
    return result is not None and result.status == ProtocolStatus.ACCEPTED


def _client_certificate(ep: EndpointFacts) -> str | None:
    if ep.client_certificate is not None:
        return ep.client_certificate.value
    if any(r.status == ProtocolStatus.ACCEPTED for r in ep.protocols.values()):
        return "none"
    return None


# What a plain-text greeting means, from the probe's reason ("...not TLS: the peer spoke NAME", code
# not-tls or malformed; tlsaudit.tls.wire.describe_non_tls words it).
_BANNER_SCHEMES = {"SMTP/FTP banner": "smtp", "IMAP": "imap", "POP3": "pop3"}
_FTP_PORTS = frozenset({21, 990, 2121})


def banner_starttls(ep: EndpointFacts) -> str | None:
    """The STARTTLS protocol a plain-text greeting points to (smtp, ftp, imap, pop3), if any was seen."""
    if ep.starttls:
        return None
    for result in ep.protocols.values():
        if result.reason_code not in (ReasonCode.NOT_TLS, ReasonCode.MALFORMED):
            continue
        for name, scheme in _BANNER_SCHEMES.items():
            if result.reason.endswith(f"not TLS: the peer spoke {name}"):
                return "ftp" if scheme == "smtp" and ep.port in _FTP_PORTS else scheme
    return None


def connect_error(ep: EndpointFacts) -> str:
    """One line: why nothing answered over TLS, and what to try when the service spoke plain text."""
    reasons = sorted({r.reason for r in ep.protocols.values() if r.reason} | set(ep.errors))
    text = "; ".join(reasons) or "no answer"
    scheme = banner_starttls(ep)
    if scheme:
        host = f"[{ep.host}]" if ":" in ep.host else ep.host
        text += (
            f" (the service greets in plain text: it may offer STARTTLS; scan {scheme}://{host}:{ep.port} "
            f"or pass --starttls {scheme})"
        )
    elif any("HTTP" in r for r in reasons):
        text += " (the service speaks plain HTTP, not HTTPS)"
    return text


def starttls_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    if ep.starttls_refused is not None:
        return {"starttls.refused": True, "starttls.refusal": ep.starttls_refused}
    # STARTTLS worked if any probe got an answer through it.
    worked = ep.starttls is not None and any(
        r.status != ProtocolStatus.UNKNOWN for r in ep.protocols.values()
    )
    return {"starttls.refused": False if worked else None, "starttls.refusal": None}


def certificate_facts(cert: CertificateInfo) -> dict[str, FactValue]:
    return {
        "certificate.subject": cert.subject,
        "certificate.issuer": cert.issuer,
        "certificate.names": cert.san,
        "certificate.not_after": cert.not_after or None,
        "certificate.not_before": cert.not_before or None,
        "certificate.days_left": cert.days_left,
        "certificate.expired": _expired(cert),
        "certificate.expired_ago": _expired_ago(cert),
        "certificate.not_yet_valid": cert.not_yet_valid,
        "certificate.trusted": cert.trusted,
        "certificate.trust_error": cert.trust_error or None,
        "certificate.profile_issues": cert.profile_issues or None,
        "certificate.self_signed": cert.self_signed,
        "certificate.hostname_match": cert.hostname_match,
        "certificate.key_type": cert.key_type or None,
        "certificate.key_bits": cert.key_bits,
        "certificate.signature_hash": cert.signature_hash or None,
        "certificate.chain_signature_hashes": cert.chain_signature_hashes,
        "certificate.chain_complete": cert.chain_complete,
        "certificate.chain_in_order": cert.chain_in_order,
    }


def certificate_policy_facts(cert: CertificateInfo) -> dict[str, FactValue]:
    cab_max: int | None = None
    if cert.not_before:
        from tlsaudit.probe.certificate_policy_facts import cab_max_lifetime_days

        cab_max = cab_max_lifetime_days(dt.datetime.fromisoformat(cert.not_before))
    revocation = (("crl",) if cert.crl_urls else ()) + (("ocsp",) if cert.ocsp_urls else ())
    return {
        "certificate.lifetime_days": cert.lifetime_days,
        "certificate.cab_max_lifetime_days": cab_max,
        "certificate.cab_lifetime_excess_days": (
            None if cab_max is None or cert.lifetime_days is None else cert.lifetime_days - cab_max
        ),
        "certificate.publicly_trusted": cert.publicly_trusted,
        "certificate.revocation": revocation,
        "certificate.must_staple": cert.must_staple,
    }


def shared_key_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    return {"certificate.key_shared_with_sslv2": ep.key_shared_with_sslv2}


def session_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    """OCSP stapling and the HTTP answer; every fact unknown where it was not collected."""
    facts: dict[str, FactValue] = dict.fromkeys(SESSION_FACTS)
    stapling = ep.ocsp_stapling
    if stapling is not None:
        facts["ocsp_stapling.stapled"] = stapling.stapled
        facts["ocsp_stapling.valid"] = stapling.valid
        facts["ocsp_stapling.problem"] = stapling.problem or None
    if ep.http is not None:
        facts["http.outcome"] = ep.http.outcome.value
        facts["http.status"] = ep.http.status
        if ep.http.outcome == HttpOutcome.ANSWERED:
            facts["hsts.present"] = ep.hsts is not None
            if ep.hsts is not None:
                facts["hsts.max_age"] = ep.hsts.max_age
                facts["hsts.include_subdomains"] = ep.hsts.include_subdomains
                facts["hsts.preload"] = ep.hsts.preload
    return facts


def suites_by_version_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    """Per version: the classes of its accepted suites; () when the version was rejected; unknown when it
    was accepted but its suites were not (completely) enumerated."""
    facts: dict[str, FactValue] = {}
    by_version = {cs.version: cs for cs in ep.cipher_suites}
    for version in TlsVersion:
        name = f"cipher_suites.classes.{version.value}"
        if name not in SUITES_BY_VERSION_FACTS:
            continue
        result = ep.protocols.get(version)
        suites = by_version.get(version)
        if result is not None and result.status == ProtocolStatus.REJECTED:
            facts[name] = ()
        elif suites is not None and not suites.errors and result is not None:
            facts[name] = tuple(suites.classes)
        else:
            facts[name] = None
    return facts


def _expired(cert: CertificateInfo) -> bool | None:
    if cert.expired is not None:
        return cert.expired
    return None if cert.days_left is None else cert.days_left < 0


def _expired_ago(cert: CertificateInfo) -> str | None:
    """How long ago the leaf expired, in words ("36 days ago"); unknown while it has not expired."""
    if not _expired(cert) or cert.days_left is None:
        return None
    days = -cert.days_left
    if days == 0:
        return "less than a day ago"
    return f"{days} day{'s' if days != 1 else ''} ago"


def cipher_suite_facts(results: tuple[CipherSuiteResult, ...]) -> dict[str, FactValue]:
    """Facts over every version's suites. An enumeration that failed part-way makes the list facts
    unknown: judging a partial list could pass a server whose weak suite was never reached."""
    suites: list[str] = []
    classes: set[str] = set()
    per_suite_fs = False
    tls12_aead: bool | None = None
    for cs in results:
        suites.extend(s for s in cs.accepted if s not in suites)
        classes.update(cs.classes)
        if cs.accepted and ("forward-secrecy" in cs.classes or cs.version == TlsVersion.TLSv1_3):
            per_suite_fs = True
        if cs.version == TlsVersion.TLSv1_2 and cs.accepted:
            tls12_aead = "aead" in cs.classes
    prefs = [cs.server_preference for cs in results if cs.server_preference is not None]
    facts: dict[str, FactValue] = {
        "cipher_suites.accepted": tuple(suites),
        "cipher_suites.classes": tuple(sorted(classes)),
        "cipher_suites.server_preference": all(prefs) if prefs else None,
        "cipher_suites.forward_secrecy": per_suite_fs if suites else None,
        "cipher_suites.tls12_aead": tls12_aead,
        "cipher_suites.outside_mozilla_intermediate": tuple(
            s for s in suites if s not in MOZILLA_INTERMEDIATE_SUITES
        ),
    }
    if any(cs.errors for cs in results):
        for name in ("accepted", "classes", "forward_secrecy", "tls12_aead", "outside_mozilla_intermediate"):
            facts[f"cipher_suites.{name}"] = None
    return facts


def _any_accepted(ep: EndpointFacts, versions: tuple[TlsVersion, ...]) -> bool | None:
    """True if one of the versions was accepted, False if all were rejected, None if undecided."""
    statuses = [ep.protocols.get(v) for v in versions]
    if any(r is not None and r.status == ProtocolStatus.ACCEPTED for r in statuses):
        return True
    if all(r is not None and r.status == ProtocolStatus.REJECTED for r in statuses):
        return False
    return None


def runtime_facts(rt: RuntimeFacts) -> dict[str, FactValue]:
    facts: dict[str, FactValue] = {"kind": rt.kind, "version": rt.version, "evidence": command_evidence(rt)}
    for key, value in rt.details.items():
        facts[f"details.{key}"] = value
    return facts


def command_evidence(rt: RuntimeFacts, limit: int = 300) -> str | None:
    """The last command tlsaudit ran on this runtime, with its exit code and (shortened) output."""
    if not rt.evidence:
        return None
    last = rt.evidence[-1]
    command = " ".join(a if len(a) <= 40 else a[:37] + "..." for a in last.argv)
    exit_text = "did not finish" if last.exit_code is None else f"exit code {last.exit_code}"
    output = " | ".join(
        f"{name}: {' '.join(text.split())[:limit]!r}"
        for name, text in (("stdout", last.stdout), ("stderr", last.stderr))
        if text.strip()
    )
    return f"`{command}`: {exit_text}, " + (output or "no output") + (f" ({last.note})" if last.note else "")


def capture_facts(cap: CaptureFacts, runtime_readiness: Readiness | None = None) -> dict[str, FactValue]:
    """Facts of one observed client. `runtime_readiness`: its runtime's readiness by the runtime rules."""
    offered = tuple(v.value for v in TlsVersion if v.value in cap.versions_offered)
    facts: dict[str, FactValue] = dict.fromkeys(CAPTURE_FACTS)
    facts |= {
        "capture.client": cap.client,
        "capture.runtime_kind": cap.runtime_kind or None,
        "capture.outcome": cap.outcome or None,
        "capture.runtime_readiness": runtime_readiness.value if runtime_readiness else None,
    }
    if not cap.observed:
        return facts  # nothing seen: every observation fact stays unknown
    modern = any(v in offered for v in ("TLSv1.2", "TLSv1.3"))
    legacy: bool | None = any(v in offered for v in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"))
    if not legacy and not cap.versions_exact:
        legacy = None  # a TLS 1.2 maximum without supported_versions does not say how low it goes
    facts.update(
        {
            "capture.versions_offered": offered,
            "capture.highest_offered": offered[-1] if offered else None,
            "capture.offers_modern": modern,
            "capture.offers_tls12": "TLSv1.2" in offered,
            "capture.offers_legacy": legacy,
            "capture.weak_suites": cap.weak_suites,
            "capture.offers_weak_suites": bool(cap.weak_suites) if offered or cap.cipher_suites else None,
            "capture.offers_pq_hybrid": any(g in HYBRID_GROUP_NAMES for g in cap.groups) if offered else None,
            "capture.sslv2_hello": bool(cap.hello_format) if offered else None,
            "capture.completed": cap.completed,
            "capture.negotiated_version": cap.negotiated_version,
            "capture.version_table_check": version_table_check(runtime_readiness, modern, cap.completed),
        }
    )
    return facts


def version_table_check(table: Readiness | None, offers_modern: bool, completed: bool | None) -> str | None:
    """Compare what the version tables say about a runtime with what its client did on the wire.

    `too-optimistic`: the tables call the runtime ready, yet the client offered no TLS 1.2+ (a pin in
    java.security, JAVA_TOOL_OPTIONS, openssl.cnf, .curlrc, an old linked library...). `too-pessimistic`:
    the tables say needs-upgrade, yet the client completed a TLS 1.2+ handshake. `ready-with-config`
    means the defaults are not enough, so either observation agrees with it.
    """
    if table is None or table == Readiness.UNKNOWN:
        return None
    if table == Readiness.READY and not offers_modern:
        return "too-optimistic"
    if table == Readiness.NEEDS_UPGRADE and offers_modern and completed:
        return "too-pessimistic"
    return "agrees"
