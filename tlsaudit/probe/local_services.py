"""The TCP services listening on this machine, as targets reachable through loopback."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from tlsaudit.models import EndpointFacts, ProtocolResult, ProtocolStatus, ReasonCode, Target


@dataclass(frozen=True, slots=True, kw_only=True)
class ListeningService:
    bind_address: str
    port: int
    process: str = ""


def listening_services() -> list[ListeningService]:
    import psutil  # only `audit` lists this machine's services

    services: dict[tuple[str, int], ListeningService] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status != psutil.CONN_LISTEN or not conn.laddr:
            continue
        address, port = str(conn.laddr.ip), int(conn.laddr.port)
        name = ""
        if conn.pid:
            try:
                name = psutil.Process(conn.pid).name()
            except (psutil.Error, OSError):
                name = ""
        services.setdefault((address, port), ListeningService(bind_address=address, port=port, process=name))
    return sorted(services.values(), key=lambda s: (s.port, s.bind_address))


def loopback_targets(
    services: list[ListeningService], *, include_non_loopback: bool, ports: Collection[int] = ()
) -> list[Target]:
    """Wildcard binds are scanned via 127.0.0.1 or ::1; a service bound elsewhere only when asked to.
    `ports` (when given) keeps only the services on those ports."""
    return [t for t, _ in local_targets(services, include_non_loopback=include_non_loopback, ports=ports)]


def local_targets(
    services: list[ListeningService], *, include_non_loopback: bool, ports: Collection[int] = ()
) -> list[tuple[Target, ListeningService]]:
    """Each local service to scan, as a target reachable from here, with the service it stands for."""
    targets: dict[tuple[str, int], tuple[Target, ListeningService]] = {}
    for service in services:
        if ports and service.port not in ports:
            continue
        ip = ipaddress.ip_address(service.bind_address.split("%", 1)[0])
        if ip.is_unspecified:
            host = "127.0.0.1" if ip.version == 4 else "::1"
        elif ip.is_loopback or include_non_loopback:
            host = str(ip)
        else:
            continue
        label = f"[{host}]:{service.port}" if ":" in host else f"{host}:{service.port}"
        targets.setdefault((host, service.port), (Target(raw=label, host=host, port=service.port), service))
    return sorted(targets.values(), key=lambda pair: (pair[0].port, pair[0].host))


class ServiceStatus(StrEnum):
    TLS = "tls"
    NOT_TLS = "not-tls"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalService:
    """What one local service turned out to be, for the report's `local_services` listing."""

    address: str  # as scanned: 127.0.0.1:8443, [::1]:25
    bind_address: str
    port: int
    process: str = ""
    status: ServiceStatus
    spoke: str = ""  # not-tls: what it spoke instead (HTTP, SSH, "unexpected bytes ...")
    reason: str = ""  # unknown: why it could not be told (timeout, closed, reset)


_NOT_TLS = "not TLS: "


def speaks_tls(endpoint: EndpointFacts) -> bool:
    """A TLS (or SSL) speaker answered at least one probe with a ServerHello or an alert."""
    return any(
        r.status == ProtocolStatus.ACCEPTED
        or r.reason_code in (ReasonCode.ALERT, ReasonCode.NEGOTIATED_LOWER, ReasonCode.VERSION_NOT_OFFERED)
        for r in endpoint.protocols.values()
    )


def _spoke(result: ProtocolResult) -> str | None:
    """What a peer that is not a TLS speaker sent instead ("HTTP", "unexpected bytes ..."), if it said."""
    if result.reason_code not in (ReasonCode.NOT_TLS, ReasonCode.MALFORMED):
        return None
    _, marker, rest = result.reason.partition(_NOT_TLS)
    if not marker:
        return "something that is not TLS" if result.reason_code == ReasonCode.NOT_TLS else None
    return rest.removeprefix("the peer spoke ").strip() or "something that is not TLS"


def classify(endpoint: EndpointFacts, service: ListeningService) -> LocalService:
    """TLS, not TLS (and what it spoke), or unknown (and why) from the version probes' results."""
    result = LocalService(
        address=endpoint.target or endpoint.subject,
        bind_address=service.bind_address,
        port=service.port,
        process=service.process,
        status=ServiceStatus.UNKNOWN,
    )
    if speaks_tls(endpoint):
        return dataclasses.replace(result, status=ServiceStatus.TLS)
    results = list(endpoint.protocols.values())
    spoke = [s for s in (_spoke(r) for r in results) if s]
    if spoke:
        most = Counter(spoke).most_common(1)[0][0]
        return dataclasses.replace(result, status=ServiceStatus.NOT_TLS, spoke=most)
    if endpoint.starttls_refused:
        return dataclasses.replace(result, status=ServiceStatus.NOT_TLS, spoke=endpoint.starttls_refused)
    if results and all(r.reason_code == ReasonCode.CLOSED for r in results):
        return dataclasses.replace(result, reason="closed the connection without answering any TLS probe")
    known = [r.reason for r in results if r.reason] or list(endpoint.errors)
    reason = Counter(known).most_common(1)[0][0] if known else "no answer to any TLS probe"
    return dataclasses.replace(result, reason=reason)
