"""Compose the stages: collect facts, evaluate the rules, build the report. The only place they meet."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from tlsaudit.engine import RuleSet, evaluate
from tlsaudit.models import CaptureFacts, EndpointFacts, ReasonCode, RuntimeFacts, Target, to_json
from tlsaudit.probe.local_services import ListeningService, LocalService, ServiceStatus, classify
from tlsaudit.probe.loop import run as run_loop
from tlsaudit.probe.scanner import Enricher, Scanner, ScanOptions, unknown_endpoint
from tlsaudit.report import build_report
from tlsaudit.report_types import LocalService as LocalServiceJson
from tlsaudit.report_types import Report
from tlsaudit.shared_keys import link_sslv2_key_sharing

if TYPE_CHECKING:
    from tlsaudit.inspectors import InspectOptions


@dataclass(slots=True)
class Collected:
    """What the collectors gathered so far; filled as results arrive, so an interrupted run keeps them."""

    endpoints: list[EndpointFacts] = field(default_factory=list)
    runtimes: list[RuntimeFacts] = field(default_factory=list)
    captures: list[CaptureFacts] = field(default_factory=list)
    planned: list[Target] = field(default_factory=list)
    local_services: list[LocalService] = field(default_factory=list)
    interrupted: bool = False


def scan_endpoints(
    targets: Sequence[Target],
    options: ScanOptions,
    collected: Collected,
    *,
    on_endpoint: Callable[[EndpointFacts], None] | None = None,
    on_planned: Callable[[int], None] | None = None,
    enrichers: Sequence[Enricher] = (),
) -> None:
    """Run the scan; on Ctrl-C keep what finished and mark the rest unknown ('interrupted').

    `enrichers` add certificate, cipher-suite and STARTTLS facts (see tlsaudit.probe.depth).
    """
    collected.planned.extend(targets)

    def record(facts: EndpointFacts) -> None:
        collected.endpoints.append(facts)
        if on_endpoint:
            on_endpoint(facts)

    scanner = Scanner(options, on_endpoint=record, on_planned=on_planned, enrichers=enrichers)
    try:
        run_loop(scanner.scan(targets))
    except KeyboardInterrupt:
        collected.interrupted = True
        done = {(e.host, e.port) for e in collected.endpoints}
        for target in targets:
            if (target.host, target.port) not in done:
                collected.endpoints.append(
                    unknown_endpoint(
                        target, "", "interrupted before this endpoint finished", ReasonCode.INTERRUPTED
                    )
                )


def inspect_local_runtimes(
    options: InspectOptions, collected: Collected, *, probe: bool, quiet: bool
) -> None:
    """Every runtime on this machine as facts; with `probe`, also what each one's client really offers."""
    if not quiet and sys.stderr.isatty():
        sys.stderr.write("  inspecting client runtimes...\n")
    from tlsaudit.inspectors import inspect_runtimes

    try:
        inspect_runtimes(options, on_runtime=collected.runtimes.append)
    except KeyboardInterrupt:
        collected.interrupted = True
        return
    if probe:
        from tlsaudit.capture.probe import probe_runtimes

        collected.captures.extend(probe_runtimes(collected.runtimes, timeout=options.timeout))


def settle_local_services(
    collected: Collected, local: Sequence[tuple[Target, ListeningService]], explicit: Sequence[Target]
) -> None:
    """Record what every local service turned out to be. A service that clearly spoke another protocol is
    listed as such and is not judged as a TLS endpoint (unless the user named it); one that could not be
    told stays an endpoint whose results are unknown, so the run is not assessed in full (exit 3)."""
    named = {(t.host, t.port) for t in explicit}
    by_key = {(e.host, e.port): e for e in collected.endpoints}
    dropped: set[tuple[str, int]] = set()
    for target, service in local:
        key = (target.host, target.port)
        endpoint = by_key.get(key)
        if endpoint is None:
            continue
        result = classify(endpoint, service)
        collected.local_services.append(result)
        if result.status == ServiceStatus.NOT_TLS and key not in named:
            dropped.add(key)
    collected.endpoints = [e for e in collected.endpoints if (e.host, e.port) not in dropped]


def make_report(ruleset: RuleSet, collected: Collected, scope: Mapping[str, Any] | None = None) -> Report:
    endpoints = link_sslv2_key_sharing(collected.endpoints)  # DROWN: keys shared with SSLv2 endpoints
    evaluation = evaluate(
        ruleset, endpoints=endpoints, runtimes=collected.runtimes, captures=collected.captures
    )
    report = build_report(
        policy_id=ruleset.policy.id,
        policy_title=ruleset.policy.title,
        endpoints=endpoints,
        runtimes=collected.runtimes,
        captures=collected.captures,
        findings=evaluation.findings,
        readiness=evaluation.readiness,
        scope=scope,
        source_host=socket.gethostname(),
    )
    if collected.interrupted:
        report["interrupted"] = True
    if collected.local_services:
        host = socket.gethostname()
        report["local_services"] = [
            cast(LocalServiceJson, {**to_json(s), "source_host": host}) for s in collected.local_services
        ]
    return report
