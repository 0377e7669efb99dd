"""Which local process opened a connection to the capture listener (loopback clients only)."""

from __future__ import annotations

import psutil


def process_for_connection(client_port: int, listener_port: int) -> str | None:
    """`curl (pid 4242)` for the local process whose socket has local port `client_port` and remote
    port `listener_port`; None when it cannot be told (another user's process, already gone).

    Only the process name is given, never its command line, which may carry secrets."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in connections:
        if not conn.laddr or not conn.raddr or conn.pid is None:
            continue
        if conn.laddr.port == client_port and conn.raddr.port == listener_port:
            try:
                return f"{psutil.Process(conn.pid).name()} (pid {conn.pid})"
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                return None
    return None
