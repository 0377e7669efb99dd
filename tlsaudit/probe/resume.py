"""`scan --resume FILE`: the targets a JSONL stream already holds are not scanned again.

An endpoint line is matched to a target by the normalized identity it records: host, port, STARTTLS,
the server name sent (SNI) and the connect-to address of `host{IP}` (read back from its `target`), plus
the address scanned. A name that resolves to several addresses is scanned again only for the addresses
the file lacks. Lines that only say the scan was interrupted before the endpoint finished (every version
`interrupted`) do not count: those endpoints are scanned again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tlsaudit.errors import UsageError
from tlsaudit.models import EndpointFacts, Target
from tlsaudit.probe.targets import is_ip, parse_target

Identity = tuple[str, int, str | None, str, str | None]


def target_identity(target: Target) -> Identity:
    """host, port, STARTTLS, the server name sent, the connect-to address."""
    return (target.host, target.port, target.starttls, target.sni or target.host, target.address)


def line_identity(endpoint: Mapping[str, Any]) -> Identity:
    """The same identity, read from an endpoint object of a report or stream."""
    try:
        address = parse_target(str(endpoint["target"])).address
    except UsageError:
        address = None
    # The scanner records `sni` only when the name sent differs from the address connected to.
    server_name = endpoint.get("sni") or endpoint["ip"]
    return (endpoint["host"], endpoint["port"], endpoint.get("starttls"), server_name, address)


def interrupted_only(endpoint: Mapping[str, Any]) -> bool:
    protocols = endpoint.get("protocols", {}).values()
    return bool(protocols) and all(p.get("reason_code") == "interrupted" for p in protocols)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumePlan:
    targets: list[Target]  # what is left to scan (names: possibly only some of their addresses)
    done: frozenset[tuple[Identity, str]]  # (identity, address) pairs already in the file
    resumed: list[EndpointFacts]  # the file's endpoints that belong to this run's targets


def plan_resume(targets: Sequence[Target], endpoints: Sequence[Mapping[str, Any]]) -> ResumePlan:
    """Which targets still need scanning, given the endpoint objects of an earlier stream."""
    from tlsaudit.report_facts import from_json

    wanted = {target_identity(t) for t in targets}
    done: dict[tuple[Identity, str], Mapping[str, Any]] = {}
    for endpoint in endpoints:
        identity = line_identity(endpoint)
        if identity in wanted and not interrupted_only(endpoint):
            done[(identity, endpoint["ip"])] = endpoint  # a repeated line: the last one counts
    remaining = []
    for target in targets:
        fixed = target.address or (target.host if is_ip(target.host) else None)
        if fixed is None or (target_identity(target), fixed) not in done:
            remaining.append(target)  # a name is resolved again; only its missing addresses get scanned
    return ResumePlan(
        targets=remaining,
        done=frozenset(done),
        resumed=[from_json(EndpointFacts, e) for e in done.values()],
    )
