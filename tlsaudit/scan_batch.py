"""What one `scan` run takes on at scale: its shard of the targets, minus what a resumed JSONL stream
already holds, and the JSONL outputs its endpoints are streamed to as they finish."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tlsaudit.endpoint_lines import EndpointLines, read_endpoint_lines
from tlsaudit.errors import UsageError
from tlsaudit.formats.jsonl import STDOUT, EndpointStream
from tlsaudit.models import EndpointFacts, Target
from tlsaudit.probe.resume import Identity, plan_resume, target_identity
from tlsaudit.probe.shard import Shard, select_shard

JSONL = "jsonl"


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    targets: list[Target]
    resumed: list[EndpointFacts] = field(default_factory=list)
    done: frozenset[tuple[Identity, str]] = frozenset()
    streamed: tuple[str, ...] = ()  # outputs written line by line while scanning (JSONL)
    append_to: str | None = None  # the output that continues the resumed stream
    keep: int | None = None  # bytes of that stream up to its last complete line
    notes: tuple[str, ...] = ()

    def skip(self, target: Target, ip: str) -> bool:
        return (target_identity(target), ip) in self.done

    @contextlib.contextmanager
    def open_streams(self) -> Iterator[list[EndpointStream]]:
        with contextlib.ExitStack() as stack:
            yield [
                stack.enter_context(
                    EndpointStream(out, append=True, keep=self.keep)
                    if out == self.append_to
                    else EndpointStream(out)
                )
                for out in self.streamed
            ]


def _same_file(a: str, b: str) -> bool:
    return a != STDOUT and Path(a).resolve() == Path(b).resolve()


def plan_batch(
    targets: Sequence[Target], *, shard: Shard | None, resume: str | None, outputs: Sequence[tuple[str, str]]
) -> Batch:
    """`outputs`: (output, format) as planned from -o/--format; the JSONL ones are streamed."""
    notes: list[str] = []
    selected = list(targets)
    if shard is not None:
        selected = select_shard(targets, shard)
        if not selected:
            notes.append(f"shard {shard} holds none of the {len(targets)} targets")
    streamed = tuple(dict.fromkeys(out for out, fmt in outputs if fmt == JSONL))
    if resume is None:
        return Batch(targets=selected, streamed=streamed, notes=tuple(notes))
    path = Path(resume)
    lines = read_endpoint_lines(path) if path.exists() else EndpointLines(source=resume, endpoints=())
    if lines.incomplete_line is not None:
        notes.append(f"{resume}:{lines.incomplete_line}: a line cut short (a killed run) is ignored")
    plan = plan_resume(selected, [item for _, item in lines.endpoints])
    continued = [out for out, _ in outputs if _same_file(out, resume)]
    if any(fmt != JSONL for out, fmt in outputs if out in continued):
        raise UsageError(f"--resume {resume} is also an output: it can only be continued as jsonl")
    return Batch(
        targets=plan.targets,
        resumed=plan.resumed,
        done=plan.done,
        streamed=streamed,
        append_to=continued[0] if continued else None,
        keep=lines.complete_size,
        notes=tuple(notes),
    )
