"""One probe connection per protocol version, judged from the server's own answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tlsaudit.errors import PeerError, ProbeError
from tlsaudit.models import ProtocolResult, ProtocolStatus, TlsVersion
from tlsaudit.probe.connect import READ_CHUNK, abort, describe_os_error, open_tls_stream
from tlsaudit.tls.client_hello import probe_hello
from tlsaudit.tls.constants import VERSION_CODES, version_from_code
from tlsaudit.tls.server_flight import (
    Alert,
    CertificateChain,
    EncryptedFlight,
    ServerFlightParser,
    ServerHello,
    ServerHelloDone,
    SSLv2ServerHello,
)

CLOSE_NOTIFY = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionProbe:
    """The outcome of one probe: the verdict, and what the server showed on the way."""

    version: TlsVersion
    result: ProtocolResult
    certificate_chain: tuple[bytes, ...] = ()
    cipher_suite: int | None = None


def _version_label(code: int) -> str:
    found = version_from_code(code)
    return found.value if found else f"0x{code:04x}"


def judge_server_hello(requested: TlsVersion, hello: ServerHello) -> ProtocolResult:
    """Accepted only when the server selected exactly the requested version."""
    wanted = VERSION_CODES[requested]
    selected = hello.selected_version
    if selected == wanted:
        if hello.is_hello_retry:
            return ProtocolResult(
                status=ProtocolStatus.ACCEPTED, reason="HelloRetryRequest selecting TLSv1.3"
            )
        return ProtocolResult(status=ProtocolStatus.ACCEPTED, reason="ServerHello")
    if selected < wanted:
        return ProtocolResult(
            status=ProtocolStatus.REJECTED, reason=f"negotiated-lower {_version_label(selected)}"
        )
    return ProtocolResult(
        status=ProtocolStatus.REJECTED,
        reason=f"server selected {_version_label(selected)}, which was not offered",
    )


async def probe_version(
    ip: str,
    port: int,
    version: TlsVersion,
    *,
    server_name: str | None,
    timeout: float,
    starttls: str | None = None,
) -> VersionProbe:
    """One connection, one ClientHello for `version`.

    Raises ProbeError for outcomes worth a retry (timeout, reset, refused); every other outcome is a result.
    """
    hello = probe_hello(version, server_name)
    deadline = asyncio.get_running_loop().time() + timeout
    reader, writer = await open_tls_stream(
        ip, port, timeout=timeout, starttls=starttls, server_name=server_name
    )
    try:
        writer.write(hello)
        return await _read_answer(reader, version, deadline, timeout)
    finally:
        abort(writer)


async def _read_answer(
    reader: asyncio.StreamReader, version: TlsVersion, deadline: float, timeout: float
) -> VersionProbe:
    parser = ServerFlightParser()
    verdict: ProtocolResult | None = None
    chain: tuple[bytes, ...] = ()
    suite: int | None = None
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                data = await reader.read(READ_CHUNK)
        except TimeoutError as exc:
            if verdict is not None:
                break
            raise ProbeError(f"timeout after {timeout:g}s waiting for the server's answer") from exc
        except OSError as exc:
            if verdict is not None:
                break
            raise ProbeError(describe_os_error(exc)) from exc
        if not data:
            if verdict is None:
                verdict = ProtocolResult(status=ProtocolStatus.REJECTED, reason="closed")
            break
        try:
            events = parser.feed(data)
        except PeerError as exc:
            if verdict is not None:
                break
            return VersionProbe(
                version=version, result=ProtocolResult(status=ProtocolStatus.UNKNOWN, reason=str(exc))
            )
        done = False
        for event in events:
            if isinstance(event, ServerHello) and verdict is None:
                verdict = judge_server_hello(version, event)
                suite = event.cipher_suite
                if verdict.status != ProtocolStatus.ACCEPTED or version == TlsVersion.TLSv1_3:
                    done = True
            elif isinstance(event, SSLv2ServerHello) and verdict is None:
                if event.cipher_kinds:
                    verdict = ProtocolResult(status=ProtocolStatus.ACCEPTED, reason="SSLv2 SERVER-HELLO")
                else:
                    verdict = ProtocolResult(
                        status=ProtocolStatus.REJECTED, reason="SSLv2 SERVER-HELLO without cipher kinds"
                    )
                chain = (event.certificate,) if event.certificate else ()
                done = True
            elif isinstance(event, Alert):
                if verdict is None and (event.fatal or event.description == CLOSE_NOTIFY):
                    verdict = ProtocolResult(status=ProtocolStatus.REJECTED, reason=f"alert {event.name}")
                    done = True
                elif verdict is not None:
                    done = True
            elif isinstance(event, CertificateChain):
                chain = event.der_certs
            elif isinstance(event, ServerHelloDone | EncryptedFlight):
                done = True
        if done:
            break
    assert verdict is not None
    return VersionProbe(version=version, result=verdict, certificate_chain=chain, cipher_suite=suite)
