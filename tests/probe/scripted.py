"""A scripted probe backend: each connection plays byte chunks, a close, a reset or silence, chosen from
the ClientHello it received. Drives the real transport, sweep and enumeration code without sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tlsaudit.errors import ProbeError
from tlsaudit.probe.transport import Endpoint, Limits, LimitSettings, Prober
from tlsaudit.tls.client_hello_parse import ClientHelloInfo, parse_client_hello


@dataclass(frozen=True, slots=True)
class Reset:
    """The peer resets the connection."""


@dataclass(frozen=True, slots=True)
class Hang:
    """The peer goes silent (until the probe's deadline)."""


@dataclass(frozen=True, slots=True)
class Refuse:
    """The TCP connection is refused."""


Step = bytes | Reset | Hang
Script = Sequence[Step] | Refuse  # a trailing close follows the steps unless the last is Reset or Hang
Peer = Callable[[ClientHelloInfo | None], Script]


class ScriptedConnection:
    def __init__(self, peer: Peer, log: list[ClientHelloInfo | None]) -> None:
        self._peer = peer
        self._log = log
        self._steps: list[Step] | None = None
        self._wrote = asyncio.Event()

    def write(self, data: bytes) -> None:
        try:
            info: ClientHelloInfo | None = parse_client_hello(data)
        except Exception:  # an SSLv2 hello or something the parser does not take: the peer decides
            info = None
        self._log.append(info)
        script = self._peer(info)
        assert not isinstance(script, Refuse)
        self._steps = list(script)
        self._wrote.set()

    async def read(self) -> bytes:
        await self._wrote.wait()
        assert self._steps is not None
        if not self._steps:
            return b""
        step = self._steps.pop(0)
        if isinstance(step, Reset):
            raise ConnectionResetError("reset by scripted peer")
        if isinstance(step, Hang):
            await asyncio.Event().wait()
        assert isinstance(step, bytes)
        await asyncio.sleep(0)
        return step

    def close(self) -> None:
        pass


@dataclass
class ScriptedBackend:
    peer: Peer
    hellos: list[ClientHelloInfo | None] = field(default_factory=list)
    connections: int = 0

    async def connect(self, endpoint: Endpoint, timeout: float) -> ScriptedConnection:
        self.connections += 1
        if isinstance(self.peer(None), Refuse):
            raise ProbeError("connection refused")
        return ScriptedConnection(self.peer, self.hellos)


def scripted_prober(peer: Peer, *, timeout: float = 0.5, retries: int = 1) -> tuple[Prober, ScriptedBackend]:
    backend = ScriptedBackend(peer)
    prober = Prober(
        Endpoint(ip="127.0.0.1", port=443, server_name="scripted.test"),
        limits=Limits(LimitSettings()),
        timeout=timeout,
        retries=retries,
        backend=backend,
    )
    return prober, backend
