"""Named facts: the vocabulary rules are written in, and how each subject turns into it.

A rule may only name facts declared here (loading is strict). Each section below belongs to one collector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tlsaudit.models import (
    LEGACY_VERSIONS,
    MODERN_VERSIONS,
    CaptureFacts,
    EndpointFacts,
    FactValue,
    ProtocolStatus,
    Readiness,
    RuntimeFacts,
    TlsVersion,
)


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
    "reachable": FactSpec(type="bool", doc="at least one probe reached a TLS (or SSL) speaker"),
    "starttls": FactSpec(type="str", doc="STARTTLS protocol used, if any"),
    "port": FactSpec(type="int", doc="TCP port"),
}

# ---------------------------------------------------------------- endpoint: certificate
CERTIFICATE_FACTS: dict[str, FactSpec] = {
    "certificate.days_left": FactSpec(type="int", doc="days until notAfter (negative once expired)"),
    "certificate.expired": FactSpec(type="bool", doc="notAfter is in the past"),
    "certificate.not_yet_valid": FactSpec(type="bool", doc="notBefore is in the future"),
    "certificate.trusted": FactSpec(type="bool", doc="the chain validates to a trusted root"),
    "certificate.self_signed": FactSpec(type="bool", doc="the leaf is self-signed"),
    "certificate.hostname_match": FactSpec(type="bool", doc="the leaf matches the name scanned"),
    "certificate.key_type": FactSpec(type="str", doc="RSA, EC, Ed25519, DSA, ..."),
    "certificate.key_bits": FactSpec(type="int", doc="public key size in bits"),
    "certificate.signature_hash": FactSpec(
        type="str", doc="hash of the leaf signature (sha256, sha1, md5, ...)"
    ),
    "certificate.chain_complete": FactSpec(type="bool", doc="the server sent every intermediate needed"),
    "certificate.chain_in_order": FactSpec(type="bool", doc="each certificate is signed by the next one"),
}

# ---------------------------------------------------------------- endpoint: cipher suites
CIPHER_SUITE_FACTS: dict[str, FactSpec] = {
    "cipher_suites.accepted": FactSpec(type="list", doc="every suite accepted, any version"),
    "cipher_suites.classes": FactSpec(
        type="list", doc="classes of the accepted suites (rc4, 3des, null, ...)"
    ),
    "cipher_suites.server_preference": FactSpec(type="bool", doc="the server imposes its own order"),
}

# ---------------------------------------------------------------- runtime
RUNTIME_FACTS: dict[str, FactSpec] = {
    "kind": FactSpec(type="str", doc="php, java, dotnet, python, curl, openssl, node"),
    "version": FactSpec(type="version", doc="runtime version, normalised per kind"),
}

# Details each inspector reports, "details.<name>". Inspectors add their own entries here.
RUNTIME_DETAIL_FACTS: dict[str, FactSpec] = {}

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


def known_facts(applies_to: str) -> Mapping[str, FactSpec]:
    """Facts a rule with this `applies_to` may name."""
    if applies_to in ("endpoint", "certificate", "cipher-suites"):
        return {**ENDPOINT_FACTS, **CERTIFICATE_FACTS, **CIPHER_SUITE_FACTS}
    if applies_to == "runtime":
        return {**RUNTIME_FACTS, **{f"details.{k}": v for k, v in RUNTIME_DETAIL_FACTS.items()}}
    if applies_to == "capture":
        return CAPTURE_FACTS
    return {}


def endpoint_facts(ep: EndpointFacts) -> dict[str, FactValue]:
    facts: dict[str, FactValue] = {"port": ep.port, "starttls": ep.starttls}
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
    facts["reachable"] = any(r.status != ProtocolStatus.UNKNOWN for r in ep.protocols.values()) or None
    cert = ep.certificate
    if cert is not None:
        facts.update(
            {
                "certificate.days_left": cert.days_left,
                "certificate.expired": None if cert.days_left is None else cert.days_left < 0,
                "certificate.trusted": cert.trusted,
                "certificate.self_signed": cert.self_signed,
                "certificate.hostname_match": cert.hostname_match,
                "certificate.key_type": cert.key_type or None,
                "certificate.key_bits": cert.key_bits,
                "certificate.signature_hash": cert.signature_hash or None,
                "certificate.chain_complete": cert.chain_complete,
                "certificate.chain_in_order": cert.chain_in_order,
            }
        )
    if ep.cipher_suites:
        suites: list[str] = []
        classes: set[str] = set()
        for cs in ep.cipher_suites:
            suites.extend(s for s in cs.accepted if s not in suites)
            classes.update(cs.classes)
        facts["cipher_suites.accepted"] = tuple(suites)
        facts["cipher_suites.classes"] = tuple(sorted(classes))
        prefs = [cs.server_preference for cs in ep.cipher_suites if cs.server_preference is not None]
        facts["cipher_suites.server_preference"] = all(prefs) if prefs else None
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
    facts: dict[str, FactValue] = {"kind": rt.kind, "version": rt.version}
    for key, value in rt.details.items():
        facts[f"details.{key}"] = value
    return facts


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
