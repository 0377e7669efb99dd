"""Key exchange of an endpoint: the named groups each accepted version supports (post-quantum hybrids
included), the finite-field DH size of DHE suites, forward secrecy, and whether a browser-sized hello
(one carrying an X25519MLKEM768 key share) gets through.

Every probe is one ClientHello read up to the server's choice; nothing is completed. Bounds, per endpoint:
TLS 1.3 groups at most len(TLS13_PROBE_GROUPS) + 1 hellos, the groups of the highest of TLS 1.0-1.2 at most
len(EC_PROBE_GROUPS) + 1, DH size 2 (ordinary DHE at the highest version below TLS 1.3, export DHE at the
lowest), static key exchange 1 per version below TLS 1.3 (none when the suites were enumerated), the large
hello 1; each retried only as the prober allows when the outcome was transient.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tlsaudit.models import (
    CipherSuiteResult,
    EndpointFacts,
    KeyExchangeFacts,
    ProtocolStatus,
    TlsVersion,
)
from tlsaudit.probe.scanner import EndpointProbes, Enricher
from tlsaudit.probe.transport import Ending, Exchange, Prober
from tlsaudit.tls.client_hello import OFFERED_GROUPS, build_client_hello
from tlsaudit.tls.constants import (
    CIPHER_SUITES,
    FFDHE_GROUPS,
    HYBRID_PQ_GROUPS,
    KYBER_DRAFT_GROUPS,
    PURE_MLKEM_GROUPS,
    SCSV_CODES,
    VERSION_CODES,
    ExtensionType,
    group_name,
    suite_by_name,
    suites_for_version,
)
from tlsaudit.tls.ffdhe import FFDHE_BITS, ffdhe_name, modp_name
from tlsaudit.tls.pq_shares import pq_key_share
from tlsaudit.tls.server_flight import (
    Alert,
    EncryptedFlight,
    Event,
    Malformed,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
)
from tlsaudit.tls.suite_offers import MAX_OFFERED_SUITES

X25519MLKEM768 = 0x11EC
# TLS 1.3: the classical groups, the post-quantum ones (hybrid, pure ML-KEM, the Kyber drafts), FFDHE.
TLS13_PROBE_GROUPS: tuple[int, ...] = (
    0x001D,
    0x0017,
    0x0018,
    0x0019,
    0x001E,
    *HYBRID_PQ_GROUPS,
    *PURE_MLKEM_GROUPS,
    *KYBER_DRAFT_GROUPS,
    *sorted(FFDHE_GROUPS),
)
# TLS 1.0-1.2 ECDHE: every curve a probe offers (FFDHE codes belong to DHE suites there, RFC 7919).
EC_PROBE_GROUPS: tuple[int, ...] = tuple(g for g in OFFERED_GROUPS if g not in FFDHE_GROUPS)
ECDHE_VERSIONS = (TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2)
DHE_VERSIONS = (TlsVersion.SSLv3, *ECDHE_VERSIONS)
LARGE_HELLO_BYTES = 1500  # a TLS 1.2 stand-in for a browser's post-quantum hello (two TCP segments)
_STATIC_KEX = frozenset({"RSA", "DH", "ECDH"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """What one hello showed: the group (or DH prime) the server chose, a refusal, or why neither."""

    group: int | None = None
    dh_prime: bytes = b""
    hello_retry: bool = False
    refused: bool = False
    accepted: bool = False  # a ServerHello for the offered version
    problem: str = ""
    reached: bool = True  # False: the connection (or STARTTLS) failed before the hello was sent


def _suites(version: TlsVersion, wanted: Callable[[str], bool]) -> tuple[int, ...]:
    codes = [
        c
        for c in suites_for_version(version)
        if c not in SCSV_CODES and (s := CIPHER_SUITES.get(c)) is not None and wanted(s.kex)
    ]
    return tuple(codes[: MAX_OFFERED_SUITES - 1])


def _decide(events: Sequence[Event]) -> bool:
    """Enough at the key-exchange choice (TLS 1.3 ServerHello, ServerKeyExchange), the end of the flight,
    or a refusal, wherever it sits among the events of the last read."""
    for event in events:
        if isinstance(event, ServerHello) and (
            event.selected_version == VERSION_CODES[TlsVersion.TLSv1_3] or event.is_hello_retry
        ):
            return True
        if isinstance(event, Alert) and event.ends_handshake:
            return True
        if isinstance(event, ServerKeyExchange | ServerHelloDone | EncryptedFlight | Malformed):
            return True
    return False


def _no_answer(ex: Exchange) -> Choice:
    if ex.ending == Ending.CLOSED and not ex.received:
        return Choice(refused=True)
    reached = ex.ending not in (Ending.CONNECT_FAILED, Ending.STARTTLS_REFUSED)
    return Choice(problem=ex.detail or ex.ending.value, reached=reached)


def read_choice(version: TlsVersion, ex: Exchange, offered_groups: Sequence[int]) -> Choice:
    """The server's choice in one exchange, checked against what the hello offered."""
    hello: ServerHello | None = None
    for event in ex.events:
        if isinstance(event, Malformed):
            return Choice(problem=f"malformed answer: {event.reason}")
        if isinstance(event, Alert) and event.ends_handshake:
            return Choice(refused=True, accepted=hello is not None)
        if isinstance(event, ServerHello):
            hello = event
            if event.selected_version != VERSION_CODES[version]:
                return Choice(refused=True)
            if version == TlsVersion.TLSv1_3:
                return _tls13_choice(event, offered_groups)
        if isinstance(event, ServerKeyExchange):
            if event.dh_p:
                return Choice(dh_prime=event.dh_p, accepted=True)
            if event.named_group is not None:
                if event.named_group not in offered_groups:
                    return Choice(problem=f"the server chose {group_name(event.named_group)}, not offered")
                return Choice(group=event.named_group, accepted=True)
            return Choice(accepted=True, problem="ServerKeyExchange without a named group or DH prime")
        if isinstance(event, ServerHelloDone):
            return Choice(accepted=True)  # a suite without a ServerKeyExchange
    if hello is not None:
        return Choice(accepted=True, problem=ex.detail or "the flight stopped before ServerKeyExchange")
    return _no_answer(ex)


