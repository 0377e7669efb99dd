"""Heartbleed (CVE-2014-0160): does the server copy more bytes into a heartbeat reply than the request
carried? One connection: a ClientHello offering the heartbeat extension; a server that does not
negotiate it is not vulnerable (nothing more is sent). Otherwise, after the server's first flight, an
over-long request (claiming `heartbeat.OVER_READ` bytes more than it carries) and a well-formed one, in
the clear, as vulnerable OpenSSL releases processed heartbeats before the handshake completed.

Polite and bounded: the reply can hold at most `OVER_READ` bytes of the server's memory, the parser keeps
only the lengths of heartbeat records (never their bytes), and the exchange ends at the first reply.
"""

from __future__ import annotations

from collections.abc import Sequence

from tlsaudit.models import FlawCheck, FlawStatus, TlsVersion
from tlsaudit.probe.second_flight import converse
from tlsaudit.probe.transport import Ending, Prober
from tlsaudit.tls.client_hello import build_client_hello
from tlsaudit.tls.constants import VERSION_CODES, ExtensionType
from tlsaudit.tls.heartbeat import (
    CLAIMED_LENGTH,
    HEARTBEAT_RESPONSE,
    OVER_READ,
    heartbeat_extension,
    heartbleed_probe,
)
from tlsaudit.tls.server_flight import Alert, EncryptedFlight, Event, Heartbeat, Malformed, ServerHello
from tlsaudit.tls.suite_offers import probe_suites


def _no_heartbeat(events: Sequence[Event]) -> bool:
    """Stop at a ServerHello without the heartbeat extension (or a TLS 1.3 one): nothing to test."""
    for e in events:
        if isinstance(e, EncryptedFlight | Malformed):
            return True
        if isinstance(e, ServerHello):
            return ExtensionType.heartbeat not in dict(e.extensions)
    return False


def _replied(events: Sequence[Event]) -> bool:
    return any(
        isinstance(e, Heartbeat | Malformed) or (isinstance(e, Alert) and e.ends_handshake) for e in events
    )


async def check_heartbleed(prober: Prober, version: TlsVersion) -> FlawCheck:
    code = VERSION_CODES[version]
    hello = build_client_hello(
        version,
        cipher_suites=probe_suites(version),
        server_name=prober.endpoint.server_name,
        extra_extensions=(heartbeat_extension(),),
    )
    out = await converse(
        prober, hello, lambda _events: heartbleed_probe(code), _replied, stop_before=_no_heartbeat
    )
    n = out.attempts
    if out.malformed is not None:
        return FlawCheck(
            status=FlawStatus.UNKNOWN, reason=f"malformed answer: {out.malformed.reason}", connections=n
        )
    server_hello = out.hello
    if not out.sent:
        if server_hello is not None and ExtensionType.heartbeat not in dict(server_hello.extensions):
            return FlawCheck(
                status=FlawStatus.NOT_VULNERABLE,
                reason=f"{version.value}: the server does not negotiate the heartbeat extension",
                connections=n,
            )
        if out.refusal is not None:
            problem = f"the hello offering heartbeats was refused (alert {out.refusal.name})"
        else:
            problem = f"no complete first flight ({out.exchange.detail or out.exchange.ending.value})"
        return FlawCheck(status=FlawStatus.UNKNOWN, reason=problem, connections=n)
    beat = next((e for e in out.after if isinstance(e, Heartbeat)), None)
    if beat is not None and beat.message_type == HEARTBEAT_RESPONSE:
        if beat.payload_length >= CLAIMED_LENGTH:  # the well-formed request claimed len(ECHO_PAYLOAD)
            return FlawCheck(
                status=FlawStatus.VULNERABLE,
                reason=f"{version.value}: a heartbeat request claiming {OVER_READ} bytes more than it "
                f"carried was answered with {beat.payload_length} bytes (the extra bytes are not kept)",
                connections=n,
            )
        return FlawCheck(
            status=FlawStatus.NOT_VULNERABLE,
            reason=f"{version.value}: the over-long heartbeat request was discarded and the well-formed one "
            "answered",
            connections=n,
        )
    if out.exchange.ending == Ending.TIMEOUT and not any(isinstance(e, Alert) for e in out.after):
        return FlawCheck(
            status=FlawStatus.UNKNOWN,
            reason=f"{version.value}: no answer to the heartbeat requests nor to the close_notify after them",
            connections=n,
        )
    after = out.answer()
    reason = f"{version.value}: no reply to the over-long heartbeat request; after the close_notify: {after}"
    return FlawCheck(status=FlawStatus.NOT_VULNERABLE, reason=reason, connections=n)
