"""The TCP services listening on this machine, as targets reachable through loopback."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import psutil

from tlsaudit.models import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class ListeningService:
    bind_address: str
    port: int
    process: str = ""


def listening_services() -> list[ListeningService]:
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


def loopback_targets(services: list[ListeningService], *, include_non_loopback: bool) -> list[Target]:
    """Wildcard binds are scanned via 127.0.0.1 or ::1; a service bound elsewhere only when asked to."""
    targets: dict[tuple[str, int], Target] = {}
    for service in services:
        ip = ipaddress.ip_address(service.bind_address.split("%", 1)[0])
        if ip.is_unspecified:
            host = "127.0.0.1" if ip.version == 4 else "::1"
        elif ip.is_loopback or include_non_loopback:
            host = str(ip)
        else:
            continue
        label = f"[{host}]:{service.port}" if ":" in host else f"{host}:{service.port}"
        targets.setdefault((host, service.port), Target(raw=label, host=host, port=service.port))
    return sorted(targets.values(), key=lambda t: (t.port, t.host))
