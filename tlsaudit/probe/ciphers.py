"""Which cipher suites a server accepts per version, and in which order it prefers them.

Enumeration offers the whole IANA registry for the version, in chunks (64 suites, as nmap does: some
servers choke on hellos of more than about 128), and removes the chosen suite until the server
refuses the rest.

The order: two hellos with the accepted suites in opposite orders tell whether the server imposes
its own preference (when the first suite offered wins both times, a third hello with the first two
swapped confirms that it follows the client's order); if it does and the suites came from more than
one chunk, repeated selection over the accepted suites sorts them.

`enumerate_suites` is the pure algorithm over an async `try_hello(offered) -> chosen | None`;
`enumerate_cipher_suites` wires it to the probe transport (with STARTTLS where needed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from tlsaudit.errors import PeerError, ProbeError
from tlsaudit.models import CipherSuiteResult, TlsVersion
from tlsaudit.probe.transport import Decide, Ending, Exchange, Prober
from tlsaudit.tls.client_hello import suites_hello
from tlsaudit.tls.constants import VERSION_CODES, classify, suite_name
from tlsaudit.tls.server_flight import Alert, Event, Malformed, ServerHello, SSLv2ServerHello
from tlsaudit.tls.suite_offers import ranked_suites

CHUNK_SIZE = 64
TryHello = Callable[[Sequence[int]], Awaitable[int | None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteEnumeration:
    """Suites accepted for one version, in the server's order when `server_preference` is true
    (otherwise in the order offered); `complete` is false when a probe failed on the way."""

    accepted: tuple[int, ...]
    server_preference: bool | None
    probes: int
    complete: bool = True
    errors: tuple[str, ...] = ()


class _Counter:
    def __init__(self, try_hello: TryHello) -> None:
        self._try = try_hello
        self.count = 0

    async def __call__(self, offered: Sequence[int]) -> int | None:
        self.count += 1
        return await self._try(offered)


async def enumerate_suites(
    try_hello: TryHello, candidates: Sequence[int], *, chunk_size: int = CHUNK_SIZE, order: bool = True
) -> SuiteEnumeration:
    """Find every accepted suite among `candidates` and, if `order`, the server's preference."""
    probe = _Counter(try_hello)
    accepted: list[int] = []
    chunks_used = 0
    errors: list[str] = []
    for start in range(0, len(candidates), chunk_size):
        remaining = list(candidates[start : start + chunk_size])
        found_here = False
        while remaining:
            try:
                chosen = await probe(remaining)
            except (ProbeError, PeerError) as exc:
                errors.append(str(exc))
                break
            if chosen is None:
                break
            if chosen not in remaining:
                # Choosing a suite that was not offered is a protocol violation; going on would loop.
                errors.append(f"the server chose {suite_name(chosen)}, which was not offered")
                break
            accepted.append(chosen)
            remaining.remove(chosen)
            found_here = True
        chunks_used += found_here
        if errors:
            break  # the list is incomplete whatever follows: spare the server the remaining chunks
    preference: bool | None = None
    result = accepted
    if order and len(accepted) >= 2 and not errors:
        try:
            preference, result = await _order(probe, accepted, single_chunk=chunks_used == 1)
        except (ProbeError, PeerError) as exc:
            errors.append(str(exc))
    return SuiteEnumeration(
        accepted=tuple(result),
        server_preference=preference,
        probes=probe.count,
        complete=not errors,
        errors=tuple(errors),
    )


