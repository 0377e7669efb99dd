"""A fleet host's observations (the collector's JSON) as a Host the inspectors can question.

The collector ran the programs and read the files; ObservedHost answers an inspector's `run`, `is_file`,
`read_text` and `glob` from that record, so the inspectors turn a fleet host's observations into exactly the
facts they would have produced on the host itself. A question the collector did not record is answered as a
program that could not run (naming the collector) or a file that does not exist: a gap between the collector
and the inspectors shows up as a runtime that was not assessed, never as a made-up fact.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from tlsaudit.inspectors.base import Context, failed
from tlsaudit.inspectors.browser import browser_details, parse_browser_version
from tlsaudit.inspectors.discover import INSPECTORS, inspect_targets
from tlsaudit.inspectors.process import DEFAULT_TIMEOUT, RunResult, finished, not_started
from tlsaudit.inspectors.registry import RecordedRegistry, RegistryValue
from tlsaudit.models import Evidence, RuntimeFacts

FORMAT = "tlsaudit-collector"


class ObservationError(ValueError):
    """The collector's document is not one this controller can read."""


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class ObservedHost:
    def __init__(self, observations: Mapping[str, Any]) -> None:
        runs = observations.get("runs", [])
        self._runs: dict[tuple[str, ...], Mapping[str, Any]] = {
            tuple(_strings(r.get("key"))): r for r in runs if isinstance(r, dict)
        }
        files = observations.get("files", {})
        self._files: Mapping[str, Any] = files if isinstance(files, dict) else {}
        globs = observations.get("globs", {})
        self._globs: Mapping[str, Any] = globs if isinstance(globs, dict) else {}

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        timeout: float = DEFAULT_TIMEOUT,
        note: str = "",
        files: Mapping[str, bytes] | None = None,
    ) -> RunResult:
        record = self._runs.get(tuple(argv))
        if record is None:
            return not_started(argv, f"{argv[0]}: not run by the fleet collector", note)
        real = _strings(record.get("argv")) or list(argv)
        failure = record.get("failure") if isinstance(record.get("failure"), str) else None
        if not record.get("started"):
            return not_started(real, failure or f"{argv[0]}: not started", note)
        code = record.get("exit_code")
        stdout, stderr = record.get("stdout"), record.get("stderr")
        return finished(
            real,
            exit_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            stdout=stdout if isinstance(stdout, str) else "",
            stderr=stderr if isinstance(stderr, str) else "",
            failure=failure,
            truncated=_strings(record.get("truncated")),
            note=note,
        )

    def _entry(self, path: Path) -> Mapping[str, Any]:
        entry = self._files.get(str(path))
        return entry if isinstance(entry, dict) else {"type": "missing"}

    def is_file(self, path: Path) -> bool:
        return self._entry(path).get("type") == "file"

    def is_dir(self, path: Path) -> bool:
        return self._entry(path).get("type") == "dir"

    def read_text(self, path: Path) -> str:
        entry = self._entry(path)
        error = entry.get("error")
        if isinstance(error, dict):
            number = error.get("errno")
            raise OSError(
                number if isinstance(number, int) else errno.EIO, str(error.get("strerror", "")), str(path)
            )
        text = entry.get("text")
        if entry.get("type") != "file" or not isinstance(text, str):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        return text

    def glob(self, directory: Path, pattern: str) -> list[Path]:
        return [
            directory / n for n in _strings(self._entry(directory).get("entries")) if fnmatchcase(n, pattern)
        ]

    def glob_all(self, patterns: Sequence[str]) -> list[Path]:
        return [Path(p) for pattern in patterns for p in _strings(self._globs.get(pattern))]


def check_observations(document: object) -> Mapping[str, Any]:
    """The collector's document, or ObservationError saying why it is not one."""
    if not isinstance(document, dict):
        raise ObservationError("the collector's output is not a JSON object")
    if document.get("format") != FORMAT:
        raise ObservationError(f"not a tlsaudit collector document (format {document.get('format')!r})")
    if document.get("format_version") != 1:
        raise ObservationError(f"collector format_version {document.get('format_version')!r} is not 1")
    if not isinstance(document.get("targets"), list):
        raise ObservationError("the collector's document has no targets list")
    return document


def registry_of(document: Mapping[str, Any]) -> RecordedRegistry | None:
    """The registry values a Windows collector recorded: {"64": {key: {name: value}}, "32": {...}}."""
    views = document.get("registry")
    if not isinstance(views, dict):
        return None
    clean: dict[str, dict[str, dict[str, RegistryValue]]] = {}
    for view, keys in views.items():
        if not isinstance(keys, dict):
            continue
        clean[str(view)] = {
            str(path): {
                str(n): v for n, v in values.items() if isinstance(v, int | str) and not isinstance(v, bool)
            }
            for path, values in keys.items()
            if isinstance(values, dict)
        }
    return RecordedRegistry(clean)


def windows_browsers(document: Mapping[str, Any]) -> list[RuntimeFacts]:
    """Browsers the Windows collector found, from their file versions (a Windows browser prints no
    `--version`): the same facts the browser inspector gives for that browser and version."""
    out: list[RuntimeFacts] = []
    for item in document.get("browsers", []):
        if not isinstance(item, dict):
            continue
        name, path, version = item.get("name"), item.get("path"), item.get("version")
        if not (isinstance(name, str) and isinstance(path, str) and isinstance(version, str)):
            continue
        shown = f"{name} {version}"
        evidence = Evidence(argv=(), exit_code=None, stdout=shown, note=f"file version of {path}")
        parsed = parse_browser_version(shown)
        if parsed is None:
            out.append(failed("browser", path, f"{shown}: not a known browser or version", [evidence]))
            continue
        family, number, esr = parsed
        out.append(
            RuntimeFacts(
                kind="browser",
                path=path,
                version=number,
                details=browser_details(family, number, esr),
                evidence=(evidence,),
            )
        )
    return out


def runtimes_from_observations(document: Mapping[str, Any], host: str = "") -> list[RuntimeFacts]:
    """The facts the inspectors give for what the collector observed on a host; `host` names it in each
    runtime's subject."""
    env = document.get("env", {})
    platform = document.get("platform")
    ctx = Context(
        env={str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {},
        timeout=DEFAULT_TIMEOUT,
        platform=platform if isinstance(platform, str) else "linux",
        registry=registry_of(document),
        search_system=False,
        host=ObservedHost(document),
    )
    targets = [
        (t["kind"], Path(t["path"]))
        for t in document.get("targets", [])
        if isinstance(t, dict) and t.get("kind") in INSPECTORS and isinstance(t.get("path"), str)
    ]
    facts = inspect_targets(targets, ctx) + windows_browsers(document)
    return [dataclasses.replace(f, host=host) for f in facts] if host else facts