def _tls13_choice(hello: ServerHello, offered_groups: Sequence[int]) -> Choice:
    data = dict(hello.extensions).get(ExtensionType.key_share, b"")
    if len(data) < 2:
        return Choice(accepted=True, problem="TLS 1.3 ServerHello without a key_share")
    group = int.from_bytes(data[:2], "big")
    if group not in offered_groups:
        return Choice(problem=f"the server chose {group_name(group)}, not offered")
    return Choice(group=group, hello_retry=hello.is_hello_retry, accepted=True)


def _transient(version: TlsVersion, groups: Sequence[int]) -> Callable[[Exchange], bool]:
    def transient(ex: Exchange) -> bool:
        choice = read_choice(version, ex, groups)
        return bool(choice.problem) and ex.ending in (Ending.TIMEOUT, Ending.RESET, Ending.NETWORK_ERROR)

    return transient


async def _try(
    prober: Prober,
    version: TlsVersion,
    *,
    suites: Sequence[int],
    groups: Sequence[int],
    classical_shares: bool = True,
    extra_key_shares: Sequence[tuple[int, bytes]] = (),
    min_length: int = 0,
) -> Choice:
    name = prober.endpoint.server_name

    def hello() -> bytes:
        return build_client_hello(
            version,
            cipher_suites=suites,
            server_name=name,
            groups=groups,
            classical_shares=classical_shares,
            extra_key_shares=extra_key_shares,
            min_length=min_length,
        )

    ex, _attempts = await prober.run(hello, _decide, transient=_transient(version, groups))
    return read_choice(version, ex, groups)


@dataclass(slots=True)
class GroupScan:
    groups: list[int] = dataclasses.field(default_factory=list)
    first: Choice | None = None
    problem: str = ""


async def enumerate_groups(prober: Prober, version: TlsVersion) -> GroupScan:
    """Offer every group, note the server's choice, take it out, and again until it refuses.

    TLS 1.3: the first hello is a client's (classical key shares; a HelloRetryRequest for a post-quantum
    group there means the server asks for one), the rest carry no share, so each answer is the server's
    pick among what is left."""
    tls13 = version == TlsVersion.TLSv1_3
    remaining = list(TLS13_PROBE_GROUPS if tls13 else EC_PROBE_GROUPS)
    suites = _suites(version, lambda kex: kex == "ANY") if tls13 else _suites(version, lambda k: k == "ECDHE")
    scan = GroupScan()
    while remaining:
        choice = await _try(
            prober, version, suites=suites, groups=remaining, classical_shares=not scan.groups
        )
        if scan.first is None:
            scan.first = choice
        if choice.group is None:
            if choice.problem and not choice.refused:
                scan.problem = f"{version.value} groups: {choice.problem}"
            break
        scan.groups.append(choice.group)
        remaining.remove(choice.group)
    return scan


