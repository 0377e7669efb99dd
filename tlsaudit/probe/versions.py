"""Which protocol versions an endpoint accepts: one probe per version, judged from the server's own answer.

A version is `accepted` only when the server selects exactly it, `rejected` only on a clear refusal
that a conventional client would also get, and `unknown` whenever the answer cannot decide (timeout,
malformed bytes, an answer cut off). Refusals of the big probe hello are checked before they are
believed: a small conventional hello, then the suites the probe left out, must be refused too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from tlsaudit.models import ProtocolResult, ProtocolStatus, ReasonCode, TlsVersion
from tlsaudit.probe.transport import Decide, Ending, Exchange, Prober
from tlsaudit.tls.client_hello import conventional_hello, probe_hello, suites_hello
from tlsaudit.tls.constants import CIPHER_SUITES, VERSION_CODES, suite_name, version_from_code
from tlsaudit.tls.server_flight import (
    Alert,
    CertificateChain,
    CertificateRequest,
    EncryptedFlight,
    Event,
    Malformed,
    ServerHello,
    ServerHelloDone,
    SSLv2ServerHello,
)
from tlsaudit.tls.suite_offers import conventional_suites, probe_suites, remaining_suite_chunks

# A probe hello with at most this many suites is as small as a mainstream client's: its refusal needs no
# second opinion from a conventional hello (only the suites it left out are offered again).
CONVENTIONAL_SIZE_LIMIT = 100
# Outcomes worth another attempt: nothing was learnt, and a second try may learn it.
_RETRY_CODES = frozenset({ReasonCode.TIMEOUT, ReasonCode.RESET, ReasonCode.NETWORK_ERROR})
# Suites authenticated without a server certificate.
_NO_CERTIFICATE_AUTH = frozenset({"anon", "PSK", "SRP", "NULL", "ECCPWD", "KRB5"})


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionProbe:
    """The outcome of one version's probing: the verdict, and what the server showed on the way."""

    version: TlsVersion
    result: ProtocolResult
    certificate_chain: tuple[bytes, ...] = ()
    certificate_problem: str = ""  # accepted, but the certificate the suite needs could not be read
    certificate_request: bool = False
    cipher_suite: int | None = None
    server_hello: ServerHello | None = (
        None  # the accepting ServerHello (its extensions: renegotiation_info, ...)
    )
    well_formed: bool = False  # the server gave a complete, valid answer (accepting or refusing)
    attempts: int = 1


def _label(code: int) -> str:
    found = version_from_code(code)
    return found.value if found else f"0x{code:04x}"


def _result(status: ProtocolStatus, code: ReasonCode, reason: str) -> ProtocolResult:
    return ProtocolResult(status=status, reason_code=code, reason=reason)


def judge_server_hello(requested: TlsVersion, hello: ServerHello) -> ProtocolResult:
    """Accepted only when the server selected exactly the requested version."""
    wanted = VERSION_CODES[requested]
    selected = hello.selected_version
    if selected == wanted:
        if hello.is_hello_retry:
            return _result(
                ProtocolStatus.ACCEPTED, ReasonCode.HELLO_RETRY_REQUEST, "HelloRetryRequest selecting TLSv1.3"
            )
        return _result(ProtocolStatus.ACCEPTED, ReasonCode.SERVER_HELLO, "ServerHello")
    if selected < wanted:
        return _result(
            ProtocolStatus.REJECTED, ReasonCode.NEGOTIATED_LOWER, f"negotiated-lower {_label(selected)}"
        )
    return _result(
        ProtocolStatus.REJECTED,
        ReasonCode.VERSION_NOT_OFFERED,
        f"server selected {_label(selected)}, which was not offered",
    )


def decide_for(version: TlsVersion) -> Decide:
    """When a version probe has read enough: at a refusal, or once an accepting flight is complete
    (through ServerHelloDone for TLS <= 1.2, whose Certificate is readable; at once for TLS 1.3)."""

    def decide(events: Sequence[Event]) -> bool:
        last = events[-1] if events else None
        if last is None:
            return False
        if isinstance(last, SSLv2ServerHello | ServerHelloDone | EncryptedFlight | Malformed):
            return True
        if isinstance(last, Alert):
            return last.ends_handshake
        if isinstance(last, ServerHello):
            accepted = last.selected_version == VERSION_CODES[version]
            return not accepted or last.is_hello_retry
        return False

    return decide


def _needs_certificate(suite_code: int) -> bool:
    suite = CIPHER_SUITES.get(suite_code)
    return suite is None or suite.auth not in _NO_CERTIFICATE_AUTH


