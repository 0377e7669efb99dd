"""Shared vocabulary of the benchmark: versions, verdicts, endpoints and one tool run."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

VERSIONS: tuple[str, ...] = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
LOOPBACK = "127.0.0.1"


class Status(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


# endpoint target ("127.0.0.1:PORT") -> version -> status
Verdicts = dict[str, dict[str, Status]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One loopback endpoint and what it really accepts."""

    port: int
    profile: str
    key_type: str
    accepted: frozenset[str]
    silent: bool = False

    @property
    def target(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def truth(self, version: str) -> Status:
        if self.silent:
            return Status.UNKNOWN
        return Status.ACCEPTED if version in self.accepted else Status.REJECTED


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolRun:
    """What one invocation (or one pool of invocations) of a scanner did and reported."""

    tool: str
    mode: str
    targets: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    verdicts: Verdicts
    exit_codes: tuple[int, ...]
    timed_out: bool
    problems: tuple[str, ...] = ()
    # per-target time: per process for one-process-per-endpoint pools, or as the tool reports it
    per_target_seconds: dict[str, float] = field(default_factory=dict)
    # CPU the endpoints' server (nginx) spent during the run: the load the tool puts on the servers
    server_cpu_seconds: float = 0.0
    # wall time of every repetition of this run; wall_seconds is their median
    all_wall_seconds: tuple[float, ...] = ()
