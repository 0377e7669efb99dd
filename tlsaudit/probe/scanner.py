"""Scan many endpoints at once: resolution, one probe per version, limits, retries, progress."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from tlsaudit.errors import ProbeError
from tlsaudit.models import ALL_VERSIONS, EndpointFacts, ProtocolResult, ProtocolStatus, Target, TlsVersion
from tlsaudit.probe.starttls import StartTlsRefused
from tlsaudit.probe.targets import resolve
from tlsaudit.probe.versions import VersionProbe, probe_version
from tlsaudit.tls.client_hello import default_key_shares


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOptions:
    timeout: float = 5.0
    retries: int = 1
    concurrency: int = 400
    per_host: int = 32
    versions: tuple[TlsVersion, ...] = ALL_VERSIONS
    sni: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointProbes:
    """Everything the version sweep learnt about one address, handed to the enrichers."""

    target: Target
    ip: str
    server_name: str | None
    probes: dict[TlsVersion, VersionProbe]


# Later stages (certificates, cipher suites) add to an endpoint through these.
Enricher = Callable[[EndpointProbes, EndpointFacts], Awaitable[EndpointFacts]]


@dataclass(slots=True)
class _Limits:
    global_limit: asyncio.Semaphore
    per_host: int
    hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def host(self, ip: str) -> asyncio.Semaphore:
        sem = self.hosts.get(ip)
        if sem is None:
            sem = self.hosts[ip] = asyncio.Semaphore(self.per_host)
        return sem


def unknown_endpoint(target: Target, ip: str, reason: str) -> EndpointFacts:
    """An endpoint nothing could be learnt about, with the reason on every version."""
    result = ProtocolResult(status=ProtocolStatus.UNKNOWN, reason=reason)
    return EndpointFacts(
        target=target.raw,
        host=target.host,
        port=target.port,
        ip=ip or target.host,
        sni=target.sni,
        starttls=target.starttls,
        protocols={v: result for v in ALL_VERSIONS},
        errors=(reason,),
    )


class Scanner:
    def __init__(
        self,
        options: ScanOptions,
        *,
        on_endpoint: Callable[[EndpointFacts], None] | None = None,
        on_planned: Callable[[int], None] | None = None,
        enrichers: Sequence[Enricher] = (),
    ) -> None:
        self.options = options
        self._on_endpoint = on_endpoint
        self._on_planned = on_planned
        self._enrichers = tuple(enrichers)

    async def scan(self, targets: Sequence[Target]) -> list[EndpointFacts]:
        default_key_shares()  # generate the key shares once, before the first probe
        limits = _Limits(
            global_limit=asyncio.Semaphore(self.options.concurrency), per_host=self.options.per_host
        )
        results: list[EndpointFacts] = []
        async with asyncio.TaskGroup() as group:
            for target in targets:
                group.create_task(self._scan_target(target, limits, results))
        return results

    async def _scan_target(self, target: Target, limits: _Limits, results: list[EndpointFacts]) -> None:
        resolution = await resolve(target, timeout=self.options.timeout)
        if self._on_planned:
            self._on_planned(max(len(resolution.addresses), 1))
        if not resolution.addresses:
            self._record(results, unknown_endpoint(target, "", resolution.error))
            return
        async with asyncio.TaskGroup() as group:
            for ip in resolution.addresses:
                group.create_task(self._scan_address(target, ip, limits, results))

    async def _scan_address(
        self, target: Target, ip: str, limits: _Limits, results: list[EndpointFacts]
    ) -> None:
        started = time.monotonic()
        server_name = self.options.sni or target.sni or target.host
        probes: dict[TlsVersion, VersionProbe] = {}

        async def run(version: TlsVersion) -> None:
            probes[version] = await self._probe_with_retries(
                ip, target.port, version, server_name, limits, target.starttls
            )

        async with asyncio.TaskGroup() as group:
            for version in self.options.versions:
                group.create_task(run(version))
        protocols = {v: probes[v].result for v in self.options.versions}
        errors = sorted({r.reason for r in protocols.values() if r.status == ProtocolStatus.UNKNOWN})
        facts = EndpointFacts(
            target=target.raw,
            host=target.host,
            port=target.port,
            ip=ip,
            sni=server_name if server_name != ip else None,
            starttls=target.starttls,
            protocols=protocols,
            errors=tuple(errors),
            elapsed_ms=int((time.monotonic() - started) * 1000),
        )
        collected = EndpointProbes(target=target, ip=ip, server_name=server_name, probes=probes)
        for enrich in self._enrichers:
            facts = await enrich(collected, facts)
        self._record(results, facts)

    async def _probe_with_retries(
        self,
        ip: str,
        port: int,
        version: TlsVersion,
        server_name: str | None,
        limits: _Limits,
        starttls: str | None,
    ) -> VersionProbe:
        attempts = 0
        reason = ""
        for attempt in range(1 + max(self.options.retries, 0)):
            attempts += 1
            if attempt:
                await asyncio.sleep(0.05 * attempt)
            async with limits.global_limit, limits.host(ip):
                try:
                    return await probe_version(
                        ip,
                        port,
                        version,
                        server_name=server_name,
                        timeout=self.options.timeout,
                        starttls=starttls,
                    )
                except StartTlsRefused as exc:
                    reason = exc.reason
                    break
                except ProbeError as exc:
                    reason = exc.reason
                    if reason == "connection refused":
                        break
        tries = "" if attempts == 1 else f" (tried {attempts} times)"
        return VersionProbe(
            version=version, result=ProtocolResult(status=ProtocolStatus.UNKNOWN, reason=reason + tries)
        )

    def _record(self, results: list[EndpointFacts], facts: EndpointFacts) -> None:
        results.append(facts)
        if self._on_endpoint:
            self._on_endpoint(facts)
