"""ROBOT (Return Of Bleichenbacher's Oracle Threat): does the server answer differently formatted
PKCS#1 v1.5 premaster secrets differently? Only where RSA key exchange (TLS_RSA_*) is accepted.

A round is five connections, one per `rsa_key_exchange.Padding` variant, each offering only RSA
key-exchange suites and sending, after the server's first flight, ClientKeyExchange + ChangeCipherSpec +
the same unverifiable Finished (the complete flow of the ROBOT paper). Identical answers: not
vulnerable. Different answers are confirmed by a second round (at most 10 connections per endpoint):
the same pattern twice is an oracle; a pattern that changes is unknown.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric import rsa

from tlsaudit.models import FlawCheck, FlawStatus, TlsVersion
from tlsaudit.probe.second_flight import Outcome, converse
from tlsaudit.probe.transport import Prober
from tlsaudit.tls.client_hello import build_client_hello
from tlsaudit.tls.constants import CIPHER_SUITES, VERSION_CODES, suites_for_version
from tlsaudit.tls.rsa_key_exchange import (
    FINISHED_BYTES,
    Padding,
    encrypt_raw,
    key_exchange_flight,
    key_size_bytes,
    padded_premaster,
    rsa_public_key,
)
from tlsaudit.tls.server_flight import (
    Alert,
    CertificateChain,
    EncryptedFlight,
    Event,
    Malformed,
    ServerHello,
    ServerHelloDone,
)
from tlsaudit.tls.suite_offers import MAX_OFFERED_SUITES

ROUNDS = 2


def rsa_suites(version: TlsVersion) -> tuple[int, ...]:
    """The RSA key-exchange suites a hello of `version` may offer (no export suites), strongest first."""
    return tuple(
        c
        for c in suites_for_version(version)
        if CIPHER_SUITES[c].kex == "RSA" and "export" not in CIPHER_SUITES[c].classes
    )[: MAX_OFFERED_SUITES - 1]


class _KeyMissing(Exception):
    """The server's flight had no RSA certificate to encrypt to."""


def _ended(events: Sequence[Event]) -> bool:
    return any(isinstance(e, Malformed) or (isinstance(e, Alert) and e.ends_handshake) for e in events)


def _server_key(events: Sequence[Event]) -> rsa.RSAPublicKey | None:
    chain = next((e for e in events if isinstance(e, CertificateChain)), None)
    return rsa_public_key(chain.der_certs[0]) if chain is not None and chain.der_certs else None


def _not_rsa(events: Sequence[Event]) -> bool:
    """Stop before the key exchange: no RSA suite picked, or a whole flight without an RSA certificate."""
    for e in events:
        if isinstance(e, EncryptedFlight | Malformed):
            return True
        if isinstance(e, ServerHello):
            suite = CIPHER_SUITES.get(e.cipher_suite)
            if suite is None or suite.kex != "RSA":
                return True
    if any(isinstance(e, ServerHelloDone) for e in events):
        try:
            return _server_key(events) is None
        except ValueError:
            return True
    return False


async def _one(
    prober: Prober, version: TlsVersion, suites: Sequence[int], variant: Padding, finished: bytes
) -> Outcome:
    code = VERSION_CODES[version]

    def build(events: Sequence[Event]) -> bytes | None:
        key = _server_key(events)  # present: `_not_rsa` stopped the exchange otherwise
        if key is None:
            return None
        plain = padded_premaster(variant, key_size_bytes(key), code)
        return key_exchange_flight(encrypt_raw(key, plain), code, finished)

    hello = build_client_hello(version, cipher_suites=suites, server_name=prober.endpoint.server_name)
    return await converse(prober, hello, build, _ended, stop_before=_not_rsa)


