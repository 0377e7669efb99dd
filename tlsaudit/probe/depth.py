"""Enrichers that add certificate, cipher-suite and STARTTLS facts to an endpoint after the version sweep.

Each is a `Scanner` enricher: `Scanner(options, enrichers=[starttls_enricher(...),
certificate_enricher(...), cipher_suite_enricher(...)])`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tlsaudit.errors import PeerError, ProbeError
from tlsaudit.models import (
    CipherSuiteResult,
    ClientCertificate,
    EndpointFacts,
    ProtocolStatus,
    ReasonCode,
    TlsVersion,
)
from tlsaudit.probe.scanner import EndpointProbes, Enricher

if TYPE_CHECKING:
    # Loaded when their enricher is asked for: a version sweep never imports cryptography.x509.
    from tlsaudit.client_profiles import ClientProfile
    from tlsaudit.probe.certificates import TrustAnchors

# Newest first: the chain a TLS 1.2 client sees is the one that matters most.
_CHAIN_SOURCES = (
    TlsVersion.TLSv1_2,
    TlsVersion.TLSv1_1,
    TlsVersion.TLSv1_0,
    TlsVersion.SSLv3,
    TlsVersion.SSLv2,
)
ENUMERABLE_VERSIONS = (
    TlsVersion.SSLv3,
    TlsVersion.TLSv1_0,
    TlsVersion.TLSv1_1,
    TlsVersion.TLSv1_2,
    TlsVersion.TLSv1_3,
)


def _accepted(facts: EndpointFacts, version: TlsVersion) -> bool:
    result = facts.protocols.get(version)
    return result is not None and result.status == ProtocolStatus.ACCEPTED


def _hostname(collected: EndpointProbes) -> str:
    """The name a client would check: --sni, the target's SNI, or the host (an IP is checked as an IP)."""
    return collected.server_name or collected.target.host


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectedChain:
    """The endpoint's certificate chain, or why it could not be had; what a full handshake showed."""

    chain: tuple[bytes, ...] = ()
    problem: str = ""
    client_certificate: ClientCertificate | None = None
    handshake_done: bool = False


async def endpoint_chain(collected: EndpointProbes, facts: EndpointFacts) -> CollectedChain:
    """The DER chain of an endpoint: from a TLS <= 1.2 probe at no cost, else by a full handshake
    (TLS 1.3-only servers, whose Certificate message is encrypted; STARTTLS services)."""
    problems: list[str] = []
    for version in _CHAIN_SOURCES:
        probe = collected.probes.get(version)
        if probe is None or not _accepted(facts, version):
            continue
        if probe.certificate_chain and not probe.certificate_problem:
            return CollectedChain(chain=probe.certificate_chain)
        if probe.certificate_problem:
            problems.append(f"{version.value}: {probe.certificate_problem}")
    if problems:
        return CollectedChain(problem="; ".join(problems))
    if _accepted(facts, TlsVersion.TLSv1_3) or collected.target.starttls is not None:
        from tlsaudit.probe.chain_fetch import full_handshake  # pyOpenSSL only when it is needed

        try:
            result = await full_handshake(collected.prober)
        except (ProbeError, PeerError) as exc:
            return CollectedChain(problem=f"full handshake: {exc}")
        return CollectedChain(
            chain=result.chain,
            problem="" if result.chain else "the server sent no certificate in a full handshake",
            client_certificate=result.client_certificate,
            handshake_done=True,
        )
    return CollectedChain()


def certificate_enricher(
    anchors: TrustAnchors, *, timeout: float, clock: Callable[[], dt.datetime] | None = None
) -> Enricher:
    """Fill `EndpointFacts.certificate`; a chain that should exist but cannot be had is recorded in
    `certificate_error` (its rules become errors), never a crash and never a silent skip."""
    from tlsaudit.probe.certificates import analyse_chain

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        if facts.starttls_refused is not None:
            return facts
        if not any(r.status == ProtocolStatus.ACCEPTED for r in facts.protocols.values()):
            return facts  # nothing spoke TLS: the protocol results already say why
        got = await endpoint_chain(collected, facts)
        if got.client_certificate is not None:
            facts = dataclasses.replace(facts, client_certificate=got.client_certificate)
        if not got.chain:
            if not got.problem:
                return facts  # an anonymous or PSK suite: no certificate to judge
            return _certificate_error(facts, got.problem)
        try:
            info = analyse_chain(
                got.chain,
                hostname=_hostname(collected),
                anchors=anchors,
                now=clock() if clock else None,
            )
        except ValueError as exc:
            return _certificate_error(facts, f"cannot be parsed: {exc}")
        return dataclasses.replace(facts, certificate=info)

    return enrich


def _certificate_error(facts: EndpointFacts, problem: str) -> EndpointFacts:
    return dataclasses.replace(
        facts, certificate_error=problem, errors=(*facts.errors, f"certificate: {problem}")
    )


def client_certificate_enricher() -> Enricher:
    """`client_certificate`: requested when a probe saw a CertificateRequest, required when a full
    handshake without a certificate is refused."""

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        if facts.client_certificate is not None:
            return facts
        if not any(p.certificate_request for p in collected.probes.values()):
            return facts
        from tlsaudit.probe.chain_fetch import full_handshake

        try:
            result = await full_handshake(collected.prober)
        except (ProbeError, PeerError):
            # The handshake failed after the server had asked for a certificate: it insists on one.
            return dataclasses.replace(facts, client_certificate=ClientCertificate.REQUIRED)
        return dataclasses.replace(
            facts, client_certificate=result.client_certificate or ClientCertificate.REQUESTED
        )

    return enrich