def judge(
    version: TlsVersion, ex: Exchange, attempts: int = 1, *, offered: Collection[int] | None = None
) -> VersionProbe:
    """The verdict one exchange supports for `version` (`offered`: the suites the hello offered)."""
    for index, event in enumerate(ex.events):
        if isinstance(event, Malformed):
            if event.not_tls:
                result = _result(ProtocolStatus.UNKNOWN, ReasonCode.NOT_TLS, event.reason)
            else:
                reason = f"malformed answer: {event.reason}"
                result = _result(ProtocolStatus.UNKNOWN, ReasonCode.MALFORMED, reason)
            return VersionProbe(version=version, result=result, attempts=attempts)
        if isinstance(event, Alert) and event.ends_handshake:
            return VersionProbe(
                version=version,
                result=_result(ProtocolStatus.REJECTED, ReasonCode.ALERT, f"alert {event.name}"),
                well_formed=True,
                attempts=attempts,
            )
        if isinstance(event, SSLv2ServerHello):
            return _judge_sslv2(version, event, attempts)
        if isinstance(event, ServerHello):
            result = judge_server_hello(version, event)
            if result.status != ProtocolStatus.ACCEPTED:
                return VersionProbe(version=version, result=result, well_formed=True, attempts=attempts)
            violation = _choice_violation(event, offered)
            if violation:
                return VersionProbe(
                    version=version,
                    result=_result(ProtocolStatus.UNKNOWN, ReasonCode.MALFORMED, violation),
                    attempts=attempts,
                )
            return _accepted(version, result, event, ex, ex.events[index + 1 :], attempts)
    return VersionProbe(version=version, result=_no_answer(ex), attempts=attempts)


def _choice_violation(hello: ServerHello, offered: Collection[int] | None) -> str:
    """A choice no client would go on with: a suite it did not offer, or compression it did not offer."""
    if offered is not None and hello.cipher_suite not in offered:
        return f"malformed answer: the server chose {suite_name(hello.cipher_suite)}, which was not offered"
    if hello.compression != 0:
        return f"malformed answer: the server chose compression method {hello.compression}, not offered"
    return ""


def _judge_sslv2(version: TlsVersion, event: SSLv2ServerHello, attempts: int) -> VersionProbe:
    if version != TlsVersion.SSLv2:
        # Only an SSLv2 probe can be accepted by an SSLv2 answer: a client of `version` cannot go on.
        return VersionProbe(
            version=version,
            result=_result(
                ProtocolStatus.REJECTED,
                ReasonCode.NEGOTIATED_LOWER,
                "negotiated-lower SSLv2 (SSLv2 SERVER-HELLO)",
            ),
            well_formed=True,
            attempts=attempts,
        )
    if not event.cipher_kinds:
        return VersionProbe(
            version=version,
            result=_result(
                ProtocolStatus.REJECTED,
                ReasonCode.ALERT,
                "SSLv2 SERVER-HELLO without a cipher kind in common",
            ),
            well_formed=True,
            attempts=attempts,
        )
    return VersionProbe(
        version=version,
        result=_result(ProtocolStatus.ACCEPTED, ReasonCode.SSLV2_SERVER_HELLO, "SSLv2 SERVER-HELLO"),
        certificate_chain=(event.certificate,) if event.certificate else (),
        certificate_problem="" if event.certificate else "the SSLv2 SERVER-HELLO carried no certificate",
        well_formed=True,
        attempts=attempts,
    )


def _accepted(
    version: TlsVersion,
    result: ProtocolResult,
    hello: ServerHello,
    ex: Exchange,
    after: Sequence[Event],
    attempts: int,
) -> VersionProbe:
    chain: tuple[bytes, ...] = ()
    problem = ""
    request = False
    complete = version == TlsVersion.TLSv1_3
    for event in after:
        if isinstance(event, CertificateChain):
            chain = event.der_certs
            if not chain:
                problem = "the server sent an empty Certificate message"
        elif isinstance(event, CertificateRequest):
            request = True
        elif isinstance(event, ServerHelloDone):
            complete = True
        elif isinstance(event, Malformed):
            problem = problem or f"malformed handshake after the ServerHello: {event.reason}"
            break
        elif isinstance(event, Alert) and event.ends_handshake:
            problem = problem or f"the server sent alert {event.name} after its ServerHello"
            break
    if version != TlsVersion.TLSv1_3 and not chain and not problem and _needs_certificate(hello.cipher_suite):
        if complete:
            problem = "the server sent no Certificate message"
        else:
            cut = _no_answer(ex).reason
            problem = f"the server stopped before its Certificate was complete ({cut})"
    return VersionProbe(
        version=version,
        result=result,
        certificate_chain=chain,
        certificate_problem=problem,
        certificate_request=request,
        cipher_suite=hello.cipher_suite,
        server_hello=hello,
        well_formed=complete and not problem,
        attempts=attempts,
    )


