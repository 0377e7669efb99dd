"""The client's second flight for the known-flaw checks: one connection that sends a ClientHello, waits
for the server's first flight (up to ServerHelloDone) and then sends crafted bytes, through the probe
transport (`Prober.run` with a responder), and what the server did after them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tlsaudit.probe.transport import Ending, Exchange, Prober
from tlsaudit.tls.server_flight import Alert, Event, Malformed, ServerHello, ServerHelloDone


class AfterFlight:
    """A responder that sends `build(events)` once, when ServerHelloDone is in (None: send nothing)."""

    def __init__(self, build: Callable[[Sequence[Event]], bytes | None]) -> None:
        self._build = build
        self._done = False
        self.sent_at: int | None = None  # how many events had arrived when the bytes went out

    def __call__(self, events: Sequence[Event]) -> bytes | None:
        if self._done or not any(isinstance(e, ServerHelloDone) for e in events):
            return None
        self._done = True
        out = self._build(events)
        if out:
            self.sent_at = len(events)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One conversation: the server's events before and after the crafted bytes, and how it ended."""

    exchange: Exchange
    sent: bool  # the crafted bytes went out
    before: tuple[Event, ...]
    after: tuple[Event, ...]
    attempts: int

    @property
    def hello(self) -> ServerHello | None:
        return next((e for e in self.before if isinstance(e, ServerHello)), None)

    @property
    def malformed(self) -> Malformed | None:
        return next((e for e in self.exchange.events if isinstance(e, Malformed)), None)

    @property
    def malformed_before(self) -> Malformed | None:
        """Broken bytes in the server's first flight, before the crafted bytes went out."""
        return next((e for e in self.before if isinstance(e, Malformed)), None)

    @property
    def left_tls_after(self) -> Malformed | None:
        """Bytes that are not TLS as the server's first answer to the crafted bytes: it dropped the TLS
        session and went on in its own protocol (vsftpd's `500 OOPS` after a failed handshake)."""
        first = next((e for e in self.after if isinstance(e, Alert | Malformed)), None)
        return first if isinstance(first, Malformed) else None

    @property
    def refusal(self) -> Alert | None:
        """The alert that ended the handshake before the crafted bytes went out."""
        return next((e for e in self.before if isinstance(e, Alert) and e.ends_handshake), None)

    def answer(self) -> str:
        """What the server did after the crafted bytes, in words: the first fatal alert, else how the
        connection ended."""
        alert = next((e for e in self.after if isinstance(e, Alert) and e.ends_handshake), None)
        if alert is not None:
            return f"alert {alert.name}"
        broken = next((e for e in self.after if isinstance(e, Malformed)), None)
        if broken is not None:
            return f"malformed answer ({broken.reason})"
        ending = self.exchange.ending
        if ending == Ending.CLOSED:
            return "closed"
        if ending == Ending.RESET:
            return "reset"
        if ending == Ending.TIMEOUT:
            return "no answer (timeout)"
        return self.exchange.detail or ending.value


def _transient(ex: Exchange) -> bool:
    return (
        ex.ending in (Ending.TIMEOUT, Ending.RESET, Ending.NETWORK_ERROR, Ending.CONNECT_FAILED)
        and not ex.events
    )


async def converse(
    prober: Prober,
    hello: bytes,
    build: Callable[[Sequence[Event]], bytes | None],
    decide_after: Callable[[Sequence[Event]], bool],
    *,
    stop_before: Callable[[Sequence[Event]], bool] | None = None,
) -> Outcome:
    """Send `hello`; after ServerHelloDone send `build(events)`; stop once `decide_after` holds for the
    events that followed (or `stop_before` for the first flight, e.g. a ServerHello that rules the check
    out), on a handshake-ending alert before the bytes went out, or a malformed answer. Retried (as the
    prober allows) only when nothing at all came back."""
    responders: list[AfterFlight] = []

    def responder() -> AfterFlight:
        responders.append(AfterFlight(build))
        return responders[-1]

    def decide(events: Sequence[Event]) -> bool:
        current = responders[-1]
        if current.sent_at is None:
            if any(isinstance(e, Alert) and e.ends_handshake for e in events):
                return True
            return stop_before(events) if stop_before is not None else False
        return decide_after(events[current.sent_at :])

    ex, attempts = await prober.run(lambda: hello, decide, transient=_transient, respond=responder)
    sent_at = responders[-1].sent_at
    split = len(ex.events) if sent_at is None else sent_at
    return Outcome(
        exchange=ex,
        sent=sent_at is not None,
        before=ex.events[:split],
        after=ex.events[split:],
        attempts=attempts,
    )
