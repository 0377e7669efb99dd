"""Which local process opened a connection to the capture listener (loopback clients only).

A capture run (`runtimes --probe`, `make profiles`) starts its client with a fresh random token in the
environment variable TOKEN_ENV, which every process the client starts inherits (a browser's network
process, a JVM launched by a wrapper). A connection is the client's only when the process holding its
other end, or one of that process's parents, carries that token: a stray connection from another program
(a port scan, another test's probe) is never recorded as the client's hello.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import psutil

TOKEN_ENV = "TLSAUDIT_CAPTURE_TOKEN"


@dataclass(frozen=True, slots=True)
class Owner:
    """The local process at the other end of a connection to the listener."""

    pid: int | None  # None: not found (another user's process, already gone) or not looked up
    name: str = ""
    listed: bool = True  # False when this system does not let us list sockets' processes at all

    @property
    def label(self) -> str | None:
        """`curl (pid 4242)`; only the process name is given, never its command line (secrets)."""
        return f"{self.name} (pid {self.pid})" if self.pid is not None and self.name else None


def new_token() -> str:
    return secrets.token_hex(16)


def connection_owner(client_port: int, listener_port: int) -> Owner:
    """The local process whose socket has local port `client_port` and remote port `listener_port`."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return Owner(pid=None, listed=False)
    for conn in connections:
        if not conn.laddr or not conn.raddr or conn.pid is None:
            continue
        if conn.laddr.port == client_port and conn.raddr.port == listener_port:
            try:
                return Owner(pid=conn.pid, name=psutil.Process(conn.pid).name())
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                return Owner(pid=conn.pid)
    return Owner(pid=None)


def carries_token(owner: Owner, token: str) -> bool | None:
    """True when the owning process was started with `token` in TOKEN_ENV (inherited from the client).

    None when the process exited before its environment could be read: nobody can tell whose it was.
    Where sockets cannot be mapped to processes at all (`listed` False), nothing can be told apart and
    every connection is taken as the client's, as before this check existed."""
    if not owner.listed:
        return True
    if owner.pid is None:
        return None
    try:
        process = psutil.Process(owner.pid)
        own = dict(process.environ())
        lineage = process.parents()
    except psutil.NoSuchProcess:
        return None
    except (psutil.AccessDenied, OSError):
        return False
    if own.get(TOKEN_ENV) == token:
        return True
    # One of its parents: a program that sets its process title (Chromium's helper processes)
    # overwrites its own copy of the environment, but not its parent's.
    return any(_environ(p).get(TOKEN_ENV) == token for p in lineage)


def _environ(process: psutil.Process) -> dict[str, str]:
    try:
        return dict(process.environ())
    except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
        return {}


def process_for_connection(client_port: int, listener_port: int) -> str | None:
    """`curl (pid 4242)` for the local process connected from `client_port`; None when it cannot be told."""
    return connection_owner(client_port, listener_port).label