async def _order(
    probe: _Counter, accepted: list[int], *, single_chunk: bool
) -> tuple[bool | None, list[int]]:
    forward = await probe(accepted)
    backward = await probe(accepted[::-1])
    if forward is not None and forward == backward:
        if single_chunk:
            # Each pick of the enumeration was the server's favourite among what was left.
            return True, accepted
        ordered: list[int] = []
        left = list(accepted)
        while len(left) > 1:
            chosen = await probe(left)
            if chosen is None or chosen not in left:
                raise PeerError("the server's choices changed while sorting its preference")
            ordered.append(chosen)
            left.remove(chosen)
        return True, ordered + left
    if forward == accepted[0] and backward == accepted[-1]:
        if len(accepted) > 2:
            # The ends of the list may be honoured for a reason other than the client's order (Go and
            # BoringSSL follow the client's AES-GCM or ChaCha20 choice, then pick by their own order):
            # the client's order rules only if the second suite, offered first, wins too.
            swapped = await probe([accepted[1], accepted[0], *accepted[2:]])
            if swapped != accepted[1]:
                return None, accepted
        return False, accepted
    # Neither strictly ours nor strictly its own (e.g. equal-preference groups, ChaCha priority).
    return None, accepted


# ------------------------------------------------------------------------------------------ wiring


def _decide(version: TlsVersion) -> Decide:
    def decide(events: Sequence[Event]) -> bool:
        return any(isinstance(e, ServerHello | Alert | Malformed | SSLv2ServerHello) for e in events)

    return decide


def chosen_suite(version: TlsVersion, ex: Exchange) -> int | None:
    """The suite the server chose for `version`, or None if it refused (alert, close, another version).
    Raises ProbeError when the exchange could not tell (timeout, reset, malformed answer)."""
    for event in ex.events:
        if isinstance(event, ServerHello):
            return event.cipher_suite if event.selected_version == VERSION_CODES[version] else None
        if isinstance(event, SSLv2ServerHello):
            return None
        if isinstance(event, Alert) and event.ends_handshake:
            return None
        if isinstance(event, Malformed):
            raise ProbeError(f"malformed answer: {event.reason}")
    if ex.ending == Ending.CLOSED and not ex.received:
        return None
    # A reset is not taken as a refusal: were it a network fault, a weak suite could go unseen. It is
    # retried, and a persistent one leaves the enumeration incomplete.
    raise ProbeError(ex.detail or "no answer")


def _undecided(version: TlsVersion) -> Callable[[Exchange], bool]:
    def transient(ex: Exchange) -> bool:
        try:
            chosen_suite(version, ex)
        except ProbeError:
            return ex.ending != Ending.STARTTLS_REFUSED and not any(
                isinstance(e, Malformed) for e in ex.events
            )
        return False

    return transient


def hello_trier(prober: Prober, version: TlsVersion) -> TryHello:
    """`try_hello` over the probe transport: one ClientHello offering exactly the given suites."""

    async def try_hello(offered: Sequence[int]) -> int | None:
        name = prober.endpoint.server_name
        ex, _ = await prober.run(
            lambda: suites_hello(version, offered, name),
            _decide(version),
            transient=_undecided(version),
        )
        return chosen_suite(version, ex)

    return try_hello


async def enumerate_cipher_suites(
    prober: Prober, version: TlsVersion, *, candidates: Sequence[int] | None = None
) -> tuple[CipherSuiteResult, SuiteEnumeration]:
    """Enumerate the suites the prober's endpoint accepts for `version` (SSLv3 to TLS 1.3)."""
    if version == TlsVersion.SSLv2:
        raise ValueError("SSLv2 cipher kinds come from the SSLv2 SERVER-HELLO, not from enumeration")
    outcome = await enumerate_suites(
        hello_trier(prober, version), candidates or ranked_suites(version), chunk_size=CHUNK_SIZE
    )
    return suite_result(version, outcome), outcome


def suite_result(version: TlsVersion, outcome: SuiteEnumeration) -> CipherSuiteResult:
    classes: set[str] = set()
    for code in outcome.accepted:
        classes.update(classify(code))
    return CipherSuiteResult(
        version=version,
        accepted=tuple(suite_name(c) for c in outcome.accepted),
        server_preference=outcome.server_preference,
        classes=tuple(sorted(classes)),
        errors=outcome.errors,
    )
