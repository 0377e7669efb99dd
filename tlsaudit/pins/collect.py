"""The entry point for `inspect_runtimes`: collect the runs under the root and the note for the report."""

from __future__ import annotations

import sys

from tlsaudit.pins.attach import Attacher
from tlsaudit.pins.procs import process_note
from tlsaudit.pins.rootfs import RootFS
from tlsaudit.pins.runs import collect_runs


def attacher_for(root: str, *, services: bool, processes: bool, kinds: tuple[str, ...] = ()) -> Attacher:
    fs = RootFS(root)
    runs = collect_runs(fs, with_processes=processes and fs.is_host and sys.platform.startswith("linux"))
    if not services:
        runs = [r for r in runs if r.process is not None]
    if kinds:
        runs = [r for r in runs if r.kind in kinds or (r.everywhere and r.kind is None)]
    return Attacher(runs, fs)


def scope_notes(root: str, *, services: bool, processes: bool) -> dict[str, str]:
    """What the report's scope says about where pins were looked for."""
    fs = RootFS(root)
    notes: dict[str, str] = {}
    if not fs.is_host:
        notes["root"] = str(fs.root)
        notes["processes"] = "running processes not read: --root audits files, not this machine's processes"
    elif processes:
        note = process_note()
        notes["processes"] = note or "running processes read from /proc"
    else:
        notes["processes"] = "running processes not read (--no-processes)"
    notes["service_files"] = "read" if services else "not read (--no-services)"
    return notes