def _no_answer(ex: Exchange) -> ProtocolResult:
    """The verdict when no decisive message arrived, from how the connection ended."""
    unknown = ProtocolStatus.UNKNOWN
    match ex.ending:
        case Ending.CLOSED:
            if ex.mid_message:
                return _result(
                    unknown, ReasonCode.CLOSED_MID_RECORD, f"closed mid-record after {ex.received} bytes"
                )
            if ex.received:
                return _result(
                    unknown, ReasonCode.CLOSED_MID_RECORD, f"closed after {ex.received} bytes of no answer"
                )
            return _result(ProtocolStatus.REJECTED, ReasonCode.CLOSED, "closed")
        case Ending.RESET:
            if ex.received:
                return _result(
                    unknown, ReasonCode.RESET_MID_ANSWER, f"reset after {ex.received} bytes of answer"
                )
            # Unknown until the endpoint has shown it is alive (see `promote_resets`).
            return _result(unknown, ReasonCode.RESET, "connection reset")
        case Ending.TIMEOUT:
            return _result(unknown, ReasonCode.TIMEOUT, ex.detail)
        case Ending.STARTTLS_REFUSED:
            return _result(unknown, ReasonCode.STARTTLS_REFUSED, ex.detail)
        case Ending.CONNECT_FAILED:
            if ex.detail == "connection refused":
                return _result(unknown, ReasonCode.CONNECTION_REFUSED, ex.detail)
            code = ReasonCode.TIMEOUT if ex.detail.startswith("timeout") else ReasonCode.NETWORK_ERROR
            return _result(unknown, code, ex.detail)
        case Ending.NETWORK_ERROR:
            return _result(unknown, ReasonCode.NETWORK_ERROR, ex.detail)
    return _result(unknown, ReasonCode.MALFORMED, "the server's answer ended without a decision")


class _Judge:
    """Judges each exchange of one probe once: the retry decision and the verdict share the judgement.

    (Whether an outcome is worth a retry does not depend on `offered`: a suite that was not offered
    makes an acceptance malformed, neither of which is retried.)"""

    __slots__ = ("_last", "offered", "version")

    def __init__(self, version: TlsVersion, offered: Collection[int] | None = None) -> None:
        self.version = version
        self.offered = offered
        self._last: tuple[Exchange, VersionProbe] | None = None

    def transient(self, ex: Exchange) -> bool:
        probe = judge(self.version, ex, offered=self.offered)
        self._last = (ex, probe)
        return probe.result.reason_code in _RETRY_CODES

    def verdict(self, ex: Exchange, attempts: int) -> VersionProbe:
        if self._last is not None and self._last[0] is ex:
            probe = self._last[1]
            return probe if probe.attempts == attempts else dataclasses.replace(probe, attempts=attempts)
        return judge(self.version, ex, attempts, offered=self.offered)


def _with_attempts(probe: VersionProbe, attempts: int) -> VersionProbe:
    if attempts <= 1 or probe.result.status != ProtocolStatus.UNKNOWN:
        return probe
    result = ProtocolResult(
        status=probe.result.status,
        reason_code=probe.result.reason_code,
        reason=f"{probe.result.reason} (tried {attempts} times)",
    )
    return VersionProbe(
        version=probe.version, result=result, well_formed=probe.well_formed, attempts=attempts
    )


async def probe_version(prober: Prober, version: TlsVersion) -> VersionProbe:
    """The first probe of `version` with the bounded probe hello, retried while the outcome is transient."""
    name = prober.endpoint.server_name
    judged = _Judge(version, _probe_offer(version))
    ex, attempts = await prober.run(
        lambda: probe_hello(version, name), decide_for(version), transient=judged.transient
    )
    return _note(prober, _with_attempts(judged.verdict(ex, attempts), attempts))


def _offered(suites: Sequence[int]) -> frozenset[int]:
    return frozenset(suites)


@functools.cache
def _probe_offer(version: TlsVersion) -> frozenset[int]:
    return _offered(probe_suites(version))


def _note(prober: Prober, probe: VersionProbe) -> VersionProbe:
    if probe.well_formed:
        prober.answered += 1
    return probe


def _ambiguous(probe: VersionProbe) -> bool:
    """A refusal that may be about the hello rather than the version: check it before believing it."""
    if probe.version == TlsVersion.SSLv2:
        return False
    code = probe.result.reason_code
    if probe.result.status == ProtocolStatus.REJECTED:
        return code in (ReasonCode.ALERT, ReasonCode.CLOSED) and not probe.result.reason.endswith(
            ("protocol_version", "inappropriate_fallback")
        )
    return code == ReasonCode.RESET


