"""`scan --shard i/n`: which targets one of n cooperating scans takes.

A target belongs to shard `1 + H mod n`, where H is the first 8 bytes (big-endian) of the SHA-256 of the
target's normalized identity (`target_key`: host, port, STARTTLS, SNI, connect-to address) written as
compact JSON. It depends on nothing else (not on Python's randomized `hash`, the order of the list, the
machine or the run), so the n shards of one target list never overlap and together hold every target.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tlsaudit.errors import UsageError
from tlsaudit.models import Target
from tlsaudit.probe.targets import target_key

_SHARD = re.compile(r"^\s*(\d{1,9})\s*/\s*(\d{1,9})\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Shard:
    index: int  # 1..count
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`i/n` with 1 <= i <= n; anything else is a UsageError saying what is expected."""
    match = _SHARD.match(text)
    if match is None:
        raise UsageError(f"--shard {text!r}: expected i/n, e.g. 2/8 (the second of 8 shards)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise UsageError(f"--shard {text!r}: the number of shards must be at least 1")
    if not 1 <= index <= count:
        raise UsageError(f"--shard {text!r}: shards are numbered 1 to {count}")
    return Shard(index=index, count=count)


def shard_number(target: Target, count: int) -> int:
    """The shard (1..count) this target belongs to, the same on every machine and in every run."""
    identity = json.dumps(list(target_key(target)), separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(identity.encode("ascii")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def select_shard(targets: Iterable[Target], shard: Shard) -> list[Target]:
    """The targets of this shard, in their given order."""
    return [t for t in targets if shard_number(t, shard.count) == shard.index]
