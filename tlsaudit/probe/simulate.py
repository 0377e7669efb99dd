"""Client simulation: replay each profile's ClientHello at an endpoint (fresh random, the endpoint's name,
the client's offer unchanged) through the probe transport, and say whether that client connects.

The server's first answer decides: a ServerHello selecting a version and suite the client offered means
it connects (a HelloRetryRequest for a group it offered too: the client sends a second hello); an alert,
a close or a choice the client never offered means it fails. Anything that does not decide is `unknown`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tlsaudit.client_profiles import ClientProfile
from tlsaudit.models import ClientSimulation, SimulationResult
from tlsaudit.probe.transport import Ending, Exchange, Prober
from tlsaudit.tls.constants import CIPHER_SUITES, ExtensionType, group_name, suite_name, version_from_code
from tlsaudit.tls.hello_edit import retarget_hello
from tlsaudit.tls.server_flight import Alert, Event, Malformed, ServerHello, SSLv2ServerHello

_TRANSIENT = (Ending.TIMEOUT, Ending.NETWORK_ERROR)


def _decide(events: Sequence[Event]) -> bool:
    return any(isinstance(e, ServerHello | Malformed | SSLv2ServerHello) for e in events) or any(
        isinstance(e, Alert) and e.ends_handshake for e in events
    )


def _transient(ex: Exchange) -> bool:
    return not ex.events and (ex.ending in _TRANSIENT or (ex.ending == Ending.RESET and not ex.received))


def _selected_group(hello: ServerHello) -> int | None:
    for ext_type, data in hello.extensions:
        if ext_type == ExtensionType.key_share and len(data) >= 2:
            return int.from_bytes(data[:2], "big")
    return None


def _outcome(profile: ClientProfile, result: SimulationResult, **found: str) -> ClientSimulation:
    return ClientSimulation(
        client=profile.id, name=profile.name, version=profile.version, result=result, **found
    )


def judge_simulation(profile: ClientProfile, ex: Exchange, *, endpoint_alive: bool) -> ClientSimulation:
    def fails(reason: str) -> ClientSimulation:
        return _outcome(profile, SimulationResult.FAILS, reason=reason)

    def unknown(reason: str) -> ClientSimulation:
        return _outcome(profile, SimulationResult.UNKNOWN, reason=reason)

    info = profile.info
    for event in ex.events:
        if isinstance(event, Malformed):
            return unknown(f"malformed answer: {event.reason}")
        if isinstance(event, Alert) and event.ends_handshake:
            return fails(f"alert {event.name}")
        if isinstance(event, SSLv2ServerHello):
            return fails("the server answered in SSLv2")
        if isinstance(event, ServerHello):
            version = version_from_code(event.selected_version)
            label = version.value if version else f"0x{event.selected_version:04x}"
            if version is None or not _offers_version(profile, label):
                return fails(f"the server chose {label}, which the client does not offer")
            if event.cipher_suite not in info.cipher_suites:
                return fails(
                    f"the server chose {suite_name(event.cipher_suite)}, which the client does not offer"
                )
            refusal = _legacy_kex_refusal(profile, label, event.cipher_suite)
            if refusal:
                return fails(refusal)
            if event.is_hello_retry:
                group = _selected_group(event)
                if group is None or group not in info.groups:
                    wanted = group_name(group) if group is not None else "no group"
                    return fails(f"HelloRetryRequest for {wanted}, which the client does not offer")
            return _outcome(
                profile,
                SimulationResult.CONNECTS,
                protocol=label,
                cipher_suite=suite_name(event.cipher_suite),
            )
    if ex.ending == Ending.CLOSED and not ex.received:
        return fails("the server closed the connection")
    if ex.ending == Ending.RESET and not ex.received and endpoint_alive:
        return fails("the server reset the connection")
    return unknown(ex.detail or "no answer")


def _legacy_kex_refusal(profile: ClientProfile, version: str, suite_code: int) -> str:
    """A TLS 1.0/1.1 key exchange the client was measured not to complete (its library refuses it)."""
    if profile.legacy_kex is None or version not in ("TLSv1.0", "TLSv1.1"):
        return ""
    suite = CIPHER_SUITES.get(suite_code)
    kex = "rsa" if suite is not None and suite.kex == "RSA" else "ecdhe"
    if kex in profile.legacy_kex:
        return ""
    what = "RSA key exchange" if kex == "rsa" else "a signed (EC)DHE key exchange"
    return f"the client offers {version} but does not complete it with {what} (its TLS library refuses it)"


def _offers_version(profile: ClientProfile, label: str) -> bool:
    offered = profile.versions
    if label in offered:
        return True
    if profile.info.versions_exact or not offered:
        return False
    # Without supported_versions only the maximum is on the wire: a lower choice is up to the client's
    # minimum, which the profile records when it is known.
    order = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    if label not in order or offered[-1] not in order:
        return False
    return order.index(label) < order.index(offered[-1])


async def simulate_profile(
    prober: Prober, profile: ClientProfile, *, endpoint_alive: bool
) -> ClientSimulation:
    name = prober.endpoint.server_name
    ex, _attempts = await prober.run(
        lambda: retarget_hello(profile.hello, name), _decide, transient=_transient
    )
    return judge_simulation(profile, ex, endpoint_alive=endpoint_alive)


async def simulate_clients(
    prober: Prober, profiles: Sequence[ClientProfile], *, endpoint_alive: bool
) -> tuple[ClientSimulation, ...]:
    """Every profile against the prober's endpoint, in profile order."""
    results = await asyncio.gather(
        *(simulate_profile(prober, p, endpoint_alive=endpoint_alive) for p in profiles)
    )
    return tuple(results)