def _refused(outcomes: Sequence[Outcome]) -> FlawCheck | None:
    """A verdict from the first round when it never got to the key exchange."""
    n = sum(o.attempts for o in outcomes)
    first = outcomes[0]
    # Broken bytes after the key exchange are an answer like any other, compared between the variants.
    broken = next((o.malformed_before for o in outcomes if o.malformed_before is not None), None)
    if broken is not None:
        return FlawCheck(
            status=FlawStatus.UNKNOWN, reason=f"malformed answer: {broken.reason}", connections=n
        )
    hello = first.hello
    if hello is not None:
        suite = CIPHER_SUITES.get(hello.cipher_suite)
        if suite is None or suite.kex != "RSA":
            return FlawCheck(
                status=FlawStatus.NOT_APPLICABLE,
                reason="the server picked no RSA key-exchange suite from a hello offering only those",
                connections=n,
            )
    if all(not o.sent for o in outcomes):
        if all(o.refusal is not None for o in outcomes):
            return FlawCheck(
                status=FlawStatus.NOT_APPLICABLE,
                reason=f"RSA key exchange refused (alert {outcomes[0].refusal.name})",  # type: ignore[union-attr]
                connections=n,
            )
        if hello is not None:
            return FlawCheck(
                status=FlawStatus.UNKNOWN, reason="no RSA certificate in the server's flight", connections=n
            )
        ex = first.exchange
        return FlawCheck(
            status=FlawStatus.UNKNOWN,
            reason=f"no complete first flight ({ex.detail or ex.ending.value})",
            connections=n,
        )
    if not all(o.sent for o in outcomes):
        return FlawCheck(
            status=FlawStatus.UNKNOWN,
            reason="the key exchange was not reached on every connection",
            connections=n,
        )
    return None


async def _round(prober: Prober, version: TlsVersion, suites: Sequence[int]) -> list[Outcome]:
    finished = os.urandom(FINISHED_BYTES)
    return list(await asyncio.gather(*(_one(prober, version, suites, v, finished) for v in Padding)))


def _pattern(outcomes: Sequence[Outcome]) -> dict[Padding, str]:
    return {variant: o.answer() for variant, o in zip(Padding, outcomes, strict=True)}


async def check_robot(
    prober: Prober, version: TlsVersion, accepted_suites: Sequence[int] | None
) -> FlawCheck:
    """`accepted_suites`: the suites the enumeration found for `version` (None when not enumerated)."""
    offered = rsa_suites(version)
    if accepted_suites is not None:
        offered = tuple(c for c in offered if c in set(accepted_suites))
        if not offered:
            return FlawCheck(
                status=FlawStatus.NOT_APPLICABLE,
                reason=f"no RSA key-exchange suite accepted over {version.value}",
            )
    first = await _round(prober, version, offered)
    verdict = _refused(first)
    if verdict is not None:
        return verdict
    patterns = [_pattern(first)]
    connections = sum(o.attempts for o in first)
    if len(set(patterns[0].values())) > 1:
        again = await _round(prober, version, offered)
        connections += sum(o.attempts for o in again)
        if _refused(again) is not None:
            return FlawCheck(
                status=FlawStatus.UNKNOWN,
                reason="the second round did not reach the key exchange",
                connections=connections,
            )
        patterns.append(_pattern(again))
    suite = first[0].hello.cipher_suite if first[0].hello else None
    name = CIPHER_SUITES[suite].name if suite in CIPHER_SUITES else "an RSA suite"
    if len(patterns) == 1:
        answer = next(iter(patterns[0].values()))
        return FlawCheck(
            status=FlawStatus.NOT_VULNERABLE,
            reason=f"{version.value} {name}: the same answer to all {len(Padding)} padding variants "
            f"({answer})",
            connections=connections,
        )
    if patterns[0] != patterns[1]:
        return FlawCheck(
            status=FlawStatus.UNKNOWN,
            reason=f"{version.value} {name}: the answers to the padding variants changed between two rounds",
            connections=connections,
        )
    seen = patterns[0]
    strong = seen[Padding.WRONG_FIRST_BYTES] != seen[Padding.CORRECT]
    listing = "; ".join(f"{v.value}: {a}" for v, a in seen.items())
    return FlawCheck(
        status=FlawStatus.VULNERABLE,
        reason=f"{version.value} {name}: {'strong' if strong else 'weak'} padding oracle, confirmed in two "
        f"rounds ({listing})",
        connections=connections,
    )
