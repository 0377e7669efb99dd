"""Find every runtime of the requested kinds and inspect them in parallel."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tlsaudit.inspectors.base import Context, InspectOptions, Inspector
from tlsaudit.inspectors.pq import with_pq_hybrid
from tlsaudit.models import RuntimeFacts
from tlsaudit.runtime_kinds import KINDS

# One inspector per runtime-kind descriptor (tlsaudit/runtime_kinds.py), in the descriptors' order.
INSPECTORS: dict[str, Inspector] = {kind.name: kind.load_inspector() for kind in KINDS}


def make_context(options: InspectOptions) -> Context:
    registry = options.registry
    if registry is None and options.platform == "win32":  # pragma: no cover - only on Windows
        from tlsaudit.inspectors.registry import WinRegistry

        registry = WinRegistry()
    return Context(
        env=dict(os.environ if options.environ is None else options.environ),
        timeout=options.timeout,
        platform=options.platform,
        registry=registry,
        search_system=options.search_system,
    )


def selected_kinds(options: InspectOptions) -> list[str]:
    unknown = [k for k in options.kinds if k not in INSPECTORS]
    if unknown:
        raise ValueError(f"unknown runtime kind(s): {', '.join(unknown)} (known: {', '.join(INSPECTORS)})")
    return [k for k in INSPECTORS if not options.kinds or k in options.kinds]


def discover_runtimes(options: InspectOptions) -> list[tuple[str, Path]]:
    """(kind, target) for every runtime to inspect, in a stable order."""
    ctx = make_context(options)
    kinds = selected_kinds(options)
    with ThreadPoolExecutor(max_workers=max(1, min(options.concurrency, len(kinds) or 1))) as pool:
        found = list(pool.map(lambda k: INSPECTORS[k].discover(ctx, options.extra_paths.get(k, ())), kinds))
    return [(kind, target) for kind, targets in zip(kinds, found, strict=True) for target in targets]


def inspect_runtimes(
    options: InspectOptions, on_runtime: Callable[[RuntimeFacts], None] | None = None
) -> list[RuntimeFacts]:
    """Facts for every runtime found; one that cannot be assessed is listed with `details.inspect_error`.

    `on_runtime` hears of each runtime as soon as it is inspected, so an interrupted run keeps them.
    With `options.services`/`options.processes`, the pins of services and running processes join the
    runtime they run (tlsaudit.pins)."""
    attacher = None
    more = options.search_system  # --no-system-search: pins join the runtimes named, none is added
    if options.services or options.processes:
        from tlsaudit.pins.collect import attacher_for

        attacher = attacher_for(
            options.root, services=options.services, processes=options.processes, kinds=options.kinds
        )
        extra = {k: list(v) for k, v in options.extra_paths.items()}
        for kind, programs in attacher.programs().items() if more else ():
            if kind in INSPECTORS:
                extra.setdefault(kind, []).extend(programs)
        options = dataclasses.replace(
            options, extra_paths=extra, search_system=options.search_system and attacher.fs.is_host
        )
    ctx = make_context(options)
    found = inspect_targets(
        discover_runtimes(options),
        ctx,
        options.concurrency,
        on_runtime,
        attach=attacher.attach if attacher else None,
    )
    if attacher is not None and more:
        leftovers = attacher.leftovers()
        for item in leftovers:
            if on_runtime is not None:
                on_runtime(item)
        found.extend(leftovers)
    return found


def inspect_targets(
    targets: Sequence[tuple[str, Path]],
    ctx: Context,
    concurrency: int = 8,
    on_runtime: Callable[[RuntimeFacts], None] | None = None,
    *,
    attach: Callable[[RuntimeFacts], RuntimeFacts] | None = None,
) -> list[RuntimeFacts]:
    """Facts for runtimes already found (here, or by the fleet collector on another host: then `ctx.host`
    answers from its observations), in the order of `targets`; `attach` adds service and process pins."""
    if not targets:
        return []
    found: dict[int, list[RuntimeFacts]] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        futures = {
            pool.submit(INSPECTORS[kind].inspect, target, ctx): i for i, (kind, target) in enumerate(targets)
        }
        for future in as_completed(futures):
            facts = [with_pq_hybrid(item) for item in future.result()]
            if attach is not None:
                facts = [attach(item) for item in facts]
            found[futures[future]] = facts
            for item in facts:
                if on_runtime is not None:
                    on_runtime(item)
    finally:
        # On Ctrl-C, do not wait for the runs still queued; those under way end at their own timeout.
        pool.shutdown(wait=False, cancel_futures=True)
    return [facts for i in sorted(found) for facts in found[i]]
