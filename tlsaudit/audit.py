"""Compose the stages: collect facts, evaluate the rules, build the report. The only place they meet."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from tlsaudit.engine import RuleSet, Unreachable, evaluate
from tlsaudit.facts import banner_starttls
from tlsaudit.models import (
    CaptureFacts,
    EndpointFacts,
    ProtocolStatus,
    ReasonCode,
    RuntimeFacts,
    Target,
    to_json,
)
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
    skip: Callable[[Target, str], bool] | None = None,
) -> None:
    """Run the scan; on Ctrl-C keep what finished and mark the rest unknown ('interrupted').

    `enrichers` add certificate, cipher-suite and STARTTLS facts (see tlsaudit.probe.depth); `skip` names
    the (target, address) pairs a resumed scan already has (see tlsaudit.probe.resume).
    """
    collected.planned.extend(targets)

    def record(facts: EndpointFacts) -> None:
        collected.endpoints.append(facts)
        if on_endpoint:
            on_endpoint(facts)

    scanner = Scanner(options, on_endpoint=record, on_planned=on_planned, enrichers=enrichers, skip=skip)
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


def speaks_tls(endpoint: EndpointFacts) -> bool:
    """A TLS (or SSL) speaker answered at least one probe with a ServerHello or an alert."""
    return any(
        r.status == ProtocolStatus.ACCEPTED
        or r.reason_code in (ReasonCode.ALERT, ReasonCode.NEGOTIATED_LOWER, ReasonCode.VERSION_NOT_OFFERED)
        for r in endpoint.protocols.values()
    )


def starttls_retargets(collected: Collected, explicit: Sequence[Target]) -> list[Target]:
    """Local services that greeted in plain text (an SMTP, IMAP, POP3 or FTP banner) on a port where
    STARTTLS is not assumed: the same services again, through STARTTLS of the protocol the banner named."""
    given = {(t.host, t.port) for t in explicit}
    retry: list[Target] = []
    for ep in collected.endpoints:
        scheme = banner_starttls(ep)
        if scheme is None or (ep.host, ep.port) in given or speaks_tls(ep):
            continue
        retry.append(Target(raw=f"{scheme}://{ep.target}", host=ep.host, port=ep.port, starttls=scheme))
    return retry


def replace_endpoints(collected: Collected, rescanned: Sequence[EndpointFacts]) -> None:
    """Keep a STARTTLS rescan where it reached TLS (or was refused); else the first, plain-text result."""
    better = {(e.host, e.port, e.ip): e for e in rescanned if speaks_tls(e) or e.starttls_refused is not None}
    collected.endpoints = [better.get((e.host, e.port, e.ip), e) for e in collected.endpoints]


def retry_through_starttls(
    collected: Collected,
    explicit: Sequence[Target],
    options: ScanOptions,
    enrichers: Sequence[Enricher] = (),
) -> None:
    """`audit`: scan again, through STARTTLS, the local services that greeted in plain text."""
    retry = starttls_retargets(collected, explicit)
    if retry:
        rescanned = Collected()
        scan_endpoints(retry, options, rescanned, enrichers=enrichers)
        replace_endpoints(collected, rescanned.endpoints)


def make_report(
    ruleset: RuleSet,
    collected: Collected,
    scope: Mapping[str, Any] | None = None,
    *,
    unreachable: Unreachable = Unreachable.ERROR,
    depths: Sequence[str] = ("certificate", "cipher-suites"),
) -> Report:
    """Judge what was collected. `depths`: which endpoint facts beyond the versions were asked for
    ("certificate", "cipher-suites"); rules over the others are reported as not assessed."""
    endpoints = link_sslv2_key_sharing(collected.endpoints)  # DROWN: keys shared with SSLv2 endpoints
    evaluation = evaluate(
        ruleset,
        endpoints=endpoints,
        runtimes=collected.runtimes,
        captures=collected.captures,
        unreachable=unreachable,
        collected=depths,
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


def endpoint_record(
    ruleset: RuleSet,
    facts: EndpointFacts,
    *,
    unreachable: Unreachable = Unreachable.ERROR,
    depths: Sequence[str] = ("certificate", "cipher-suites"),
) -> dict[str, Any]:
    """One finished endpoint as its line of a JSONL stream: exactly its object in a report's `endpoints[]`,
    with the verdict it gets judged on its own (`tlsaudit report` judges the whole set again, which also
    links endpoints that share a key with an SSLv2 one)."""
    report = make_report(ruleset, Collected(endpoints=[facts]), unreachable=unreachable, depths=depths)
    return dict(report["endpoints"][0])


def no_runtime_found(options: InspectOptions) -> str:
    """Why `runtimes` has nothing to judge, and how to point it at a runtime (exit code 3: not assessed)."""
    from tlsaudit.engine import RUNTIME_KINDS

    kinds = ", ".join(options.kinds or RUNTIME_KINDS)
    if options.root not in ("/", ""):
        return (
            f"no runtime found under {options.root}: no service there runs {kinds} with a TLS setting, and "
            "the image's own runtimes are not run; nothing was assessed."
        )
    where = (
        "PATH and the usual install folders"
        if options.search_system
        else "only the paths given (--no-system-search)"
    )
    from tlsaudit.runtime_kinds import KINDS

    flags = [
        f"{k.path_option.flag} {'DIR' if k.path_option.dir_okay else 'PATH'}" for k in KINDS if k.path_option
    ]
    named = ", ".join(flags[:-1]) + f" or {flags[-1]}" if len(flags) > 1 else "".join(flags)
    return f"no runtime found: looked for {kinds} in {where}; nothing was assessed. Name one with {named}."


def rejudge(report: Mapping[str, Any], ruleset: RuleSet, *, unreachable: Unreachable) -> Report:
    """A saved report judged again under `ruleset`, from its facts alone (no scanning). A merged report
    is judged per source host and merged again; the report's scope says what was done."""
    from tlsaudit.report import merge_reports
    from tlsaudit.report_facts import captures_of, endpoints_of, runtimes_of

    hosts = sorted(
        {
            item.get("source_host", "")
            for name in ("endpoints", "runtimes", "captures")
            for item in report.get(name, [])
        }
    ) or [""]
    scope = {k: v for k, v in report.get("scope", {}).items() if k != "hosts"}
    before = report.get("policy", {}).get("id", "?")
    scope["policy_note"] = f"judged again under {ruleset.policy.id}; first judged under {before}"
    depths = [
        name
        for name, key in (("certificate", "certificate"), ("cipher-suites", "cipher_suites"))
        if any(key in ep for ep in report.get("endpoints", []))
    ]
    parts = []
    for host in hosts:

        def mine(name: str, host: str = host) -> dict[str, Any]:
            return {name: [i for i in report.get(name, []) if i.get("source_host", "") == host]}

        collected = Collected(
            endpoints=endpoints_of(mine("endpoints")),
            runtimes=runtimes_of(mine("runtimes")),
            captures=captures_of(mine("captures")),
            interrupted=bool(report.get("interrupted")),
        )
        evaluation = evaluate(
            ruleset,
            endpoints=collected.endpoints,
            runtimes=collected.runtimes,
            captures=collected.captures,
            unreachable=unreachable,
            collected=depths,
        )
        part = build_report(
            policy_id=ruleset.policy.id,
            policy_title=ruleset.policy.title,
            endpoints=collected.endpoints,
            runtimes=collected.runtimes,
            captures=collected.captures,
            findings=evaluation.findings,
            readiness=evaluation.readiness,
            scope=scope,
            generated_at=datetime.strptime(report["generated_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            source_host=host or None,
        )
        if collected.interrupted:
            part["interrupted"] = True
        parts.append(part)
    judged = parts[0] if len(parts) == 1 else merge_reports(parts)
    if "hosts" in report:  # fleet: every inventory host again, its runtimes judged anew
        from tlsaudit.report import finalize

        data: dict[str, Any] = dict(judged)
        data["hosts"] = [dict(h) for h in report["hosts"]]
        judged = cast(Report, finalize(data))
    return judged