def cipher_suite_enricher(
    *, timeout: float, versions: tuple[TlsVersion, ...] = ENUMERABLE_VERSIONS
) -> Enricher:
    """Fill `EndpointFacts.cipher_suites` for every accepted version (SSLv3 to TLS 1.3)."""
    from tlsaudit.probe.ciphers import enumerate_cipher_suites

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        wanted = [v for v in versions if _accepted(facts, v)]
        if not wanted:
            return facts

        async def one(version: TlsVersion) -> CipherSuiteResult:
            result, _outcome = await enumerate_cipher_suites(collected.prober, version)
            return result

        results = await asyncio.gather(*(one(v) for v in wanted))
        errors = [f"cipher suites {r.version.value}: {e}" for r in results for e in r.errors]
        return dataclasses.replace(facts, cipher_suites=tuple(results), errors=(*facts.errors, *errors))

    return enrich


def starttls_enricher(*, timeout: float) -> Enricher:
    """For a STARTTLS target the server would not switch to TLS, record the refusal as a fact (the version
    probes saw it: each one's STARTTLS exchange was refused)."""

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        if collected.target.starttls is None:
            return facts
        refusals = [
            r.reason for r in facts.protocols.values() if r.reason_code == ReasonCode.STARTTLS_REFUSED
        ]
        if not refusals or len(refusals) != len(facts.protocols):
            return facts
        refusal = refusals[0]
        return dataclasses.replace(facts, starttls_refused=refusal, errors=(*facts.errors, refusal))

    return enrich


def depth_enrichers(
    *,
    timeout: float,
    certificates: bool = True,
    ciphers: bool = True,
    ca_file: str | None = None,
    clients: Sequence[ClientProfile] = (),
    hsts: bool = True,
    key_exchange: bool = True,
    handshake: bool = True,
    flaws: bool = True,
) -> list[Enricher]:
    """The enrichers for `Scanner(..., enrichers=...)`, in the order they must run. Raises CaFileError
    (a UsageError) for an unreadable --ca-file, before any scanning.

    `hsts`: one HTTP request after a full handshake on endpoints reached without STARTTLS; the same
    handshake asks for a stapled OCSP response when `certificates` is on. Key exchange and handshake
    features run after the suite enumeration, whose complete lists spare them probes; so do the
    known-flaw checks (`flaws`: Heartbleed, CCS injection, ROBOT), which use its RSA suites."""
    enrichers: list[Enricher] = [starttls_enricher(timeout=timeout)]
    if certificates:
        from tlsaudit.probe.certificates import load_trust_anchors

        enrichers.append(certificate_enricher(load_trust_anchors(ca_file), timeout=timeout))
    enrichers.append(client_certificate_enricher())
    if hsts or certificates:
        from tlsaudit.probe.session_checks import session_check_enricher

        enrichers.append(session_check_enricher(http=hsts, ocsp=certificates))
    if ciphers:
        enrichers.append(cipher_suite_enricher(timeout=timeout))
    enrichers += concurrently(
        ([_key_exchange()] if key_exchange else [])
        + ([_handshake_features()] if handshake else [])
        + ([_known_flaws()] if flaws else [])
    )
    if clients:
        enrichers.append(clients_enricher(clients))
    return enrichers


def clients_enricher(profiles: Sequence[ClientProfile]) -> Enricher:
    """`EndpointFacts.clients`: every profile's hello replayed at the endpoint (scan --clients)."""

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        if not profiles or facts.starttls_refused is not None:
            return facts
        from tlsaudit.probe.simulate import simulate_clients

        alive = any(p.well_formed for p in collected.probes.values())
        results = await simulate_clients(collected.prober, profiles, endpoint_alive=alive)
        return dataclasses.replace(facts, clients=results)

    return enrich


def concurrently(enrichers: list[Enricher]) -> list[Enricher]:
    """Enrichers that fill disjoint fields (and append errors) run side by side as one."""
    if len(enrichers) < 2:
        return enrichers

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        results = await asyncio.gather(*(e(collected, facts) for e in enrichers))
        merged = facts
        errors = list(facts.errors)
        for result in results:
            changes = {
                f.name: getattr(result, f.name)
                for f in dataclasses.fields(result)
                if f.name != "errors" and getattr(result, f.name) != getattr(facts, f.name)
            }
            merged = dataclasses.replace(merged, **changes)
            errors += result.errors[len(facts.errors) :]
        return dataclasses.replace(merged, errors=tuple(errors))

    return [enrich]


def _key_exchange() -> Enricher:
    from tlsaudit.probe.key_exchange import key_exchange_enricher  # loaded only when the check runs

    return key_exchange_enricher()


def _handshake_features() -> Enricher:
    from tlsaudit.probe.handshake_features import handshake_features_enricher  # loads pyOpenSSL

    return handshake_features_enricher()


def _known_flaws() -> Enricher:
    from tlsaudit.probe.known_flaws import known_flaws_enricher  # loads cryptography's RSA only when run

    return known_flaws_enricher()