async def dh_prime(prober: Prober, version: TlsVersion, *, export: bool) -> tuple[bytes, str]:
    """The DH prime of the DHE suites (export-grade ones when `export`), and a problem if the probe failed."""
    suites = tuple(
        c for c in _suites(version, lambda kex: kex == "DHE") if ("EXPORT" in CIPHER_SUITES[c].name) == export
    )
    if not suites:
        return b"", ""
    choice = await _try(prober, version, suites=suites, groups=OFFERED_GROUPS)
    if choice.dh_prime:
        return choice.dh_prime, ""
    if choice.problem and not choice.refused and not choice.accepted:
        return b"", f"{version.value} DHE{' export' if export else ''}: {choice.problem}"
    return b"", ""


async def static_kex(prober: Prober, version: TlsVersion) -> bool | None:
    """Does `version` accept a key exchange without forward secrecy (RSA, static DH/ECDH)?"""
    suites = _suites(version, lambda kex: kex in _STATIC_KEX)
    choice = await _try(prober, version, suites=suites, groups=OFFERED_GROUPS)
    if choice.accepted:
        return True
    if choice.refused:
        return False
    return None


async def large_hello(prober: Prober, tls13: bool) -> Choice:
    """A browser-sized hello: TLS 1.3 with X25519MLKEM768 and X25519 shares (about 1,400 bytes), or, for a
    server without TLS 1.3, a TLS 1.2 hello padded to the same order of size."""
    if tls13:
        groups = (X25519MLKEM768, 0x001D, 0x0017, 0x0018, 0x0019, 0x001E)
        return await _try(
            prober,
            TlsVersion.TLSv1_3,
            suites=_suites(TlsVersion.TLSv1_3, lambda kex: kex == "ANY"),
            groups=groups,
            extra_key_shares=((X25519MLKEM768, pq_key_share(X25519MLKEM768)),),
        )
    version = TlsVersion.TLSv1_2
    return await _try(
        prober,
        version,
        suites=suites_for_version(version)[: MAX_OFFERED_SUITES - 1],
        groups=OFFERED_GROUPS,
        min_length=LARGE_HELLO_BYTES,
    )


def _accepted(facts: EndpointFacts, version: TlsVersion) -> bool:
    result = facts.protocols.get(version)
    return result is not None and result.status == ProtocolStatus.ACCEPTED


def _enumerated(facts: EndpointFacts, version: TlsVersion) -> CipherSuiteResult | None:
    """The complete suite list of `version`, when the suite enumeration ran and finished."""
    for result in facts.cipher_suites:
        if result.version == version and not result.errors:
            return result
    return None


def _has_kex(result: CipherSuiteResult, kinds: frozenset[str]) -> bool:
    return any((s := suite_by_name(name)) is not None and s.kex in kinds for name in result.accepted)


def dh_group_label(prime: bytes) -> str:
    return ffdhe_name(prime) or modp_name(prime) or f"custom-{int.from_bytes(prime, 'big').bit_length()}"


