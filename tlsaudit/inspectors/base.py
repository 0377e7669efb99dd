"""What every inspector shares: options, the run context, the Inspector shape and small helpers."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tlsaudit.inspectors.host import LOCAL, Host
from tlsaudit.inspectors.process import DEFAULT_TIMEOUT, RunResult
from tlsaudit.inspectors.registry import RegistryReader
from tlsaudit.models import Evidence, FactValue, RuntimeFacts

JSON_MARKER = "TLSAUDIT-JSON:"


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectOptions:
    """What `inspect_runtimes` looks at and how.

    kinds: the kinds to inspect (keys of INSPECTORS); empty means all.
    extra_paths: per kind, more places to inspect: a php/python/node/curl/openssl/dotnet binary, or for java a
        JAVA_HOME directory or a java binary (`--php PATH`, `--java-home PATH`).
    search_system: also look in the usual places (PATH, /usr/lib/jvm, ...); False inspects only extra_paths.
    environ: the environment the runtimes run with (pins in JAVA_TOOL_OPTIONS, OPENSSL_CONF, ...); None means
        this process's environment.
    """

    kinds: tuple[str, ...] = ()
    extra_paths: Mapping[str, Sequence[str | Path]] = field(default_factory=dict)
    search_system: bool = True
    environ: Mapping[str, str] | None = None
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = 8
    registry: RegistryReader | None = None
    platform: str = sys.platform
    # pins where they live (tlsaudit.pins): service files under `root`, running processes (root "/" only);
    # a root other than "/" is an image or a mounted disk: nothing of this machine is searched or run
    root: str = "/"
    services: bool = False
    processes: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    env: Mapping[str, str]
    timeout: float
    platform: str
    registry: RegistryReader | None
    search_system: bool
    host: Host = LOCAL  # where programs run and files are read (a fleet host's observations, or here)

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        note: str = "",
        files: Mapping[str, bytes] | None = None,
    ) -> RunResult:
        return self.host.run(
            argv, env=self.env if env is None else env, timeout=self.timeout, note=note, files=files
        )


class Inspector(Protocol):
    kind: str

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        """Programs (or homes) to inspect, extra ones first, de-duplicated."""
        ...

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        """Facts for one target; failures become RuntimeFacts with `inspect_error`, never exceptions."""
        ...


def failed(kind: str, path: Path | str, reason: str, evidence: Sequence[Evidence] = ()) -> RuntimeFacts:
    """A runtime that could not be assessed: readiness `unknown` with the reason."""
    return RuntimeFacts(
        kind=kind,
        path=str(path),
        version=None,
        details={"inspect_error": reason},
        evidence=tuple(evidence),
        errors=(reason,),
    )


def failure_reason(result: RunResult, what: str) -> str:
    if result.failure:
        return f"{what}: {result.failure}"
    tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
    return f"{what}: exit code {result.evidence.exit_code}: {tail[0][:200]}"


def json_payload(text: str) -> dict[str, Any] | None:
    """The JSON object our snippets print after JSON_MARKER; None when absent or not an object."""
    for line in text.splitlines():
        if line.startswith(JSON_MARKER):
            try:
                value = json.loads(line[len(JSON_MARKER) :])
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def text_or_none(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def str_tuple(value: object) -> tuple[str, ...] | None:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str | int))
    return None


def clean_details(details: Mapping[str, FactValue]) -> dict[str, FactValue]:
    """Drop unknown (None) details: an absent key is an unknown fact."""
    return {k: v for k, v in details.items() if v is not None}


def dedupe(paths: Sequence[Path]) -> list[Path]:
    """Keep the first of paths that resolve to the same file."""
    seen: set[str] = set()
    out: list[Path] = []
    for path in paths:
        try:
            key = str(path.resolve())
        except OSError:
            key = str(path)
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def absolute(paths: Sequence[str | Path]) -> list[Path]:
    return [Path(os.path.abspath(os.path.expanduser(str(p)))) for p in paths]


def path_dirs(env: Mapping[str, str]) -> list[Path]:
    """Absolute PATH entries only: an empty or relative entry would mean the current directory."""
    return [Path(p) for p in env.get("PATH", "").split(os.pathsep) if p and os.path.isabs(p)]


def is_shim(path: Path) -> bool:
    """Version-manager shims (pyenv, rbenv, asdf) are scripts that pick another binary: not a runtime."""
    parts = {p.lower() for p in path.parts}
    return "shims" in parts


def executables(directories: Sequence[Path], pattern: re.Pattern[str]) -> list[Path]:
    """Executable files whose name matches `pattern`, in each directory, sorted by name."""
    found: list[Path] = []
    for directory in directories:
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            continue
        for entry in entries:
            if pattern.fullmatch(entry.name) and entry.is_file() and os.access(entry, os.X_OK):
                found.append(entry)
    return found


def glob_all(patterns: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for pattern in patterns:
        anchor = Path(pattern).anchor or "/"
        out.extend(sorted(Path(anchor).glob(pattern[len(anchor) :])))
    return out


def on_path(env: Mapping[str, str], pattern: re.Pattern[str]) -> list[Path]:
    """Programs whose name matches `pattern` on PATH and in the usual bin folders (version-manager shims
    left out: they are not the runtime itself)."""
    dirs = [*path_dirs(env), Path("/usr/bin"), Path("/usr/local/bin")]
    return [p for p in executables(dirs, pattern) if not is_shim(p)]


def snippet_payload(result: RunResult, what: str) -> tuple[dict[str, Any] | None, str]:
    """The JSON object a snippet printed, or None and why not (`what` names the command, e.g. "php -r")."""
    if not result.ok:
        return None, failure_reason(result, what)
    payload = json_payload(result.stdout)
    return (payload, "") if payload is not None else (None, f"{what}: unrecognised output")
