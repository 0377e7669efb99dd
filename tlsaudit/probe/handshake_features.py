"""Handshake features of TLS 1.2 and below: secure renegotiation (RFC 5746), client-initiated
renegotiation, TLS_FALLBACK_SCSV (RFC 7507), compression (CRIME), extended master secret (RFC 7627),
encrypt-then-MAC (RFC 7366), session resumption by ID and by ticket.

Renegotiation_info, extended_master_secret and the session ticket come from the version sweep's own
ServerHellos at no cost. Bound, per endpoint: 3 raw hellos (encrypt-then-MAC, compression, fallback),
1 connection for renegotiation and 4 full handshakes for resumption (each retried at most as the
prober allows when the outcome is transient).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from tlsaudit.errors import PeerError, ProbeError
from tlsaudit.models import EndpointFacts, HandshakeFeatures, ProtocolStatus, TlsVersion
from tlsaudit.probe import tls_session
from tlsaudit.probe.scanner import EndpointProbes, Enricher
from tlsaudit.probe.transport import Ending, Exchange, Prober
from tlsaudit.probe.versions import VersionProbe
from tlsaudit.tls.client_hello import build_client_hello
from tlsaudit.tls.constants import CIPHER_SUITES, VERSION_CODES, ExtensionType, classify, suites_for_version
from tlsaudit.tls.server_flight import Alert, Event, Malformed, ServerHello
from tlsaudit.tls.suite_offers import MAX_OFFERED_SUITES, probe_suites

ALERT_INAPPROPRIATE_FALLBACK = 86
DEFLATE = 1
PRE_TLS13 = (TlsVersion.SSLv3, TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2)
FALLBACK_ORDER = (*PRE_TLS13, TlsVersion.TLSv1_3)


def _decide(events: Sequence[Event]) -> bool:
    """Enough once the ServerHello (or a refusal) is in, whatever arrived with it in the same read."""
    return any(
        isinstance(e, ServerHello | Malformed) or (isinstance(e, Alert) and e.ends_handshake) for e in events
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    hello: ServerHello | None = None
    alert: int | None = None
    refused: bool = False
    problem: str = ""


def read_answer(ex: Exchange) -> Answer:
    for event in ex.events:
        if isinstance(event, Malformed):
            return Answer(problem=f"malformed answer: {event.reason}")
        if isinstance(event, Alert) and event.ends_handshake:
            return Answer(alert=event.description, refused=True)
        if isinstance(event, ServerHello):
            return Answer(hello=event)
    if ex.ending == Ending.CLOSED and not ex.received:
        return Answer(refused=True)
    return Answer(problem=ex.detail or ex.ending.value)


async def _ask(prober: Prober, hello: bytes) -> Answer:
    def transient(ex: Exchange) -> bool:
        return ex.ending in (Ending.TIMEOUT, Ending.RESET, Ending.NETWORK_ERROR) and not ex.events

    ex, _ = await prober.run(lambda: hello, _decide, transient=transient)
    return read_answer(ex)


def _accepted(facts: EndpointFacts, version: TlsVersion) -> bool:
    result = facts.protocols.get(version)
    return result is not None and result.status == ProtocolStatus.ACCEPTED


def _extensions(probe: VersionProbe | None) -> dict[int, bytes] | None:
    if probe is None or probe.server_hello is None:
        return None
    return dict(probe.server_hello.extensions)


async def encrypt_then_mac(
    prober: Prober, version: TlsVersion
) -> tuple[tuple[bool | None, bool | None], str]:
    """Offer only CBC suites with encrypt_then_mac: the extension in the answer means ETM is used.
    Returns ((encrypt-then-MAC, a CBC suite accepted), problem)."""
    cbc = [c for c in suites_for_version(version) if "cbc" in CIPHER_SUITES[c].classes]
    hello = build_client_hello(
        version,
        cipher_suites=cbc[: MAX_OFFERED_SUITES - 1],
        server_name=prober.endpoint.server_name,
        extra_extensions=((ExtensionType.encrypt_then_mac, b""),),
    )
    answer = await _ask(prober, hello)
    if answer.hello is not None:
        return (ExtensionType.encrypt_then_mac in dict(answer.hello.extensions), True), ""
    if answer.refused:
        return (None, False), ""  # no CBC suite: encrypt-then-MAC does not apply
    return (None, None), f"encrypt-then-MAC: {answer.problem}"


async def compression(prober: Prober, version: TlsVersion) -> tuple[bool | None, str]:
    """Offer DEFLATE before null compression: a server that picks it compresses (CRIME)."""
    hello = build_client_hello(
        version,
        cipher_suites=probe_suites(version),
        server_name=prober.endpoint.server_name,
        compression_methods=(DEFLATE, 0),
    )
    answer = await _ask(prober, hello)
    if answer.hello is not None:
        return answer.hello.compression == DEFLATE, ""
    return None, f"compression: {answer.problem or 'the hello offering DEFLATE was refused'}"


async def fallback_scsv(prober: Prober, version: TlsVersion) -> tuple[bool | None, str]:
    """A hello for `version` (below the highest accepted) carrying TLS_FALLBACK_SCSV."""

    def hello(signal: bool) -> bytes:
        return build_client_hello(
            version,
            cipher_suites=probe_suites(version)[: MAX_OFFERED_SUITES - 2],
            server_name=prober.endpoint.server_name,
            fallback_scsv=signal,
        )

    answer = await _ask(prober, hello(True))
    if answer.alert == ALERT_INAPPROPRIATE_FALLBACK:
        return True, ""
    if answer.hello is not None and answer.hello.selected_version == VERSION_CODES[version]:
        return False, ""
    if answer.refused:
        # RFC 7507 asks for an inappropriate_fallback alert, but servers that drop every failed
        # handshake without an alert (Dovecot, slapd with GnuTLS) can only close. The same hello
        # without the signal decides: accepted, the refusal answered the signal.
        plain = await _ask(prober, hello(False))
        if plain.hello is not None and plain.hello.selected_version == VERSION_CODES[version]:
            return True, ""
        return None, "fallback SCSV: refused, and so was the same hello without the signal"
    return (
        None,
        f"fallback SCSV: {answer.problem or 'an answer that neither accepts nor refuses the fallback'}",
    )


async def _renegotiation(prober: Prober) -> tuple[bool | None, str]:
    try:
        return await tls_session.client_renegotiation(prober), ""
    except (ProbeError, PeerError) as exc:
        return None, f"client renegotiation: {exc}"


async def _resumption(prober: Prober, *, tickets: bool) -> tuple[tls_session.Resumption | None, str]:
    try:
        return await tls_session.resumption(prober, tickets=tickets), ""
    except (ProbeError, PeerError) as exc:
        return None, f"session {'tickets' if tickets else 'IDs'}: {exc}"


async def collect_handshake_features(
    prober: Prober, probes: dict[TlsVersion, VersionProbe], facts: EndpointFacts
) -> HandshakeFeatures | None:
    legacy = [v for v in PRE_TLS13 if _accepted(facts, v)]
    extension_versions = [v for v in legacy if v != TlsVersion.SSLv3]
    accepted = [v for v in FALLBACK_ORDER if _accepted(facts, v)]
    if not legacy:
        return None  # TLS 1.3 only (or nothing): none of these features exists there
    top = legacy[-1]
    top_ext = extension_versions[-1] if extension_versions else None
    errors: list[str] = []
    hello_ext = _extensions(probes.get(top))
    secure_reneg = None if hello_ext is None else ExtensionType.renegotiation_info in hello_ext
    ext_top = _extensions(probes.get(top_ext)) if top_ext else None
    ems = None if ext_top is None else ExtensionType.extended_master_secret in ext_top
    sslv3_cbc: bool | None = None
    if top_ext is None:  # SSLv3 only: no extensions, so neither EMS nor encrypt-then-MAC
        ems = False
        suite = probes[top].cipher_suite if top in probes else None
        sslv3_cbc = True if suite is not None and "cbc" in classify(suite) else None

    async def nothing() -> tuple[bool | None, str]:
        return None, ""

    async def no_etm() -> tuple[tuple[bool | None, bool | None], str]:
        return (False, sslv3_cbc), ""

    etm_job = encrypt_then_mac(prober, top_ext) if top_ext else no_etm()
    comp_job = compression(prober, top)
    fallback_job = fallback_scsv(prober, accepted[-2]) if len(accepted) >= 2 else nothing()
    ((etm, cbc), e1), (comp, e2), (fallback, e3) = await asyncio.gather(etm_job, comp_job, fallback_job)
    # Full handshakes one after another: a server that serves one connection at a time (openssl
    # s_server, small appliances) would otherwise keep one waiting behind another past its deadline.
    full = top_ext is not None  # the local stacks complete TLS 1.0-1.2 handshakes, not SSLv3
    reneg, e4 = await _renegotiation(prober) if full else (None, "")
    ticket, e5 = await _resumption(prober, tickets=True) if full else (None, "")
    ident, e6 = await _resumption(prober, tickets=False) if full else (None, "")
    errors += [e for e in (e1, e2, e3, e4, e5, e6) if e]
    return HandshakeFeatures(
        secure_renegotiation=secure_reneg,
        client_renegotiation=reneg,
        fallback_scsv=fallback,
        compression=comp,
        extended_master_secret=ems,
        encrypt_then_mac=etm,
        cbc_accepted=cbc,
        session_id_resumption=ident.resumed if ident else None,
        session_ticket_resumption=ticket.resumed if ticket else None,
        ticket_lifetime_hint=ticket.lifetime_hint if ticket else None,
        errors=tuple(errors),
    )


def handshake_features_enricher() -> Enricher:
    """Fill `EndpointFacts.handshake` for an endpoint that accepted a version below TLS 1.3."""

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        found = await collect_handshake_features(collected.prober, collected.probes, facts)
        if found is None:
            return facts
        errors = (*facts.errors, *(f"handshake: {e}" for e in found.errors))
        return dataclasses.replace(facts, handshake=found, errors=errors)

    return enrich
