"""One more full handshake per endpoint for what only a complete session shows: the OCSP response the
server staples when asked (status_request), and, on endpoints reached without STARTTLS, the answer to one
HTTP request (its Strict-Transport-Security header).

Bounded: one connection per endpoint (no retry), under the scan's timeout, reading at most
`hsts.MAX_HEADER_BYTES` of the HTTP answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from tlsaudit.errors import PeerError, ProbeError
from tlsaudit.models import EndpointFacts, HttpCheck, HttpOutcome, ProtocolStatus
from tlsaudit.probe.hsts import http_request, read_answer
from tlsaudit.probe.ocsp import assess_stapled
from tlsaudit.probe.scanner import EndpointProbes, Enricher

# Ports of TLS services that are not HTTP and wait silently for their client (no banner to tell them by):
# no HTTP request is sent there (it could only time out).
NOT_HTTP_PORTS: dict[int, str] = {
    465: "SMTP submission over TLS",
    636: "LDAPS",
    853: "DNS over TLS",
    990: "FTPS",
    993: "IMAPS",
    995: "POP3S",
    3269: "LDAPS (global catalog)",
    5061: "SIP over TLS",
    5671: "AMQP over TLS",
    6697: "IRC over TLS",
    8883: "MQTT over TLS",
}


def session_check_enricher(
    *, http: bool = True, ocsp: bool = True, clock: Callable[[], dt.datetime] | None = None
) -> Enricher:
    """Fill `ocsp_stapling` (when `ocsp`) and `http`/`hsts` (when `http`, not on STARTTLS endpoints)."""

    async def enrich(collected: EndpointProbes, facts: EndpointFacts) -> EndpointFacts:
        if facts.starttls_refused is not None:
            return facts
        if not any(r.status == ProtocolStatus.ACCEPTED for r in facts.protocols.values()):
            return facts
        send_http = http and collected.target.starttls is None
        port_service = NOT_HTTP_PORTS.get(collected.target.port)
        if send_http and port_service is not None:
            send_http = False
            facts = dataclasses.replace(
                facts,
                http=HttpCheck(
                    outcome=HttpOutcome.NOT_HTTP,
                    detail=f"port {collected.target.port} is {port_service}: no HTTP request sent",
                ),
            )
        if not send_http and not ocsp:
            return facts
        from tlsaudit.probe.chain_fetch import full_handshake  # pyOpenSSL only when it is needed

        host = collected.server_name or collected.target.host
        request = http_request(host, collected.target.port) if send_http else None
        try:
            result = await full_handshake(collected.prober, request_ocsp=ocsp, http_request=request)
        except (ProbeError, PeerError) as exc:
            problem = f"full handshake: {exc}"
            return dataclasses.replace(
                facts,
                http=HttpCheck(outcome=HttpOutcome.FAILED, detail=problem) if send_http else None,
                errors=(*facts.errors, f"session checks: {problem}"),
            )
        changes: dict[str, object] = {}
        if ocsp and result.ocsp_response is not None:
            changes["ocsp_stapling"] = assess_stapled(
                result.ocsp_response, result.chain, now=clock() if clock else None
            )
        if send_http:
            if result.http_error and not result.http_answer:
                changes["http"] = HttpCheck(outcome=HttpOutcome.FAILED, detail=result.http_error)
            else:
                check, hsts = read_answer(result.http_answer or b"", closed=result.http_closed)
                changes["http"] = check
                changes["hsts"] = hsts
        return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]

    return enrich
