"""Installed web browsers (Chromium, Chrome, Edge, Firefox, Firefox ESR): version from the binary, and when
each one gained TLS 1.2 and dropped TLS 1.0/1.1 by default."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tlsaudit.inspectors.base import (
    Context,
    absolute,
    clean_details,
    dedupe,
    failed,
    on_path,
    path_dirs,
)
from tlsaudit.models import FactValue, RuntimeFacts

KIND = "browser"
_BINARY_NAMES = re.compile(
    r"(chromium|chromium-browser|google-chrome(-stable)?|microsoft-edge(-stable)?|msedge|firefox(-esr)?)(\.exe)?"
)
_USUAL_PLACES = (
    "/opt/google/chrome/chrome",
    "/opt/microsoft/msedge/msedge",
    "/usr/lib/firefox-esr/firefox-esr",
    "/usr/lib/firefox/firefox",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BrowserFamily:
    name: str
    pattern: re.Pattern[str]
    engine: str
    tls12_since: int  # first major version with TLS 1.2 on by default
    tls13_since: int
    tls10_off_since: int  # first major version with TLS 1.0/1.1 off by default


FAMILIES = (
    # Chrome 30 (2013) enabled TLS 1.2, Chrome 70 TLS 1.3 (RFC 8446), Chrome 84 removed TLS 1.0/1.1.
    BrowserFamily(
        name="Chromium",
        pattern=re.compile(r"Chromium\s+(\d+(?:\.\d+)+)"),
        engine="Chromium",
        tls12_since=30,
        tls13_since=70,
        tls10_off_since=84,
    ),
    BrowserFamily(
        name="Chrome",
        pattern=re.compile(r"Google Chrome\s+(\d+(?:\.\d+)+)"),
        engine="Chromium",
        tls12_since=30,
        tls13_since=70,
        tls10_off_since=84,
    ),
    # Edge (Chromium) follows Chrome: TLS 1.0/1.1 off from 84.
    BrowserFamily(
        name="Edge",
        pattern=re.compile(r"Microsoft Edge\s+(\d+(?:\.\d+)+)"),
        engine="Chromium",
        tls12_since=79,
        tls13_since=79,
        tls10_off_since=84,
    ),
    # Firefox 27 enabled TLS 1.2, 63 TLS 1.3, 78 disabled TLS 1.0/1.1.
    BrowserFamily(
        name="Firefox",
        pattern=re.compile(r"Mozilla Firefox\s+(\d+(?:\.\d+)+)(esr)?"),
        engine="Gecko",
        tls12_since=27,
        tls13_since=63,
        tls10_off_since=78,
    ),
)


def parse_browser_version(text: str) -> tuple[BrowserFamily, str, bool] | None:
    """(family, version, esr) from `BINARY --version`, or None when it names no known browser."""
    for family in FAMILIES:
        match = family.pattern.search(text)
        if match:
            esr = bool(match.lastindex and match.lastindex >= 2 and match.group(2))
            return family, match.group(1), esr
    return None


def browser_details(family: BrowserFamily, version: str, esr: bool) -> dict[str, FactValue]:
    major = int(version.split(".", maxsplit=1)[0])
    details: dict[str, FactValue] = {
        "browser": family.name + (" ESR" if esr else ""),
        "engine": family.engine,
        "tls12_by_default": major >= family.tls12_since,
        "tls13_by_default": major >= family.tls13_since,
        "tls10_11_disabled": major >= family.tls10_off_since,
        "tls10_11_disabled_since": f"{family.name} {family.tls10_off_since}",
    }
    return clean_details(details)


_EXEC_LINE = re.compile(r"^\s*exec\s+\"?([A-Za-z0-9_./+-]+)\"?(?:\s|$)", re.MULTILINE)
_SCRIPT_LIMIT = 16384


def launcher_target(script: Path, env: Mapping[str, str]) -> Path | None:
    """The browser a small launcher script finally runs (Debian's /usr/bin/firefox ends in
    `exec firefox-esr "$@"`), or None for a program that is no such script."""
    try:
        with script.open("rb") as handle:
            head = handle.read(_SCRIPT_LIMIT + 1)
    except OSError:
        return None
    if not head.startswith(b"#!") or len(head) > _SCRIPT_LIMIT:
        return None
    words = _EXEC_LINE.findall(head.decode("utf-8", "replace"))
    if not words:
        return None
    word = words[-1]  # the last exec: what runs when nothing before it did
    if "/" in word:
        return Path(word) if Path(word).is_absolute() else None
    found = shutil.which(word, path=os.pathsep.join(str(d) for d in path_dirs(env)) or None)
    return Path(found) if found else None


def without_launchers(paths: Sequence[Path], env: Mapping[str, str]) -> list[Path]:
    """Leave out launcher scripts that only start another browser in the list, so that one installed
    browser is listed once (Debian: /usr/bin/firefox runs firefox-esr). A launcher that would run a
    program of its own first (`firefox.real` next to it) is kept."""
    resolved = {}
    for path in paths:
        try:
            resolved[path] = path.resolve()
        except OSError:
            resolved[path] = path
    kept = []
    for path in paths:
        target = launcher_target(path, env)
        own_program = Path(f"{path}.real").exists()
        others = {resolved[p] for p in paths if p != path}
        if target is not None and not own_program and _resolve(target) in others:
            continue
        kept.append(path)
    return kept


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


class BrowserInspector:
    kind = KIND

    def discover(self, ctx: Context, extra: Sequence[str | Path]) -> list[Path]:
        found = absolute(extra)
        if ctx.search_system:
            found += on_path(ctx.env, _BINARY_NAMES)
            found += [Path(p) for p in _USUAL_PLACES if Path(p).is_file()]
        return without_launchers(dedupe(found), ctx.env)

    def inspect(self, target: Path, ctx: Context) -> list[RuntimeFacts]:
        result = ctx.run([str(target), "--version"])
        parsed = parse_browser_version(result.evidence.stdout + "\n" + result.evidence.stderr)
        if parsed is None:
            return [
                failed(KIND, target, f"{target.name} --version names no known browser", [result.evidence])
            ]
        family, version, esr = parsed
        return [
            RuntimeFacts(
                kind=KIND,
                path=str(target),
                version=version,
                details=browser_details(family, version, esr),
                evidence=(result.evidence,),
            )
        ]
