"""Scan many endpoints at once: resolution, one probe per version, limits, retries, progress."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from tlsaudit.models import (
    ALL_VERSIONS,
    EndpointFacts,
    ProtocolResult,
    ProtocolStatus,
    ReasonCode,
    Target,
    TlsVersion,
)
from tlsaudit.probe.targets import resolve
from tlsaudit.probe.transport import Endpoint, Limits, LimitSettings, Prober
from tlsaudit.probe.versions import VersionProbe, sweep_versions
from tlsaudit.tls.client_hello import default_key_shares


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOptions:
    timeout: float = 5.0
    retries: int = 1
    concurrency: int = 400
    per_address: int = 32
    per_endpoint: int = 6
    versions: tuple[TlsVersion, ...] = ALL_VERSIONS
    sni: str | None = None

    @property
    def limits(self) -> LimitSettings:
        return LimitSettings(
            total=self.concurrency, per_address=self.per_address, per_endpoint=self.per_endpoint
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointProbes:
    """Everything the version sweep learnt about one address, handed to the enrichers."""

    target: Target
    ip: str
    server_name: str | None
    probes: dict[TlsVersion, VersionProbe]
    prober: Prober


# Later stages (certificates, cipher suites) add to an endpoint through these.
Enricher = Callable[[EndpointProbes, EndpointFacts], Awaitable[EndpointFacts]]


def unknown_endpoint(
    target: Target, ip: str, reason: str, code: ReasonCode = ReasonCode.UNRESOLVED
) -> EndpointFacts:
    """An endpoint nothing could be learnt about, with the reason on every version."""
    result = ProtocolResult(status=ProtocolStatus.UNKNOWN, reason=reason, reason_code=code)
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
        skip: Callable[[Target, str], bool] | None = None,
    ) -> None:
        self.options = options
        self._on_endpoint = on_endpoint
        self._on_planned = on_planned
        self._enrichers = tuple(enrichers)
        self._skip = skip  # (target, address) already scanned (scan --resume): not scanned nor recorded

    async def scan(self, targets: Sequence[Target]) -> list[EndpointFacts]:
        default_key_shares()  # generate the key shares once, before the first probe
        limits = Limits(self.options.limits)
        results: list[EndpointFacts] = []
        async with asyncio.TaskGroup() as group:
            for target in targets:
                group.create_task(self._scan_target(target, limits, results))
        return results

    async def _scan_target(self, target: Target, limits: Limits, results: list[EndpointFacts]) -> None:
        resolution = await resolve(target, timeout=self.options.timeout)
        skip = self._skip or (lambda _target, _ip: False)
        addresses = [ip for ip in resolution.addresses if not skip(target, ip)]
        already = not addresses if resolution.addresses else skip(target, target.host)
        if already:
            return
        if self._on_planned:
            self._on_planned(max(len(addresses), 1))
        if not addresses:
            self._record(results, unknown_endpoint(target, "", resolution.error))
            return
        if len(resolution.addresses) == 1:  # the usual case: no task group of one
            await self._scan_address(target, resolution.addresses[0], limits, results)
            return
        async with asyncio.TaskGroup() as group:
            for ip in addresses:
                group.create_task(self._scan_address(target, ip, limits, results))

    async def _scan_address(
        self, target: Target, ip: str, limits: Limits, results: list[EndpointFacts]
    ) -> None:
        started = time.monotonic()
        server_name = self.options.sni or target.sni or target.host
        prober = Prober(
            Endpoint(ip=ip, port=target.port, server_name=server_name, starttls=target.starttls),
            limits=limits,
            timeout=self.options.timeout,
            retries=self.options.retries,
        )
        probes = await sweep_versions(prober, self.options.versions)
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
        collected = EndpointProbes(
            target=target, ip=ip, server_name=server_name, probes=probes, prober=prober
        )
        for enrich in self._enrichers:
            facts = await enrich(collected, facts)
        self._record(results, facts)

    def _record(self, results: list[EndpointFacts], facts: EndpointFacts) -> None:
        results.append(facts)
        if self._on_endpoint:
            self._on_endpoint(facts)
