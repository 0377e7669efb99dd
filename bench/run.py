"""Entry point: `python bench/run.py [--help]` from the repository root (or anywhere)."""

from __future__ import annotations

import sys
from pathlib import Path


def _main() -> int:
    here = Path(__file__).resolve().parent
    repo = here.parent
    if sys.path and Path(sys.path[0] or ".").resolve() == here:
        sys.path.pop(0)  # bench/ itself must not shadow top-level modules
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    try:
        from bench.main import main
    except ModuleNotFoundError as exc:  # e.g. a bare system python without cryptography
        print(
            f"bench: {exc}; run it with the project's environment: "
            "make bench, or .venv/bin/python bench/run.py",
            file=sys.stderr,
        )
        return 2
    return main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(_main())
