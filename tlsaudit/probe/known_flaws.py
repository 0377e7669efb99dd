"""Known protocol-implementation flaws tested with a few handshakes: Heartbleed (CVE-2014-0160), CCS
injection (CVE-2014-0224) and ROBOT (a Bleichenbacher padding oracle). `--no-flaw-checks` leaves them
out; their rules are then not assessed (`error`).

Bound, per endpoint: Heartbleed 1 connection, CCS injection 1, ROBOT 5 or 10 (a second round only to
confirm different answers; none without RSA key exchange), each retried only when nothing at all came
back, as the prober allows. They run at the highest accepted version below TLS 1.3 (vulnerable stacks
predate TLS 1.3); a TLS 1.3-only endpoint has none of them.
"""

from __future__ import annotations

import asyncio
import dataclasses

from tlsaudit.models import (
    EndpointFacts,
    FlawCheck,
    FlawStatus,
    KnownFlaws,
    ProtocolStatus,
    TlsVersion,
)
from tlsaudit.probe.ccs_injection import check_ccs_injection
from tlsaudit.probe.heartbleed import check_heartbleed
from tlsaudit.probe.robot import check_robot
from tlsaudit.probe.scanner import EndpointProbes, Enricher
from tlsaudit.probe.transport import Prober
from tlsaudit.tls.constants import suite_by_name

PRE_TLS13 = (TlsVersion.SSLv3, TlsVersion.TLSv1_0, TlsVersion.TLSv1_1, TlsVersion.TLSv1_2)


def _status(facts: EndpointFacts, version: TlsVersion) -> ProtocolStatus:
    result = facts.protocols.get(version)
    return result.status if result is not None else ProtocolStatus.UNKNOWN


def _suites(facts: EndpointFacts, version: TlsVersion) -> tuple[int, ...] | None:
    """The suites the enumeration found for `version`; None when it did not run or failed part-way."""
    for result in facts.cipher_suites:
        if result.version == version and not result.errors:
            found = (suite_by_name(name) for name in result.accepted)
            return tuple(s.code for s in found if s is not None)
    return None


async def collect_known_flaws(prober: Prober, facts: EndpointFacts) -> KnownFlaws | None:
    """None when no version below TLS 1.3 was accepted and some could not be decided."""
    legacy = [v for v in PRE_TLS13 if _status(facts, v) == ProtocolStatus.ACCEPTED]
    if not legacy:
        if any(_status(facts, v) == ProtocolStatus.UNKNOWN for v in PRE_TLS13):
            return None
        none = FlawCheck(status=FlawStatus.NOT_APPLICABLE, reason="no version below TLS 1.3 accepted")
        return KnownFlaws(heartbleed=none, ccs_injection=none, robot=none)
    top = legacy[-1]
    with_extensions = [v for v in legacy if v != TlsVersion.SSLv3]

    async def heartbleed() -> FlawCheck:
        if not with_extensions:
            return FlawCheck(
                status=FlawStatus.NOT_APPLICABLE, reason="SSLv3 only: no extensions, hence no heartbeats"
            )
        return await check_heartbleed(prober, with_extensions[-1])

    hb, ccs, robot = await asyncio.gather(
        heartbleed(), check_ccs_injection(prober, top), check_robot(prober, top, _suites(facts, top))
    )
    return KnownFlaws(heartbleed=hb, ccs_injection=ccs, robot=robot)


def known_flaws_enricher() -> Enricher:
    """Fill `EndpointFacts.known_flaws` (unknown outcomes also go to the endpoint's errors)."""

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        if facts.starttls_refused is not None:
            return facts
        found = await collect_known_flaws(collected.prober, facts)
        if found is None:
            return facts
        unknown = [
            f"known flaws: {name}: {check.reason}"
            for name, check in (
                ("Heartbleed", found.heartbleed),
                ("CCS injection", found.ccs_injection),
                ("ROBOT", found.robot),
            )
            if check is not None and check.status == FlawStatus.UNKNOWN
        ]
        return dataclasses.replace(facts, known_flaws=found, errors=(*facts.errors, *unknown))

    return enrich