async def collect_key_exchange(prober: Prober, facts: EndpointFacts) -> KeyExchangeFacts:
    accepted = [v for v in TlsVersion if _accepted(facts, v)]
    errors: list[str] = []
    tls13 = TlsVersion.TLSv1_3 in accepted

    async def groups_of(version: TlsVersion) -> tuple[TlsVersion, GroupScan]:
        known = _enumerated(facts, version)
        if known is not None and version != TlsVersion.TLSv1_3 and not _has_kex(known, frozenset({"ECDHE"})):
            return version, GroupScan()
        return version, await enumerate_groups(prober, version)

    async def dh_of(version: TlsVersion, export: bool) -> tuple[bytes, str]:
        known = _enumerated(facts, version)
        if known is not None and not any(
            (s := suite_by_name(name)) is not None and s.kex == "DHE" and ("EXPORT" in s.name) == export
            for name in known.accepted
        ):
            return b"", ""
        return await dh_prime(prober, version, export=export)

    async def static_of(version: TlsVersion) -> tuple[TlsVersion, bool | None]:
        known = _enumerated(facts, version)
        if known is not None:
            return version, "no-forward-secrecy" in known.classes
        return version, await static_kex(prober, version)

    # Groups: TLS 1.3 and the highest of TLS 1.0-1.2 (servers configure curves once for every version).
    ecdhe = [v for v in accepted if v in ECDHE_VERSIONS]
    group_versions = ([TlsVersion.TLSv1_3] if tls13 else []) + ecdhe[-1:]
    # DH: ordinary DHE at the highest version below TLS 1.3, export DHE at the lowest (its era).
    dh_versions = [v for v in accepted if v in DHE_VERSIONS]
    dh_jobs = [dh_of(dh_versions[-1], False), dh_of(dh_versions[0], True)] if dh_versions else []
    gathered = await asyncio.gather(
        asyncio.gather(*(groups_of(v) for v in group_versions)),
        asyncio.gather(*dh_jobs),
        asyncio.gather(*(static_of(v) for v in dh_versions)),
        large_hello(prober, tls13) if accepted and (tls13 or TlsVersion.TLSv1_2 in accepted) else _none(),
    )
    group_scans, dh_results, static_results, big = gathered
    groups: dict[TlsVersion, tuple[str, ...]] = {}
    first13: Choice | None = None
    for version, scan in sorted(group_scans, key=lambda item: list(TlsVersion).index(item[0])):
        groups[version] = tuple(group_name(g) for g in scan.groups)
        if scan.problem:
            errors.append(scan.problem)
        if version == TlsVersion.TLSv1_3:
            first13 = scan.first
    primes = [p for p, _problem in dh_results if p]
    errors.extend(problem for _found, problem in dh_results if problem)
    dh_labels = tuple(dict.fromkeys(dh_group_label(p) for p in primes))
    sizes = [int.from_bytes(p, "big").bit_length() for p in primes]
    sizes += [FFDHE_BITS[name] for name in groups.get(TlsVersion.TLSv1_3, ()) if name in FFDHE_BITS]
    static = {v: found for v, found in static_results}
    static_versions = [v.value for v, found in static.items() if found]
    if TlsVersion.SSLv2 in accepted:
        static_versions.insert(0, TlsVersion.SSLv2.value)  # SSLv2 has RSA key exchange only
    if static_versions:
        forward_secrecy: bool | None = False
    elif any(found is None for found in static.values()):
        forward_secrecy = None
    else:
        forward_secrecy = True if accepted else None
    tls13_groups = groups.get(TlsVersion.TLSv1_3)
    pq_names = {group_name(g) for g in HYBRID_PQ_GROUPS}
    pq_hybrid: bool | None
    if not accepted:
        pq_hybrid = None
    elif not tls13:
        pq_hybrid = False
    elif tls13_groups is None or any(e.startswith("TLSv1.3 groups") for e in errors):
        pq_hybrid = None
    else:
        pq_hybrid = any(name in pq_names for name in tls13_groups)
    pq_hello_retry = None
    if pq_hybrid and first13 is not None and first13.group is not None:
        pq_hello_retry = first13.hello_retry and first13.group in HYBRID_PQ_GROUPS
    pq_preferred = None
    if pq_hybrid and big is not None and big.group is not None:
        pq_preferred = big.group == X25519MLKEM768
    tolerant: bool | None = None
    if big is not None:
        if big.accepted:
            tolerant = True
        elif big.refused or (big.problem and big.reached):
            tolerant = False
    return KeyExchangeFacts(
        groups=groups,
        pq_hybrid=pq_hybrid,
        pq_hello_retry=pq_hello_retry,
        pq_preferred=pq_preferred,
        dh_bits=min(sizes) if sizes else None,
        dh_groups=dh_labels,
        forward_secrecy=forward_secrecy,
        static_key_exchange=tuple(static_versions),
        large_hello_tolerant=tolerant,
        errors=tuple(errors),
    )


async def _none() -> None:
    return None


def key_exchange_enricher() -> Enricher:
    """Fill `EndpointFacts.key_exchange` for an endpoint that accepted at least one version."""

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        if not any(r.status == ProtocolStatus.ACCEPTED for r in facts.protocols.values()):
            return facts
        found = await collect_key_exchange(collected.prober, facts)
        errors = (*facts.errors, *(f"key exchange: {e}" for e in found.errors))
        return dataclasses.replace(facts, key_exchange=found, errors=errors)

    return enrich
