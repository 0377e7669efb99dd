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
    "capture.versions_offered": FactSpec(type="list", doc="versions the client offered"),
    "capture.highest_offered": FactSpec(type="str", doc="highest version offered"),
    "capture.offers_modern": FactSpec(type="bool", doc="TLS 1.2 or 1.3 offered"),
    "capture.offers_legacy": FactSpec(type="bool", doc="SSLv3, TLS 1.0 or TLS 1.1 offered"),
    "capture.weak_suites": FactSpec(type="list", doc="weak suites offered (RC4, 3DES, NULL, EXPORT, anon)"),
    "capture.outcome": FactSpec(type="str", doc="how the handshake with the listener ended"),
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


def capture_facts(cap: CaptureFacts) -> dict[str, FactValue]:
    order = [v.value for v in TlsVersion]
    offered = tuple(v for v in order if v in cap.versions_offered)
    return {
        "capture.versions_offered": offered,
        "capture.highest_offered": offered[-1] if offered else None,
        "capture.offers_modern": any(v in offered for v in ("TLSv1.2", "TLSv1.3")),
        "capture.offers_legacy": any(v in offered for v in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1")),
        "capture.weak_suites": (),
        "capture.outcome": cap.outcome or None,
    }