async def second_chance(prober: Prober, first: VersionProbe, *, remaining: bool = True) -> VersionProbe:
    """A conventional hello, then (if `remaining`) the suites the probe did not offer: any acceptance wins;
    a refusal stands only if the conventional hello is refused too."""
    version = first.version
    name = prober.endpoint.server_name
    decide = decide_for(version)
    attempts = 0
    if len(probe_suites(version)) > CONVENTIONAL_SIZE_LIMIT:
        judged = _Judge(version, _offered(conventional_suites(version)))
        ex, attempts = await prober.run(
            lambda: conventional_hello(version, name), decide, transient=judged.transient
        )
        conventional = _note(prober, judged.verdict(ex, attempts))
    else:
        conventional = first  # the probe hello was no bigger than a conventional one: nothing to re-check
    if conventional.result.status == ProtocolStatus.ACCEPTED:
        return conventional
    if (
        conventional.result.status == ProtocolStatus.UNKNOWN
        and conventional.result.reason_code != ReasonCode.RESET
    ):
        reason = f"probe hello: {first.result.reason}; conventional hello: {conventional.result.reason}"
        return VersionProbe(
            version=version,
            result=_result(
                ProtocolStatus.UNKNOWN, conventional.result.reason_code or ReasonCode.MALFORMED, reason
            ),
            attempts=first.attempts + attempts,
        )
    for chunk in remaining_suite_chunks(version) if remaining else ():
        judged = _Judge(version, _offered(chunk))
        ex, _ = await prober.run(
            functools.partial(suites_hello, version, chunk, name), decide, transient=judged.transient
        )
        extra = _note(prober, judged.verdict(ex, 1))
        if extra.result.status == ProtocolStatus.ACCEPTED:
            return extra
    return first


async def slow_retry(prober: Prober, first: VersionProbe) -> VersionProbe:
    """A probe that timed out on an endpoint that answered others: once more, alone, with more time."""
    version = first.version
    name = prober.endpoint.server_name
    judged = _Judge(version, _probe_offer(version))
    ex, attempts = await prober.run_serially(
        lambda: probe_hello(version, name),
        decide_for(version),
        transient=judged.transient,
        timeout=min(prober.timeout * 2, prober.timeout + 10),
    )
    retried = _note(prober, judged.verdict(ex, attempts))
    if retried.result.status == ProtocolStatus.UNKNOWN:
        return first
    return retried


def promote_reset(probe: VersionProbe) -> VersionProbe:
    """A consistent reset with no answer bytes, on an endpoint that answered other hellos, is a refusal."""
    result = _result(
        ProtocolStatus.REJECTED,
        ReasonCode.RESET,
        "reset (no answer) while the endpoint answered other hellos",
    )
    return VersionProbe(version=probe.version, result=result, attempts=probe.attempts)


async def sweep_versions(prober: Prober, versions: Sequence[TlsVersion]) -> dict[TlsVersion, VersionProbe]:
    """Probe every version, check doubtful refusals, retry timeouts slowly, and judge resets."""
    probes = dict(
        zip(versions, await asyncio.gather(*(probe_version(prober, v) for v in versions)), strict=True)
    )
    doubtful = [v for v, p in probes.items() if _ambiguous(p)]
    if doubtful:
        # The SSLv3 suites past the first hello are TLS-era or exotic ones (PSK, Kerberos, static DH,
        # FORTEZZA, GOST): worth a hello only on a server that still speaks a legacy TLS version.
        legacy_tls = any(
            probes[v].result.status == ProtocolStatus.ACCEPTED
            for v in (TlsVersion.TLSv1_0, TlsVersion.TLSv1_1)
            if v in probes
        )
        checked = await asyncio.gather(
            *(
                second_chance(prober, probes[v], remaining=v != TlsVersion.SSLv3 or legacy_tls)
                for v in doubtful
            )
        )
        probes.update(zip(doubtful, checked, strict=True))
    if prober.answered:
        for version, probe in probes.items():
            if probe.result.reason_code == ReasonCode.TIMEOUT:
                probes[version] = await slow_retry(prober, probe)
        for version, probe in probes.items():
            if probe.result.status == ProtocolStatus.UNKNOWN and probe.result.reason_code == ReasonCode.RESET:
                probes[version] = promote_reset(probe)
    else:
        for version, probe in probes.items():
            result = probe.result
            if result.status == ProtocolStatus.REJECTED and result.reason_code == ReasonCode.CLOSED:
                probes[version] = demote_silent_close(probe)
    return probes


def demote_silent_close(probe: VersionProbe) -> VersionProbe:
    """A close without a byte, where no probe got any answer: the endpoint never showed it speaks TLS (a
    balancer with no backend, a TCP wrapper, another protocol), so nothing was refused either."""
    result = _result(
        ProtocolStatus.UNKNOWN,
        ReasonCode.CLOSED,
        "closed without an answer, as for every hello (not shown to speak TLS)",
    )
    return VersionProbe(version=probe.version, result=result, attempts=probe.attempts)
