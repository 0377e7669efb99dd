"""Running processes from Linux /proc: executable, command line, environment, user and systemd unit.

Reading another user's /proc/PID/environ and /proc/PID/exe needs root; without it only this user's processes
are complete, and `process_note` says so.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_UNIT = re.compile(r"/([^/]+\.(?:service|scope))(?:/|$)")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessView:
    pid: int
    exe: str | None  # /proc/PID/exe target (None when unreadable)
    argv: tuple[str, ...]
    environ: dict[str, str] = field(default_factory=dict)
    environ_readable: bool = True
    user: str | None = None
    unit: str | None = None
    ppid: int | None = None


def unit_of(cgroup_text: str) -> str | None:
    """The systemd unit (a .service, else a .scope) from /proc/PID/cgroup."""
    services = []
    for line in cgroup_text.splitlines():
        path = line.split(":", 2)[-1]
        for match in _UNIT.finditer(path):
            services.append(match.group(1))
    named = [u for u in services if u.endswith(".service")]
    if named:
        return named[-1]
    return services[-1] if services else None


def parse_environ(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            name, _, value = item.partition(b"=")
            out[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return out


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def read_process(pid: int, proc: Path = Path("/proc")) -> ProcessView | None:
    base = proc / str(pid)
    cmdline = _read(base / "cmdline")
    if cmdline is None:
        return None
    argv = tuple(a.decode("utf-8", "replace") for a in cmdline.split(b"\0") if a)
    if not argv:
        return None  # kernel thread or a zombie
    try:
        exe: str | None = os.readlink(base / "exe")
    except OSError:
        exe = None
    environ_data = _read(base / "environ")
    user = uid = ppid = None
    status = _read(base / "status")
    if status is not None:
        text = status.decode("utf-8", "replace")
        m = re.search(r"^Uid:\s+(\d+)", text, re.MULTILINE)
        uid = int(m.group(1)) if m else None
        p = re.search(r"^PPid:\s+(\d+)", text, re.MULTILINE)
        ppid = int(p.group(1)) if p else None
    if uid is not None:
        user = _user_name(uid)
    cgroup = _read(base / "cgroup")
    return ProcessView(
        pid=pid,
        exe=exe.removesuffix(" (deleted)") if exe else None,
        argv=argv,
        environ=parse_environ(environ_data) if environ_data is not None else {},
        environ_readable=environ_data is not None,
        user=user,
        unit=unit_of(cgroup.decode("utf-8", "replace")) if cgroup is not None else None,
        ppid=ppid,
    )


def _user_name(uid: int) -> str:
    try:
        import pwd  # POSIX only; /proc is read on Linux only

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def processes(proc: Path = Path("/proc")) -> Iterator[ProcessView]:
    """Every process but this one (read before tlsaudit starts any runtime of its own)."""
    me = os.getpid()
    try:
        pids = sorted(int(n) for n in os.listdir(proc) if n.isdigit())
    except OSError:
        return
    for pid in pids:
        if pid == me:
            continue
        view = read_process(pid, proc)
        if view is not None:
            yield view


def process_note(platform: str = sys.platform) -> str | None:
    """Why running processes were not read, or were read only in part; None when all could be."""
    if not platform.startswith("linux") or not Path("/proc/self/cmdline").exists():
        return "running processes not read: /proc is Linux only"
    if os.geteuid() != 0:
        return (
            "running processes read only in part: not root, so other users' environments and executables "
            "are hidden"
        )
    return None
