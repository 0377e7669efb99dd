"""CCS injection (CVE-2014-0224): does the server accept a ChangeCipherSpec before the key exchange?
One connection: after the server's first flight, a ChangeCipherSpec and then a record standing for an
encrypted Finished. A correct server refuses the early ChangeCipherSpec (alert unexpected_message, or
it closes); a vulnerable one (OpenSSL before 0.9.8za, 1.0.0m, 1.0.1h) switches to keys derived from an
empty master secret and fails to decrypt the next record (bad_record_mac, decryption_failed,
record_overflow).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from tlsaudit.models import FlawCheck, FlawStatus, TlsVersion
from tlsaudit.probe.second_flight import converse
from tlsaudit.probe.transport import Ending, Prober
from tlsaudit.tls.client_hello import build_client_hello
from tlsaudit.tls.constants import VERSION_CODES, ContentType
from tlsaudit.tls.server_flight import Alert, EncryptedFlight, Event, Malformed
from tlsaudit.tls.suite_offers import probe_suites
from tlsaudit.tls.wire import encode_records

UNEXPECTED_MESSAGE = 10
# Alerts of a server that tried to decrypt the record after the early ChangeCipherSpec.
DECRYPTION_ALERTS = frozenset({20, 21, 22})  # bad_record_mac, decryption_failed, record_overflow
FAKE_FINISHED_BYTES = 48


def early_change_cipher_spec(version: int) -> bytes:
    return encode_records(ContentType.change_cipher_spec, version, b"\x01") + encode_records(
        ContentType.handshake, version, os.urandom(FAKE_FINISHED_BYTES)
    )


def _ended(events: Sequence[Event]) -> bool:
    return any(isinstance(e, Malformed) or (isinstance(e, Alert) and e.ends_handshake) for e in events)


def _tls13(events: Sequence[Event]) -> bool:
    return any(isinstance(e, EncryptedFlight | Malformed) for e in events)


async def check_ccs_injection(prober: Prober, version: TlsVersion) -> FlawCheck:
    code = VERSION_CODES[version]
    hello = build_client_hello(
        version, cipher_suites=probe_suites(version), server_name=prober.endpoint.server_name
    )
    out = await converse(
        prober, hello, lambda _events: early_change_cipher_spec(code), _ended, stop_before=_tls13
    )
    n = out.attempts
    if out.malformed_before is not None:
        return FlawCheck(
            status=FlawStatus.UNKNOWN,
            reason=f"malformed answer: {out.malformed_before.reason}",
            connections=n,
        )
    if not out.sent:
        if out.refusal is not None:
            problem = f"the hello was refused (alert {out.refusal.name})"
        else:
            problem = f"no complete first flight ({out.exchange.detail or out.exchange.ending.value})"
        return FlawCheck(status=FlawStatus.UNKNOWN, reason=problem, connections=n)
    alert = next((e for e in out.after if isinstance(e, Alert) and e.ends_handshake), None)
    if alert is not None and alert.description in DECRYPTION_ALERTS:
        return FlawCheck(
            status=FlawStatus.VULNERABLE,
            reason=f"{version.value}: the early ChangeCipherSpec was accepted: the record after it was "
            f"decrypted with new keys (alert {alert.name})",
            connections=n,
        )
    left = out.left_tls_after
    if left is not None:
        # No decryption alert: the server aborted the handshake and went back to its own protocol.
        return FlawCheck(
            status=FlawStatus.NOT_VULNERABLE,
            reason=f"{version.value}: the early ChangeCipherSpec was refused "
            f"(the server left TLS: {left.reason})",
            connections=n,
        )
    if alert is not None or out.exchange.ending in (Ending.CLOSED, Ending.RESET):
        return FlawCheck(
            status=FlawStatus.NOT_VULNERABLE,
            reason=f"{version.value}: the early ChangeCipherSpec was refused ({out.answer()})",
            connections=n,
        )
    return FlawCheck(
        status=FlawStatus.UNKNOWN,
        reason=f"{version.value}: after the early ChangeCipherSpec: {out.answer()}",
        connections=n,
    )
