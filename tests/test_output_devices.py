"""`-o /dev/null` (or any device) is written through, never replaced by a regular file."""

from __future__ import annotations

import stat
from pathlib import Path

from tlsaudit.formats import write_atomic


def test_output_to_a_device_writes_through_it_and_never_replaces_it() -> None:
    write_atomic(Path("/dev/null"), "{}\n")
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)
